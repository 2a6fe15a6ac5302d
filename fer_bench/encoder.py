"""The frozen-encoder interface.

An encoder is metadata (:class:`EncoderInfo`, cheap: no weights touched) plus one sealed
entry point, :meth:`Encoder.embed`, which takes uint8 images and *always* applies the
encoder's own preprocessing before the inner forward. Subclasses implement only
:meth:`Encoder.build` (construct + load weights) and :meth:`Encoder.forward_features`.
Weights are loaded lazily on the first ``embed`` so that a feature-cache hit, an
``--overwrite never`` skip or ``describe`` never loads them.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """Everything that turns a uint8 face crop into the network's input tensor.

    Recorded in the feature key: change any field and cached features are recomputed.
    """
    input_size: int = 112
    channels: str = "rgb"            # "rgb", "bgr" (e.g. OpenCV-trained checkpoints) or "grey"
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    resize: str = "bilinear-antialias"  # torch interpolate mode, antialiased

    def apply(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W), C in {1, 3} -> float32 (N, C', S, S), normalised."""
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected uint8 images (N, 1|3, H, W), got {images.dtype} "
                             f"{tuple(images.shape)}")
        x = images.float().div_(255.0)
        if self.channels == "grey":
            if x.shape[1] == 3:  # ITU-R 601 luma, as PIL's convert("L")
                w = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
                x = (x * w).sum(1, keepdim=True)
        else:
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            if self.channels == "bgr":
                x = x.flip(1)
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False, antialias=True)
        mean = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        return (x - mean) / std


@dataclass(frozen=True)
class EncoderInfo:
    name: str
    revision: str
    embed_dim: int
    preprocessing: Preprocessing
    layer: str                         # which activation is the feature, e.g. "avgpool"
    weights_digest: str = "none"       # sha256 of the weights file; "none" for weightless
    # Pre-training data (for overlap / leakage flags): dataset names or image families
    # ("fer2013-images", "synth-wild", "imagenet", ...).
    pretrained_on: tuple[str, ...] = ()
    # Canonical expression names the pre-training labels covered (unseen-expression
    # protocols probe everything outside this set). Empty = self-supervised / no labels.
    pretrain_classes: tuple[str, ...] = ()
    licence: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["preprocessing"] = asdict(self.preprocessing)
        return d


class Encoder:
    """Base class of every fer-bench encoder. Subclass and implement ``build`` and
    ``forward_features``; never override ``embed``."""

    info: EncoderInfo

    def __init__(self, info: EncoderInfo, device: str | torch.device = "cpu"):
        self.info = info
        self.device = torch.device(device)
        self._model: torch.nn.Module | None = None

    # -- to implement --------------------------------------------------------------
    def build(self) -> torch.nn.Module:
        """Construct the network and load its weights (weights_only=True)."""
        raise NotImplementedError

    def forward_features(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed float input (N, C, S, S) -> features (N, D)."""
        return model(x)

    # -- sealed ----------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            model = self.build().to(self.device).eval()
            for p in model.parameters():
                p.requires_grad_(False)
            if self.device.type == "cuda":
                model = model.to(memory_format=torch.channels_last)
            self._model = model
        return self._model

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, C, H, W) -> float32 features (N, embed_dim), on the CPU."""
        model = self.model
        model.eval()  # a subclass must not be able to leave it in train mode
        x = self.info.preprocessing.apply(images.to(self.device, non_blocking=True))
        if self.device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            out = self.forward_features(model, x)
        out = out.float().reshape(out.shape[0], -1).cpu()
        if out.shape[1] != self.info.embed_dim:
            raise RuntimeError(f"encoder {self.info.name!r} returned {out.shape[1]}-d features, "
                               f"its metadata declares {self.info.embed_dim}")
        if not torch.isfinite(out).all():
            bad = int((~torch.isfinite(out)).any(1).sum())
            raise FloatingPointError(f"encoder {self.info.name!r} (revision "
                                     f"{self.info.revision}) produced non-finite features for "
                                     f"{bad} of {out.shape[0]} images")
        return out


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
