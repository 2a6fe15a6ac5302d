"""The frozen-encoder interface.

An encoder is metadata (:class:`EncoderInfo`, cheap: no weights touched) plus one sealed
entry point, :meth:`Encoder.embed`, which takes uint8 images and *always* applies the
encoder's own preprocessing before the inner forward. Subclasses implement only
:meth:`Encoder.build` (construct + load weights) and :meth:`Encoder.forward_features`.
Weights are loaded lazily on the first ``embed`` so that a feature-cache hit, an
``--overwrite never`` skip or ``describe`` never loads them.
"""
from __future__ import annotations

import contextlib
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

# The plug-in API: encoder authors import all of it from here.
from fer_bench.images.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing

__all__ = ["CHANNELS_LAST_DEVICES", "IMAGENET_MEAN", "IMAGENET_STD", "PRECISIONS", "Encoder",
           "EncoderInfo", "Preprocessing", "file_digest"]

# NHWC convolutions: faster on CUDA and with oneDNN on CPUs too (ResNet-18 at 112 px on
# this project's 2-core x86 CI box: ~1.3x, see scripts/bench_extract.py). Always on there,
# so it is part of what fp32 features mean (NCHW gives other last bits on the CPU).
CHANNELS_LAST_DEVICES = ("cuda", "cpu")

# Arithmetic of the forward pass: "fp32", or "bf16" autocast (opt-in, for speed on GPUs;
# other features than fp32's, so the feature store keys them apart). Features come out
# as float32 either way.
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class EncoderInfo:
    name: str
    revision: str
    embed_dim: int
    preprocessing: Preprocessing
    layer: str                         # which activation is the feature, e.g. "avgpool"
    weights_digest: str = "none"       # sha256 of the weights file; "none" for weightless
    # Pre-training data (for overlap / leakage flags): dataset names or image families
    # ("fer2013-images", "synth-wild", "imagenet", ...), each bare (every split) or as
    # NAME/SPLIT ("ferplus/train"): then scoring another split is no overlap.
    pretrained_on: tuple[str, ...] = ()
    # Canonical expression names the pre-training labels covered (unseen-expression
    # protocols probe everything outside this set). Empty = self-supervised / no labels.
    pretrain_classes: tuple[str, ...] = ()
    licence: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attr in ("name", "revision", "layer", "weights_digest"):
            if not (isinstance(getattr(self, attr), str) and getattr(self, attr)):
                raise ValueError(f"EncoderInfo.{attr} must be a non-empty string, "
                                 f"got {getattr(self, attr)!r}")
        if not (isinstance(self.embed_dim, int) and self.embed_dim > 0):
            raise ValueError(f"EncoderInfo.embed_dim of {self.name!r} must be a positive int, "
                             f"got {self.embed_dim!r}")
        if not isinstance(self.preprocessing, Preprocessing):
            raise TypeError(f"EncoderInfo.preprocessing of {self.name!r} must be a "
                            f"Preprocessing, got {type(self.preprocessing).__name__}")
        # Lists (e.g. from a weights header) become tuples: the info stays hashable-ish
        # and compares equal however it was built.
        object.__setattr__(self, "pretrained_on", tuple(self.pretrained_on))
        object.__setattr__(self, "pretrain_classes", tuple(self.pretrain_classes))

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
    def precision(self) -> str:
        """The forward pass's arithmetic, one of :data:`PRECISIONS` (default "fp32")."""
        return getattr(self, "_precision", "fp32")

    @precision.setter
    def precision(self, value: str) -> None:
        if value not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {value!r}")
        self._precision = value

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            model = self.build().to(self.device).eval()
            for p in model.parameters():
                p.requires_grad_(False)
            if self.device.type in CHANNELS_LAST_DEVICES:
                model = model.to(memory_format=torch.channels_last)
            self._model = model
        return self._model

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, C, H, W) -> float32 features (N, embed_dim), on the CPU; the
        forward pass in :attr:`precision` (preprocessing always in float32)."""
        model = self.model
        model.eval()  # a subclass must not be able to leave it in train mode
        with torch.inference_mode():
            x = self.info.preprocessing.apply(images.to(self.device, non_blocking=True))
            if self.device.type in CHANNELS_LAST_DEVICES:
                x = x.contiguous(memory_format=torch.channels_last)
            with self._autocast():
                out = self.forward_features(model, x)
        n = images.shape[0]
        if out.ndim < 1 or out.shape[0] != n or out[0].numel() != self.info.embed_dim:
            raise RuntimeError(f"encoder {self.info.name!r} (revision {self.info.revision}) "
                               f"returned features of shape {tuple(out.shape)} for {n} images; "
                               f"its metadata declares {self.info.embed_dim}-d features")
        out = out.float().reshape(n, -1).cpu()
        if out.is_inference():  # callers may modify features in place (e.g. normalise)
            out = out.clone()
        if not torch.isfinite(out).all():
            bad = int((~torch.isfinite(out)).any(1).sum())
            raise FloatingPointError(f"encoder {self.info.name!r} (revision "
                                     f"{self.info.revision}) produced non-finite features for "
                                     f"{bad} of {n} images")
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.info.name!r}, revision={self.info.revision!r}, "
                f"device={str(self.device)!r}, loaded={self.loaded})")


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
