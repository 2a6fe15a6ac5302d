"""A labelled sample grid of any dataset (generated or real): faces with their label."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fer_bench.datasets.base import Dataset, DatasetError

CELL = 112
CAPTION = 26


def pick_rows(dataset: Dataset, n: int, seed: int = 0) -> list[int]:
    """Up to ``n`` labelled rows, classes taken in turn (declared order), random within one."""
    rng = np.random.default_rng(seed)
    labels = dataset.manifest["label"]
    pools = [list(rng.permutation(np.flatnonzero((labels == c).to_numpy()))) for c in dataset.classes]
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


def preview_grid(dataset: Dataset, out: str | Path, n: int = 32, seed: int = 0,
                 cols: int = 8) -> Path:
    """Write a PNG grid of ``n`` faces with their expression under each; returns ``out``."""
    rows = pick_rows(dataset, n, seed)
    if not rows:
        raise DatasetError(f"{dataset.name}: no labelled images to preview")
    cols = min(cols, len(rows))
    lines = -(-len(rows) // cols)
    title = 22
    grid = Image.new("RGB", (cols * CELL, title + lines * (CELL + CAPTION)), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    draw.text((4, 4), f"{dataset.name}: {len(dataset)} images (preview seed {seed})",
              fill=(0, 0, 0), font=_font(14))
    for k, row in enumerate(rows):
        img = dataset.read_image(row)
        arr = img.expand(3, -1, -1) if img.shape[0] == 1 else img[:3]
        face = Image.fromarray(arr.permute(1, 2, 0).numpy()).resize((CELL, CELL), Image.BILINEAR)
        x, y = (k % cols) * CELL, title + (k // cols) * (CELL + CAPTION)
        grid.paste(face, (x, y))
        m = dataset.manifest.loc[row]
        caption = str(m["label"])
        size = 12
        while size > 8 and draw.textlength(caption, font=_font(size)) > CELL - 4:
            size -= 1   # long compound names shrink to fit their cell
        draw.text((x + 2, y + CELL + 1), caption, fill=(0, 0, 0), font=_font(size))
        if "intensity" in m and caption != "neutral":
            draw.text((x + 3, y + CELL + 13), f"i={float(m['intensity']):.2f}",
                      fill=(90, 90, 90), font=_font(10))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return out
