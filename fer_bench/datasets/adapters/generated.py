"""The generated presets (fer_bench.synth) as datasets, registered under their CLI names.

Options come from specs such as ``synth-wild:n=2000,seed=3,size=64`` (strings accepted):
``n`` images (synth-lab rounds to whole subjects of 7 sequences x 4 frames), ``seed``,
``size`` in pixels, ``workers`` (generation processes; does not change the images).

Default sizes (all three render in well under a minute on 2 cores, see
scripts/bench_generate.py): synth-wild 6000 images of 3000 identities (2 each, so that
identity-disjoint splits still leave rare classes in the test split), synth-compound
2250 = 15 classes x 150 (450 identities posing 5 each), synth-lab 2800 = 100 subjects x
7 sequences x 4 frames.

Manifest columns besides id/path/label/split/subject: ``coarse`` (CRS-CONT group),
``intensity`` (expression intensity 0..1), ``facs`` (FACS code with letter grades and
R/L for one-sided AUs, e.g. ``R12B+R14C``), ``au_<N>`` (intensity 0..1, the stronger
side), ``yaw/pitch/roll`` (degrees), ``occluder``, ``background``, ``preset``; synth-lab
adds ``sequence`` and ``frame`` (frame 0 neutral, frame 1 unlabelled onset, 2-3 apex).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fer_bench.datasets.base import Dataset, DatasetError, DatasetSpecError
from fer_bench.datasets.entry import register_dataset
from fer_bench.synth.generate import MANIFEST, ensure_generated
from fer_bench.synth.preset_config import COMPOUND_PRESET, LAB, PRESETS, WILD

# Upper bounds on one preset (a typo such as n=100000000 must not fill memory and disk:
# every face is planned in memory, then rendered to a PNG of about 2 bytes per pixel).
# FER_BENCH_ALLOW_LARGE=1 lifts them.
MAX_IMAGES = 100_000
MAX_PIXELS = MAX_IMAGES * 224 * 224
ALLOW_LARGE_ENV = "FER_BENCH_ALLOW_LARGE"
OPTIONS = ("n", "seed", "size", "workers")

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


def check_size(preset: str, n: int, size: int) -> None:
    """Refuse presets beyond MAX_IMAGES images or MAX_PIXELS pixels unless
    FER_BENCH_ALLOW_LARGE=1."""
    if os.environ.get(ALLOW_LARGE_ENV, "").strip().lower() in ("1", "true", "yes"):
        return
    if n > MAX_IMAGES or n * size * size > MAX_PIXELS:
        raise DatasetSpecError(
            f"{preset}: n={n} at size={size} is beyond the limit of a generated preset "
            f"({MAX_IMAGES:,} images and {MAX_PIXELS:,} pixels, e.g. {MAX_IMAGES:,} faces of "
            f"224 px); set {ALLOW_LARGE_ENV}=1 to generate it anyway (about "
            f"{2 * n * size * size / 2**30:.1f} GiB of PNGs in the cache)")


def preset_options(preset: str, n: int | str | None = None, seed: int | str = 0,
                   size: int | str = 112, workers: int | str | None = None,
                   **unknown) -> tuple[int, int, int, int | None]:
    """(n, seed, size, workers) of a preset's options (values may be strings from specs),
    checked as :func:`load_generated` checks them; nothing is generated."""
    from fer_bench.suggest import did_you_mean as _suggest

    if preset not in PRESETS:
        raise DatasetSpecError(f"unknown generated preset {preset!r}"
                               f"{_suggest(preset, PRESETS)}; known: {', '.join(PRESETS)}")
    if unknown:
        hints = "".join(_suggest(key, OPTIONS) for key in sorted(unknown))
        raise DatasetSpecError(f"{preset}: unknown options {sorted(unknown)}{hints}; a "
                               "generated preset takes n, seed, size and workers")
    cfg = PRESETS[preset]
    try:
        n = int(n) if n is not None else cfg.default_n
        seed, size = int(seed), int(size)
        workers = int(workers) if workers is not None else None
    except ValueError as e:
        raise DatasetSpecError(f"{preset}: options n, seed, size and workers must be integers "
                               f"({e})") from None
    if n < 1 or not 16 <= size <= 1024 or seed < 0 or (workers is not None and workers < 0):
        raise DatasetSpecError(f"{preset}: need n >= 1, 16 <= size <= 1024, seed >= 0 and "
                               f"workers >= 0, got n={n}, size={size}, seed={seed}, "
                               f"workers={workers}")
    check_size(preset, n, size)
    return n, seed, size, workers


def load_generated(preset: str, n: int | str | None = None, seed: int | str = 0,
                   size: int | str = 112, workers: int | str | None = None,
                   **unknown) -> SynthDataset:
    """Load (generating on first use) a preset; option values may be strings from specs."""
    n, seed, size, workers = preset_options(preset, n, seed, size, workers, **unknown)
    cfg = PRESETS[preset]
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


@register_dataset(LAB.name, LAB.description, generated=True)
def synth_lab(root=None, **options) -> SynthDataset:
    return load_generated(LAB.name, **options)


@register_dataset(WILD.name, WILD.description, generated=True)
def synth_wild(root=None, **options) -> SynthDataset:
    return load_generated(WILD.name, **options)


@register_dataset(COMPOUND_PRESET.name, COMPOUND_PRESET.description, generated=True)
def synth_compound(root=None, **options) -> SynthDataset:
    return load_generated(COMPOUND_PRESET.name, **options)
