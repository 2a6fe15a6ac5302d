"""What turns a uint8 face crop into a network's input: resize, channel order, normalisation.

:class:`Preprocessing` is part of an encoder's metadata (and so of the feature key), but
it is pixel arithmetic, used without an encoder too: the image loader runs its integer
stage in DataLoader workers. The encoder's public module, :mod:`fer_bench.encoder`,
re-exports it for encoder authors.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


CHANNEL_ORDERS = ("rgb", "bgr", "grey")
# Resize modes: torch interpolate modes; "-antialias" low-pass filters when shrinking (as
# PIL does), "area" averages pixel blocks (adaptive average pooling).
RESIZE_MODES = ("bilinear-antialias", "bicubic-antialias", "area")


@dataclass(frozen=True)
class Preprocessing:
    """Everything that turns a uint8 face crop into the network's input tensor.

    Recorded in the feature key: change any field and cached features are recomputed.
    """
    input_size: int = 112
    channels: str = "rgb"            # "rgb", "bgr" (e.g. OpenCV-trained checkpoints) or "grey"
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    resize: str = "bilinear-antialias"

    def __post_init__(self) -> None:
        # Lists from JSON headers become tuples, so that equal specs compare and hash equal.
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if self.channels not in CHANNEL_ORDERS:
            raise ValueError(f"Preprocessing.channels must be one of {CHANNEL_ORDERS}, "
                             f"got {self.channels!r}")
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"Preprocessing.resize must be one of {RESIZE_MODES}, "
                             f"got {self.resize!r}")
        if not (isinstance(self.input_size, int) and self.input_size > 0):
            raise ValueError(f"Preprocessing.input_size must be a positive int, "
                             f"got {self.input_size!r}")
        n = 1 if self.channels == "grey" else 3
        if len(self.mean) != n or len(self.std) != n:
            raise ValueError(f"Preprocessing for {self.channels!r} input needs {n} mean and "
                             f"std values, got mean={self.mean} std={self.std}")
        if any(v <= 0 for v in self.std):
            raise ValueError(f"Preprocessing.std must be positive, got {self.std}")

    @property
    def in_channels(self) -> int:
        return 1 if self.channels == "grey" else 3

    def resize_uint8(self, images: torch.Tensor) -> torch.Tensor:
        """The integer stage: uint8 (N, C, H, W) or (C, H, W), C in {1, 3} -> uint8 at
        ``input_size`` with the network's channel count (1 for grey, else 3, still RGB).

        Image loaders run this in their workers so that images of any size batch together;
        :meth:`apply` runs it too and it is idempotent, so embedding a raw image and
        embedding its loader output give identical features.
        """
        single = images.ndim == 3
        x = images.unsqueeze(0) if single else images
        if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected uint8 images (N, 1|3, H, W), got {images.dtype} "
                             f"{tuple(images.shape)}")
        if self.channels == "grey" and x.shape[1] == 3:
            # ITU-R 601 luma in PIL's fixed-point arithmetic: equals Image.convert("L")
            r, g, b = x.int().unbind(1)
            x = ((r * 19595 + g * 38470 + b * 7471 + 32768) >> 16).unsqueeze(1).to(torch.uint8)
        if x.shape[-2:] != (self.input_size, self.input_size):
            # float resize then round: the same on CPU and GPU (uint8 interpolate is CPU-only)
            size = (self.input_size, self.input_size)
            if self.resize == "area":
                x = F.interpolate(x.float(), size=size, mode="area")
            else:
                x = F.interpolate(x.float(), size=size, mode=self.resize.split("-")[0],
                                  align_corners=False, antialias=True)
            x = x.round_().clamp_(0, 255).to(torch.uint8)
        if self.channels != "grey" and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return x[0] if single else x

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W), C in {1, 3} -> float32 (N, C', S, S), normalised."""
        if images.ndim != 4:  # a batch, always: (C, H, W) would pass as C images
            raise ValueError(f"expected uint8 images (N, 1|3, H, W), got {images.dtype} "
                             f"{tuple(images.shape)}")
        x = self.resize_uint8(images).float().div_(255.0)
        if self.channels == "bgr":
            x = x.flip(1)
        mean = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        return (x - mean) / std

    def to_dict(self) -> dict:
        return asdict(self)
