"""Things in front of the face: a hand, a strand of hair, sunglasses, a face mask."""
from __future__ import annotations

import numpy as np

from fer_bench.synth.accessories import paint_glasses
from fer_bench.synth.canvas import Canvas, ellipse_points, shade
from fer_bench.synth.identity import Identity


def paint_occluder(c: Canvas, kind: str, idn: Identity, rng: np.random.Generator) -> None:
    if kind == "none":
        return
    if kind == "sunglasses":
        paint_glasses(c, idn, sun=True)
    elif kind == "hand":
        _hand(c, idn, rng)
    elif kind == "hair":
        hair = idn.hair_rgb
        for _ in range(rng.integers(2, 5)):
            x0, x1 = rng.uniform(-0.6, 0.6, 2)
            pts = np.array([[x0, -1.2], [0.5 * (x0 + x1) + rng.uniform(-0.2, 0.2), -0.4],
                            [x1, rng.uniform(0.0, 0.5)]])
            c.line(c.proj.surface(pts, 0.25), shade(hair, rng.uniform(0.7, 1.1)),
                   rng.uniform(0.03, 0.07), foreground=True)
    elif kind == "mask":
        top = rng.uniform(idn.nose_y - 0.2, idn.mouth_y + 0.15)
        colour = [(150, 190, 220), (236, 236, 236), (30, 30, 34), (70, 110, 160)][rng.integers(4)]
        x = np.linspace(-1, 1, 15)
        upper = np.column_stack([x * 0.95, top + 0.08 * x ** 2])
        lower = np.column_stack([x[::-1] * 0.75, 1.55 + 0.15 * (1 - x[::-1] ** 2)])
        p = c.proj.surface(np.vstack([upper, lower]), 0.18)
        c.polygon(p, colour, foreground=True)
        for k in (1, 2):
            pleat = np.column_stack([x * 0.85, top + 0.12 * k + 0.06 * x ** 2])
            c.line(c.proj.surface(pleat, 0.2), shade(colour, 0.8), 0.012, 200)


def _hand(c: Canvas, idn: Identity, rng: np.random.Generator) -> None:
    """A hand with an outline (skin against skin needs its edges to be seen)."""
    skin = shade(idn.skin, rng.uniform(0.92, 1.12))
    edge = shade(skin, 0.62)
    side = rng.choice([-1, 1])
    if rng.random() < 0.5:       # chin resting on the hand, fingers over the mouth corner
        palm, angle = (side * 0.3, 1.6), -np.pi / 2 + side * 0.45
    else:                        # hand on the cheek
        palm, angle = (side * 0.95, 0.95), -np.pi / 2 - side * 0.55
    dirn = np.array([np.cos(angle), np.sin(angle)])
    perp = np.array([-dirn[1], dirn[0]])
    fingers = []
    for k, length in enumerate((0.6, 0.72, 0.68, 0.55)):
        base = np.asarray(palm) + perp * (k - 1.5) * 0.16 + dirn * 0.2
        fingers.append(c.proj.flat(np.vstack([base, base + dirn * length])))
    outline = ellipse_points(*palm, 0.4, 0.34, 18)
    c.polygon(c.proj.flat(ellipse_points(*palm, 0.43, 0.37, 18)), edge, foreground=True)
    for pts in fingers:          # dark, wider strokes first: they become the outline
        c.line(pts, edge, 0.17, foreground=True)
        c.dot(pts[2:], 0.085, edge, foreground=True)
    c.polygon(c.proj.flat(outline), skin)
    for pts in fingers:
        c.line(pts, skin, 0.13)
        c.dot(pts[2:], 0.065, skin)
