"""The drawing surface shared by the face-part painters: a supersampled PIL canvas, the
foreground mask that lighting uses, and the projector from face units to pixels."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from fer_bench.synth.projection import Projector

Colour = tuple[float, float, float]


def rgba(colour, alpha: float = 255) -> tuple[int, int, int, int]:
    r, g, b = colour
    return (int(min(255, max(0, r))), int(min(255, max(0, g))), int(min(255, max(0, b))),
            int(min(255, max(0, alpha))))


def shade(colour, factor: float) -> tuple[float, float, float]:
    return tuple(c * factor for c in colour)


def bezier(p0, p1, p2, n: int = 10) -> np.ndarray:
    """Quadratic curve from p0 to p2 that passes through p1 (not just towards it)."""
    p0, p1, p2 = (np.asarray(p, np.float64) for p in (p0, p1, p2))
    ctrl = 2 * p1 - 0.5 * (p0 + p2)
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t ** 2 * p2


class Canvas:
    def __init__(self, image: Image.Image, proj: Projector):
        self.image = image
        self.draw = ImageDraw.Draw(image, "RGBA")
        self.mask = Image.new("L", image.size, 0)
        self._mask_draw = ImageDraw.Draw(self.mask)
        self.proj = proj

    def polygon(self, pts, colour, alpha: float = 255, foreground: bool = False) -> None:
        if len(pts) < 6 or alpha <= 0:  # flat [x0, y0, x1, y1, ...]
            return
        self.draw.polygon(pts, fill=rgba(colour, alpha))
        if foreground:
            self._mask_draw.polygon(pts, fill=255)

    def line(self, pts, colour, width_units: float, alpha: float = 255,
             foreground: bool = False) -> None:
        if len(pts) < 4 or alpha <= 2:
            return
        w = max(1, round(self.proj.length(width_units)))
        self.draw.line(pts, fill=rgba(colour, alpha), width=w, joint="curve")
        if foreground:
            self._mask_draw.line(pts, fill=255, width=w, joint="curve")

    def dot(self, centre, radius_units: float, colour, alpha: float = 255,
            foreground: bool = False) -> None:
        r = self.proj.length(radius_units)
        x, y = centre
        box = (x - r, y - r, x + r, y + r)
        self.draw.ellipse(box, fill=rgba(colour, alpha))
        if foreground:
            self._mask_draw.ellipse(box, fill=255)


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int = 20,
                   start: float = 0.0, stop: float = 2 * np.pi) -> np.ndarray:
    t = np.linspace(start, stop, n, endpoint=stop - start < 2 * np.pi - 1e-6)
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])
