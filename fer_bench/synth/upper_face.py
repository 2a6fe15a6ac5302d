"""Painters for the upper face that action units move: brows and forehead (AU1, 2, 4),
lids (AU5, 7, 43), cheeks and crow's feet (AU6). FACS describes each AU by such
appearance changes; the comments name the AU behind each coefficient."""
from __future__ import annotations

import numpy as np

from fer_bench.synth.au_state import SIDES, AUs
from fer_bench.synth.canvas import Canvas, bezier, ellipse_points, shade
from fer_bench.synth.identity import Identity

SCLERA = (236, 232, 226)
PUPIL = (14, 10, 10)


# --- brows and forehead ----------------------------------------------------------------
def brow_curve(idn: Identity, a: AUs, sign: int, side: int) -> np.ndarray:
    ey = idn.eye_y
    base = ey - idn.eye_h - idn.brow_y
    xi, xo = idn.eye_x - idn.brow_len * 0.45, idn.eye_x + idn.brow_len * 0.55
    a1, a2, a4, a9, a6 = (a[k][side] for k in (1, 2, 4, 9, 6))
    # AU1 lifts the inner end, AU4 pulls it down and in (less so against AU1: sad/fear brows)
    inner = [xi - 0.06 * a4, base + 0.01 - 0.16 * a1 + 0.1 * a4 * (1 - 0.7 * a1) + 0.04 * a9]
    peak = [xi + 0.62 * (xo - xi), base - idn.brow_arch - 0.05 * a1 - 0.12 * a2 + 0.05 * a4]
    outer = [xo, base + 0.02 - 0.12 * a2 + 0.02 * a4 + 0.02 * a6]               # AU2 raises outer
    pts = bezier(inner, peak, outer, 9)
    pts[:, 0] *= sign
    return pts


def paint_brows(c: Canvas, idn: Identity, a: AUs) -> None:
    colour = shade(idn.hair_rgb, 0.75) if sum(idn.hair_rgb) < 400 else shade(idn.hair_rgb, 0.6)
    for sign, side in SIDES:
        mid = brow_curve(idn, a, sign, side)
        t = np.linspace(0, 1, len(mid))
        half = idn.brow_thick * (1.1 - 0.75 * t) / 2
        top = mid.copy()
        top[:, 1] -= half
        bottom = mid.copy()
        bottom[:, 1] += half
        c.polygon(c.proj.surface(np.vstack([top, bottom[::-1]]), 0.03), colour, 235)


def paint_forehead_lines(c: Canvas, idn: Identity, a: AUs) -> None:
    skin = idn.skin
    dark = shade(skin, 0.62)
    raise_ = max(a.mean(1), 0.8 * a.mean(2))
    if raise_ + idn.age > 0.15:
        span = 0.22 + 0.45 * min(1.0, a.mean(2) / max(a.mean(1), 1e-3)) if raise_ > 0 else 0.5
        top_brow = idn.eye_y - idn.eye_h - idn.brow_y - 0.12 * raise_
        for k in range(3):
            y = top_brow - 0.17 - 0.12 * k
            bow = 0.03 if a.mean(1) > a.mean(2) else -0.02      # AU1 bends lines upward centrally
            pts = bezier([-span, y + 0.01], [0, y - bow], [span, y + 0.01], 7)
            c.line(c.proj.surface(pts), dark, 0.018, 230 * raise_ + 60 * idn.age - 25 * k)
    a4 = a.mean(4)
    if a4 > 0.05:  # vertical glabella furrows of the brow lowerer
        for sign in (-1, 1):
            pts = np.array([[sign * 0.05, -0.32], [sign * 0.045, -0.2], [sign * 0.06, -0.1]])
            c.line(c.proj.surface(pts, 0.02), dark, 0.018, 255 * min(1.0, 1.3 * a4))
    root = a.mean(9) + 0.4 * a4
    if root > 0.05:  # transverse line at the nose root (procerus, with AU9 / AU4)
        pts = np.array([[-0.08, -0.04], [0.0, -0.055], [0.08, -0.04]])
        c.line(c.proj.surface(pts, 0.05), dark, 0.016, 220 * min(1.0, root))


# --- eyes ------------------------------------------------------------------------------
def lid_curves(idn: Identity, a: AUs, sign: int, side: int, n: int = 11):
    """Upper and lower lid lines of one eye (face units), inner corner first."""
    a5, a6, a7, a4, a9, a43 = (a[k][side] for k in (5, 6, 7, 4, 9, 43))
    eu = idn.eye_h * max(0.04,
                         1 + 0.9 * a5 - 0.3 * a7 - 0.35 * a6 - 0.2 * a4 - 0.15 * a9 - 0.96 * a43)
    el = idn.eye_h * 0.75 * max(0.05, 1 - 0.55 * a7 - 0.5 * a6 - 0.2 * a9 + 0.2 * a5 - 0.6 * a43)
    t = np.linspace(-1, 1, n)
    x = sign * (idn.eye_x + idn.eye_w * t)
    yc = idn.eye_y - idn.eye_tilt * t
    upper = np.column_stack([x, yc - eu * (1 - t ** 2) ** 0.75 * (1 - 0.12 * t)])
    lower = np.column_stack([x, yc + el * (1 - t ** 2) ** 0.9 * (1 + 0.1 * t)])
    return upper, lower


def _clip_to_eye(pts: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    order = np.argsort(upper[:, 0])
    xs = upper[order, 0]
    x = np.clip(pts[:, 0], xs[0], xs[-1])
    lo = np.interp(x, xs, upper[order, 1])
    hi = np.interp(x, xs, lower[order, 1])
    return np.column_stack([x, np.clip(pts[:, 1], lo, np.maximum(lo, hi))])


def paint_eyes(c: Canvas, idn: Identity, a: AUs, gaze: tuple[float, float],
               light: float) -> None:
    skin = idn.skin
    lash = (38, 26, 22)
    for sign, side in SIDES:
        upper, lower = lid_curves(idn, a, sign, side)
        dz = -0.05
        c.polygon(c.proj.surface(np.vstack([upper, lower[::-1]]), dz), shade(SCLERA, light))
        centre = (sign * idn.eye_x + gaze[0] * idn.eye_w * 0.35, idn.eye_y + gaze[1] * idn.eye_h)
        iris = _clip_to_eye(ellipse_points(*centre, idn.iris_r, idn.iris_r, 18), upper, lower)
        c.polygon(c.proj.surface(iris, dz), idn.iris_rgb)
        pupil = _clip_to_eye(ellipse_points(*centre, idn.iris_r * 0.45, idn.iris_r * 0.45, 12),
                             upper, lower)
        c.polygon(c.proj.surface(pupil, dz), PUPIL)
        glint = np.array([[centre[0] - 0.3 * idn.iris_r * sign, centre[1] - 0.35 * idn.iris_r]])
        if glint[0, 1] > np.interp(glint[0, 0], *upper[np.argsort(upper[:, 0])].T):
            c.dot(c.proj.surface(glint, dz), idn.iris_r * 0.18, (250, 250, 250), 220)
        # upper-lid skin above the lash line covers the eye where the lid is lowered
        fold_gap = idn.eye_h * (0.55 - 0.35 * a[5][side] + 0.2 * a[43][side])
        crease = upper.copy()
        crease[:, 1] -= fold_gap * (1 - np.linspace(-1, 1, len(upper)) ** 2) ** 0.6
        c.line(c.proj.surface(crease, dz), shade(skin, 0.68), 0.016, 150)
        c.line(c.proj.surface(upper, dz), lash, 0.03 + 0.01 * a[43][side])
        c.line(c.proj.surface(lower, dz), shade(skin, 0.62), 0.013, 170)


def paint_eye_surroundings(c: Canvas, idn: Identity, a: AUs) -> None:
    """Crow's feet and the lower-lid bulge of AU6 / AU7, eye bags with age."""
    dark = shade(idn.skin, 0.6)
    for sign, side in SIDES:
        a6, a7 = a[6][side], a[7][side]
        corner = np.array([sign * (idn.eye_x + idn.eye_w + 0.04), idn.eye_y])
        feet = 230 * a6 + 70 * idn.age
        if feet > 10:
            for ang in (-0.45, 0.0, 0.45):
                d = np.array([sign * np.cos(ang), np.sin(ang)])
                pts = np.vstack([corner + 0.02 * d, corner + (0.11 + 0.03 * a6) * d])
                c.line(c.proj.surface(pts, -0.05), dark, 0.014, feet)
        bulge = 220 * a6 + 150 * a7 + 80 * idn.age
        if bulge > 10:  # infraorbital furrow under the raised lower lid
            x0 = sign * (idn.eye_x - idn.eye_w * 0.8)
            x1 = sign * (idn.eye_x + idn.eye_w * 0.9)
            y = idn.eye_y + idn.eye_h * 0.75 + 0.07 - 0.03 * a6
            pts = bezier([x0, y - 0.01], [sign * idn.eye_x, y + 0.045], [x1, y - 0.03], 8)
            c.line(c.proj.surface(pts, -0.02), dark, 0.016, bulge)


def paint_cheeks(c: Canvas, idn: Identity, a: AUs) -> None:
    for sign, side in SIDES:
        a6, a12 = a[6][side], a[12][side]
        lift = 0.06 * a6 + 0.04 * a12
        centre = (sign * 0.55, 0.42 - lift)
        pts = ellipse_points(*centre, 0.2, 0.14, 14)
        flush = (idn.skin[0] * 1.05, idn.skin[1] * 0.8, idn.skin[2] * 0.8)  # a redder skin
        c.polygon(c.proj.surface(pts, 0.02), flush, 60 * idn.blush + 50 * a6)
        if a6 + a12 > 0.1:  # the raised cheek catches light
            c.polygon(c.proj.surface(ellipse_points(centre[0], centre[1] - 0.03, 0.14, 0.08, 12),
                                     0.04), shade(idn.skin, 1.15), 70 * max(a6, a12))
