"""Generated presets as :class:`~fer_bench.datasets.base.Dataset` objects."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.synth.generate import MANIFEST, ensure_generated
from fer_bench.synth.preset_config import PRESETS

_TEXT_COLUMNS = ("id", "path", "label", "split", "subject", "coarse", "facs", "sequence",
                 "occluder", "background", "preset")


class SynthDataset(Dataset):
    """A generated preset; its pixels are fixed by generator version, seed, n and size."""

    def pixel_identity(self) -> dict:
        keys = ("generator", "generator_version", "preset", "seed", "n", "size")
        return {k: self.info[k] for k in keys if k in self.info}


def read_manifest(folder: Path) -> pd.DataFrame:
    path = folder / MANIFEST
    try:
        df = pd.read_csv(path, dtype={c: str for c in _TEXT_COLUMNS}, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as e:
        raise DatasetError(f"cannot read generated manifest {path}: {e}; delete {folder} to "
                           f"regenerate it") from None
    return df


def load_generated(preset: str, n: int | str | None = None, seed: int | str = 0,
                   size: int | str = 112, workers: int | str | None = None) -> SynthDataset:
    """Load (generating on first use) a preset; option values may be strings from specs."""
    if preset not in PRESETS:
        raise DatasetError(f"unknown generated preset {preset!r}; known: {', '.join(PRESETS)}")
    cfg = PRESETS[preset]
    try:
        n = int(n) if n is not None else cfg.default_n
        seed, size = int(seed), int(size)
        workers = int(workers) if workers is not None else None
    except ValueError as e:
        raise DatasetError(f"{preset}: options n, seed, size and workers must be integers ({e})") from None
    if n < 1 or not 16 <= size <= 1024:
        raise DatasetError(f"{preset}: need n >= 1 and 16 <= size <= 1024, got n={n}, size={size}")
    folder = ensure_generated(preset, n, seed, size, workers)
    manifest = read_manifest(folder)
    info = json.loads((folder / "generator.json").read_text())
    if len(manifest) != info["n_images"]:
        raise DatasetError(f"{folder / MANIFEST} has {len(manifest)} rows, generator.json says "
                           f"{info['n_images']}; delete {folder} to regenerate it")
    info.update(generator="fer-bench-synth", n=n, folder=str(folder))
    return SynthDataset(name=preset, root=folder, classes=cfg.classes, manifest=manifest,
                        image_family=preset, face_crop=None,
                        official_val=not cfg.sequence_frames, info=info)
