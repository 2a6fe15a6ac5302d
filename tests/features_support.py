"""A tiny encoder and a tiny PNG dataset for the feature-store and loader tests.

Importable from subprocesses too (tests put this folder on PYTHONPATH), so the crash,
concurrency and torchrun tests run the same code as the in-process ones.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torchvision.io import write_png

from fer_bench.datasets.base import Dataset
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing

TESTS_DIR = Path(__file__).resolve().parent


class TinyEncoder(Encoder):
    """2x2 average pool + a seeded linear map: cheap, deterministic, any channel count.

    ``sleep``: seconds per batch (to be killed mid-run); ``nan_from_batch``: batches from
    this one on come out NaN; ``builds`` counts weight loads in this process.
    """
    builds = 0

    def __init__(self, device="cpu", *, dim=8, size=16, channels="rgb", revision="1",
                 weights_digest="none", sleep=0.0, nan_from_batch=None):
        n = 1 if channels == "grey" else 3
        pre = Preprocessing(input_size=size, channels=channels, mean=(0.5,) * n,
                            std=(0.25,) * n)
        super().__init__(EncoderInfo(name="tiny", revision=revision, embed_dim=dim,
                                     preprocessing=pre, layer="pool",
                                     weights_digest=weights_digest), device)
        self.sleep, self.nan_from_batch, self.batches = sleep, nan_from_batch, 0

    def build(self) -> torch.nn.Module:
        TinyEncoder.builds += 1
        gen = torch.Generator().manual_seed(0)
        c = self.info.preprocessing.in_channels
        lin = torch.nn.Linear(c * 4, self.info.embed_dim)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen))
            lin.bias.zero_()
        return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), lin)

    def forward_features(self, model, x):
        self.batches += 1
        if self.sleep:
            time.sleep(self.sleep)
        out = model(x)
        if self.nan_from_batch is not None and self.batches > self.nan_from_batch:
            out = torch.full_like(out, float("nan"))
        return out


def tiny_encoder(weights=None, device="cpu", **options) -> TinyEncoder:
    """Factory for ``--encoder features_support:tiny_encoder``."""
    return TinyEncoder(device, **options)


def write_images(root: Path, n: int, seed: int = 0) -> None:
    """n PNGs of varying size and channel count (every fifth one grey)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = 1 if i % 5 == 4 else 3
        h, w = int(rng.integers(20, 40)), int(rng.integers(20, 40))
        pixels = torch.from_numpy(rng.integers(0, 256, (c, h, w), dtype=np.uint8))
        write_png(pixels, str(root / f"img{i:04d}.png"))


def png_dataset(root: Path, name: str = "tiny-pngs") -> Dataset:
    """The PNGs in ``root`` as a dataset: labels cycle, the first 3/4 are train."""
    paths = sorted(p.name for p in Path(root).glob("*.png"))
    n = len(paths)
    manifest = pd.DataFrame({
        "id": [f"s{i:04d}" for i in range(n)],
        "path": paths,
        "label": [("happiness", "sadness", "neutral")[i % 3] for i in range(n)],
        "split": ["train" if i < 3 * n // 4 else "test" for i in range(n)],
        "subject": [f"p{i % 4}" for i in range(n)],
    })
    return Dataset(name=name, root=Path(root), classes=("happiness", "sadness", "neutral"),
                   manifest=manifest)
