"""Backgrounds: a plain studio wall, a gradient, or out-of-focus clutter."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from fer_bench.synth.scene import Scene


def paint_background(side: int, scene: Scene, rng: np.random.Generator) -> Image.Image:
    c0, c1 = (np.asarray(c, np.float32) for c in scene.bg_colors)
    if scene.background == "plain":
        return Image.new("RGB", (side, side), tuple(int(v) for v in c0))
    # Drawn small and enlarged bilinearly: a gradient for free, clutter out of focus.
    small = 12 if scene.background == "gradient" else 40
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:small, 0:small] / (small - 1) - 0.5
    t = np.clip(0.5 + xx * np.cos(angle) + yy * np.sin(angle), 0, 1)[..., None]
    base = Image.fromarray(((1 - t) * c0 + t * c1).astype(np.uint8))
    if scene.background == "clutter":
        draw = ImageDraw.Draw(base)
        for _ in range(rng.integers(5, 14)):
            x0, y0 = rng.uniform(-0.2, 1.0, 2) * small
            w, h = rng.uniform(0.1, 0.6, 2) * small
            colour = tuple(int(v) for v in rng.uniform(0, 255, 3))
            if rng.random() < 0.5:
                draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
            else:
                draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
    return base.resize((side, side), Image.BILINEAR)
