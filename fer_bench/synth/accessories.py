"""Head outline, neck, ears, hair, beard and glasses: identity, not expression."""
from __future__ import annotations

import numpy as np

from fer_bench.synth.canvas import Canvas, ellipse_points, shade
from fer_bench.synth.identity import Identity


def temple_y(style: str) -> float:
    """Where hair meets the face at the sides: eye level for short hair, lower when it
    falls along the cheeks."""
    return 0.02 if style in ("short", "bun", "bald") else 0.22


def face_outline(idn: Identity, drop: float, n: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """Right half of the face outline from the crown to the chin: (y, half-width)."""
    up = np.linspace(-np.pi / 2, 0, n)
    y_up = idn.face_top * np.sin(up)
    w_up = idn.face_w * np.cos(up) ** (2 / 2.4)
    lo = np.linspace(0, np.pi / 2, n)[1:]
    bottom = idn.face_bottom + drop                      # AU26 lengthens the lower face
    y_lo = bottom * np.sin(lo) ** (2 / idn.jaw)
    w_lo = idn.face_w * np.cos(lo) ** (2 / idn.jaw) * (1 - idn.chin * (y_lo / bottom) ** 2)
    return np.concatenate([y_up, y_lo]), np.concatenate([w_up, w_lo])


def full_outline(ys: np.ndarray, ws: np.ndarray, grow: float = 1.0) -> np.ndarray:
    right = np.column_stack([ws * grow, ys])
    left = np.column_stack([-ws * grow, ys])[::-1]
    return np.vstack([right, left])


def paint_head(c: Canvas, idn: Identity, ys: np.ndarray, ws: np.ndarray) -> None:
    skin = idn.skin
    neck = np.array([[-0.42, 0.9], [0.42, 0.9], [0.5, 2.3], [-0.5, 2.3]])
    c.polygon(c.proj.flat(neck), shade(skin, 0.8), foreground=True)
    shoulders = ellipse_points(0, 2.75, 2.1, 0.95, 24)
    c.polygon(c.proj.flat(shoulders), idn.clothes, foreground=True)
    yaw = np.radians(c.proj.yaw)
    for sign in (-1, 1):
        visible = np.clip(1 - 1.6 * sign * np.sin(yaw), 0.0, 1.0)  # the far ear hides
        if visible < 0.1:
            continue
        w_ear = np.interp(0.25, ys, ws)
        x0 = c.proj.silhouette(np.array([[sign * w_ear, 0.25]]))
        rx, ry = c.proj.length(0.1 * idn.ear * visible), c.proj.length(0.24 * idn.ear)
        pts = ellipse_points(x0[0] + sign * rx * 0.6, x0[1], rx, ry, 14)
        c.polygon(pts.ravel().tolist(), shade(skin, 0.88), foreground=True)
    c.polygon(c.proj.silhouette(full_outline(ys, ws)), skin, foreground=True)


def _hairline(idn: Identity, ys, ws, rng: np.random.Generator) -> np.ndarray:
    """Where the hair ends on the forehead, right temple to left temple."""
    style = idn.hair_style
    top = -(0.72 + 0.22 * idn.hairline)
    if style == "fringe":
        top = -(0.42 + 0.12 * idn.hairline)
    x = np.linspace(1, -1, 17)
    temple = temple_y(style)
    w_t = np.interp(temple, ys, ws)
    y = top + (temple - top) * np.abs(x) ** 3
    if style == "side":
        y += 0.12 * x * (1 - np.abs(x))
    if style == "fringe":
        y[1:-1] += rng.uniform(-0.05, 0.05, len(x) - 2)
    return np.column_stack([x * w_t * 0.99, y])


def _crown(ys, ws, grow: float, bumps: float, temple: float) -> np.ndarray:
    upper = ys <= temple
    right = np.column_stack([ws[upper], ys[upper]])[::-1]   # temple up to crown
    left = right[::-1] * np.array([-1, 1])
    crown = np.vstack([right, left])
    g = grow + bumps * np.abs(np.sin(np.linspace(0, 9 * np.pi, len(crown))))
    crown[:, 0] *= g
    crown[:, 1] = np.minimum(crown[:, 1] * g, crown[:, 1])
    return crown


def paint_back_hair(c: Canvas, idn: Identity, ys, ws, rng) -> None:
    style = idn.hair_style
    hair = idn.hair_rgb
    if style in ("long", "curly"):
        crown = _crown(ys, ws, 1.14 if style == "long" else 1.22, 0.0, temple_y(style))
        w = ws.max() * (1.2 if style == "long" else 1.3)
        drop = 2.3 if style == "long" else 1.2
        pts = np.vstack([crown, [[-w, drop], [w, drop]]])
        c.polygon(c.proj.silhouette(pts), shade(hair, 0.8), foreground=True)
    elif style == "bun":
        top = -ys.min() if ys.min() < 0 else 1.2
        c.polygon(c.proj.silhouette(ellipse_points(0, -top - 0.12, 0.32, 0.26, 16)), hair,
                  foreground=True)


def paint_front_hair(c: Canvas, idn: Identity, ys, ws, rng) -> None:
    style = idn.hair_style
    if style == "bald":
        return
    hair = idn.hair_rgb
    volume = {"short": 1.05, "side": 1.07, "fringe": 1.08, "long": 1.06, "curly": 1.16,
              "bun": 1.03}[style]
    bumps = 0.05 if style == "curly" else 0.0
    crown = c.proj.silhouette(_crown(ys, ws, volume, bumps, temple_y(style)))
    line = c.proj.surface(_hairline(idn, ys, ws, rng)[::-1], 0.0)  # left temple to right
    c.polygon(crown + line, hair, foreground=True)
    # a few strands give texture
    dark = shade(hair, 0.7)
    for _ in range(5):
        x = rng.uniform(-0.6, 0.6)
        pts = np.array([[x * 0.5, -1.1], [x * 0.9, -0.95], [x, -0.8]])
        c.line(c.proj.surface(pts, 0.02), dark, 0.02, 120)


def paint_beard(c: Canvas, idn: Identity, ys, ws) -> None:
    if idn.beard <= 0:
        return
    lower = ys > idn.mouth_y - 0.1
    right = np.column_stack([ws[lower] * 0.97, ys[lower]])
    jaw = np.vstack([right, (right * np.array([-1, 1]))[::-1]])
    inner = np.column_stack([np.linspace(-0.5, 0.5, 9),
                             idn.mouth_y + 0.12 - 0.05 * np.cos(np.linspace(-1.5, 1.5, 9))])
    colour = shade(idn.hair_rgb, 0.6)
    c.polygon(c.proj.surface(np.vstack([jaw, inner]), 0.02), colour, 45 * idn.beard)
    # moustache: a band between the nose and the upper lip, thinning towards the corners
    x = np.linspace(-1, 1, 9)
    bottom = idn.mouth_y - idn.lip_up - 0.01 + 0.04 * x ** 2
    top = idn.nose_y + 0.1 + 0.1 * x ** 2
    band = np.vstack([np.column_stack([0.34 * x, top]), np.column_stack([0.34 * x, bottom])[::-1]])
    c.polygon(c.proj.surface(band, 0.06), colour, 45 * idn.beard)


def paint_glasses(c: Canvas, idn: Identity, sun: bool = False) -> None:
    if not sun and idn.glasses == 0:
        return
    frame = (25, 22, 20) if sun or idn.glasses == 1 else (90, 60, 40)
    rx, ry = idn.eye_w * 1.45, idn.eye_h * (2.6 if sun else 2.3)
    edges = []
    for sign in (-1, 1):
        cx = sign * idn.eye_x
        if idn.glasses == 2 and not sun:
            t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            pts = np.column_stack([cx + rx * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.4,
                                   idn.eye_y + 0.02
                                   + ry * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.4])
        else:
            pts = ellipse_points(cx, idn.eye_y + 0.02, rx, ry, 24)
        p = c.proj.surface(pts, 0.16)
        if sun:
            c.polygon(p, (18, 20, 24), 245, foreground=True)
        else:
            c.polygon(p, (200, 220, 235), 25)
        c.line(p + p[:2], frame, 0.03)
        edges.append((cx - sign * rx, cx + sign * rx))
    bridge = np.array([[-idn.eye_x + rx, idn.eye_y - 0.02], [0, idn.eye_y - 0.05],
                       [idn.eye_x - rx, idn.eye_y - 0.02]])
    c.line(c.proj.surface(bridge, 0.2), frame, 0.03)
