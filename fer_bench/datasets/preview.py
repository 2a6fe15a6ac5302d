"""A labelled sample grid of any dataset (generated or real): faces with their label.

A generated preset that is not in the cache yet is never rendered whole for a preview:
:func:`preview_preset` plans the preset's labels (cheap), picks the sheet's rows and
renders only those faces, which are the very faces the preset would hold (each planned
face has random streams of its own), so the sheet equals the one of the rendered preset.
Reading or rendering the sheet's faces shows a progress bar on stderr once it has taken
more than :data:`PROGRESS_AFTER_S` seconds.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fer_bench.datasets.base import Dataset, DatasetError

CELL = 112
CAPTION = 26
PROGRESS_AFTER_S = 2.0


def pick_rows(dataset: Dataset, n: int, seed: int = 0) -> list[int]:
    """Up to ``n`` labelled rows, classes taken in turn (declared order), random within one;
    ``n`` random rows of a dataset without classes (action-unit datasets)."""
    if not dataset.classes:
        return sorted(int(i) for i in np.random.default_rng(seed).permutation(len(dataset))[:n])
    return pick_label_rows(dataset.manifest["label"], dataset.classes, n, seed)


def pick_label_rows(labels: Sequence[str], classes: Sequence[str], n: int,
                    seed: int = 0) -> list[int]:
    """:func:`pick_rows` over the labels of rows 0, 1, ... in order."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(list(labels), dtype=object)
    pools = [list(rng.permutation(np.flatnonzero(labels == c))) for c in classes]
    rows: list[int] = []
    while len(rows) < n and any(pools):
        for pool in pools:
            if pool and len(rows) < n:
                rows.append(int(pool.pop()))
    return rows


@functools.lru_cache(maxsize=16)
def _font(px: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _progress(items: Sequence, what: str, progress: bool) -> Iterator:
    if not progress:
        return iter(items)
    from tqdm import tqdm
    return iter(tqdm(items, desc=what, unit="face", delay=PROGRESS_AFTER_S, leave=False,
                     file=sys.stderr))


def preview_grid(dataset: Dataset, out: str | Path, n: int = 32, seed: int = 0,
                 cols: int = 8, progress: bool = False) -> Path:
    """Write a PNG grid of ``n`` faces with their expression under each; returns ``out``."""
    rows = pick_rows(dataset, n, seed)
    if not rows:
        raise DatasetError(f"{dataset.name}: no labelled images to preview")
    faces = []
    for row in _progress(rows, f"reading {dataset.name}", progress):
        img = dataset.read_image(row)
        arr = img.expand(3, -1, -1) if img.shape[0] == 1 else img[:3]
        m = dataset.manifest.loc[row]
        faces.append((arr.permute(1, 2, 0).numpy(), str(m["label"]) or _au_caption(m),
                      float(m["intensity"]) if "intensity" in m else None))
    return draw_sheet(f"{dataset.name}: {len(dataset)} images (preview seed {seed})", faces,
                      out, cols)


def _au_caption(row) -> str:
    """What an unlabelled row shows instead of an expression: its AUs, e.g. "AU 6 12"."""
    from fer_bench.datasets.au_labels import coded_aus

    aus = coded_aus(row)
    if aus is None:
        return ""
    return "AU " + " ".join(map(str, aus)) if aus else "no AU"


def preview_preset(preset: str, out: str | Path, n: int = 32, seed: int = 0, cols: int = 8,
                   progress: bool = False, options: dict | None = None) -> Path:
    """The sheet of :func:`preview_grid` for a generated preset (``options``: the
    preset's own, as in a spec: n, seed, size, workers), rendering only the faces on the
    sheet when the preset is not in the cache yet (reading them from it when it is)."""
    options = dict(options or {})
    from fer_bench.datasets.adapters.generated import load_generated, preset_options
    from fer_bench.synth.generate import is_generated, render_spec
    from fer_bench.synth.plan import plan_rows, preset_labels
    from fer_bench.synth.preset_config import PRESETS

    size_n, preset_seed, size, _ = preset_options(preset, **options)
    if is_generated(preset, size_n, preset_seed, size):
        return preview_grid(load_generated(preset, **options), out, n, seed, cols, progress)
    cfg = PRESETS[preset]
    labels = preset_labels(cfg, size_n, preset_seed)
    rows = pick_label_rows(labels, cfg.classes, n, seed)
    if not rows:
        raise DatasetError(f"{preset}: no labelled images to preview")
    faces = []
    for spec in _progress(plan_rows(cfg, size_n, preset_seed, rows),
                          f"rendering {preset} faces", progress):
        image = render_spec(spec, size)
        label = spec.meta["label"]
        faces.append((image, label, float(spec.meta["intensity"])))
    return draw_sheet(f"{preset}: {len(labels)} images (preview seed {seed})", faces, out, cols)


def draw_sheet(title: str, faces: list[tuple[np.ndarray, str, float | None]],
               out: str | Path, cols: int = 8) -> Path:
    """A PNG of ``faces`` ((H, W, 3) uint8 image, label, intensity or None), ``cols`` a
    row, each labelled, under ``title``; returns ``out``."""
    cols = min(cols, len(faces))
    lines = -(-len(faces) // cols)
    title_px = 22
    grid = Image.new("RGB", (cols * CELL, title_px + lines * (CELL + CAPTION)), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    draw.text((4, 4), title, fill=(0, 0, 0), font=_font(14))
    for k, (image, caption, intensity) in enumerate(faces):
        face = Image.fromarray(np.ascontiguousarray(image)).resize((CELL, CELL), Image.BILINEAR)
        x, y = (k % cols) * CELL, title_px + (k // cols) * (CELL + CAPTION)
        grid.paste(face, (x, y))
        size = 12
        while size > 8 and draw.textlength(caption, font=_font(size)) > CELL - 4:
            size -= 1   # long compound names shrink to fit their cell
        draw.text((x + 2, y + CELL + 1), caption, fill=(0, 0, 0), font=_font(size))
        if intensity is not None and caption != "neutral":
            draw.text((x + 3, y + CELL + 13), f"i={intensity:.2f}",
                      fill=(90, 90, 90), font=_font(10))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return out
