"""Painters for the parts of a face that action units move: brows, eyes, nose, mouth and
the wrinkles and folds that AUs create (FACS describes each AU by these appearance
changes; the comments name the AU behind each coefficient).

Sides: ``sign`` -1 is the viewer's left = the subject's right (FACS "R"), +1 the other.
"""
from __future__ import annotations

import numpy as np

from fer_bench.synth.canvas import Canvas, bezier, ellipse_points, shade
from fer_bench.synth.facs import AU_INDEX, LEFT, RIGHT
from fer_bench.synth.identity import Identity

SIDES = ((-1, RIGHT), (1, LEFT))
SCLERA = (236, 232, 226)
PUPIL = (14, 10, 10)
MOUTH_INSIDE = (58, 18, 22)
TEETH = (238, 234, 222)


class AUs:
    """Read access to an AU state: ``a[12]`` -> intensities (right, left); ``a.mean(12)``."""

    def __init__(self, state: np.ndarray):
        self.state = state
        self._means = state.astype(np.float64).mean(axis=1).tolist()  # plain floats: fast

    def __getitem__(self, au: int) -> np.ndarray:
        return self.state[AU_INDEX[au]]

    def mean(self, au: int) -> float:
        return self._means[AU_INDEX[au]]


def jaw_drop(a: AUs) -> float:
    """How far the chin moves down (AU26, helped by the lips parting, AU25)."""
    return 0.32 * a.mean(26) + 0.03 * a.mean(25)


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
    eu = idn.eye_h * max(0.04, 1 + 0.9 * a5 - 0.3 * a7 - 0.35 * a6 - 0.2 * a4 - 0.15 * a9 - 0.96 * a43)
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


# --- nose ------------------------------------------------------------------------------
def paint_nose(c: Canvas, idn: Identity, a: AUs, light_x: float) -> None:
    a9, a10 = a.mean(9), a.mean(10)
    ny = idn.nose_y - 0.05 * a9 - 0.02 * a10             # AU9 pulls the nostrils up
    nw = idn.nose_w * (1 + 0.18 * a9)                      # ... and flares the wings
    dark = shade(idn.skin, 0.55)
    shadow_side = -1 if light_x > 0 else 1
    # bridge shadow on the side away from the light
    bridge = np.array([[shadow_side * 0.07, -0.05], [shadow_side * 0.09, ny - 0.25],
                       [shadow_side * nw * 0.75, ny - 0.06], [shadow_side * 0.02, ny - 0.1],
                       [shadow_side * 0.03, -0.05]])
    dz = np.array([0.05, 0.15, 0.12, 0.3, 0.05])
    c.polygon(c.proj.surface(bridge, dz), dark, 45 + 40 * abs(light_x))
    for sign, side in SIDES:
        ala = bezier([sign * nw * 0.55, ny - 0.12], [sign * nw * 1.02, ny - 0.03],
                     [sign * nw * 0.62, ny + 0.035], 8)
        c.line(c.proj.surface(ala, 0.14), dark, 0.02, 170 + 60 * a9)
        nostril = ellipse_points(sign * nw * 0.42, ny + 0.01, 0.055, 0.022, 12)
        c.polygon(c.proj.surface(nostril, 0.2), shade(idn.skin, 0.35), 230)
    tip = ellipse_points(0, ny - 0.08, 0.06, 0.045, 10)
    c.polygon(c.proj.surface(tip, 0.34), shade(idn.skin, 1.12), 90)
    if a9 > 0.05:  # horizontal wrinkles across the bridge
        for k in range(3):
            y = 0.06 + 0.07 * k
            pts = np.array([[-0.09, y + 0.02], [0.0, y - 0.005], [0.09, y + 0.02]])
            c.line(c.proj.surface(pts, 0.12 + 0.04 * k), dark, 0.016, 230 * a9)


# --- mouth -----------------------------------------------------------------------------
class MouthShape:
    """Lip lines of the mouth (face units), sampled left to right in the image."""

    def __init__(self, idn: Identity, a: AUs, n: int = 19):
        u = np.linspace(-1, 1, n)
        side = np.where(u < 0, RIGHT, LEFT)
        g = {k: a[k][side] for k in (10, 12, 14, 15, 16, 17, 20, 23, 24)}
        m = {k: a.mean(k) for k in (9, 10, 12, 16, 17, 20, 23, 24, 25, 26)}
        drop = jaw_drop(a)
        mw, my = idn.mouth_w, idn.mouth_y
        corner_x = mw * (1 + 0.28 * g[12] + 0.32 * g[20] - 0.12 * g[14] - 0.15 * g[23]
                         - 0.06 * g[24] + 0.05 * g[10])
        corner_y = (my - 0.19 * g[12] - 0.05 * g[14] + 0.15 * g[15] + 0.03 * g[20]
                    - 0.03 * g[10] + 0.25 * drop)
        sealed = 1 - min(1.0, 1.5 * max(m[23], m[24]))
        gap = sealed * (0.04 * m[25] + drop + 0.03 * m[10] * m[25] + 0.04 * m[16])
        uc = my - 0.07 * m[10] - 0.025 * m[9]                   # AU10 raises the upper lip
        lc = uc + gap - 0.03 * m[17] * (gap > 0.01)
        au = np.abs(u)
        pw = 1.8 + 1.4 * g[12] - 0.4 * g[15]                     # smiles curve the lip line up
        pl = 1.6 + 2.0 * g[20] + 0.8 * g[12]                     # stretching squares the opening
        self.x = u * corner_x
        self.upper_in = uc + (corner_y - uc) * au ** pw
        self.lower_in = lc + (corner_y - lc) * au ** pl
        ut = idn.lip_up * (1 - 0.45 * m[23] - 0.6 * m[24] - 0.3 * m[20] - 0.25 * m[12])
        lt = idn.lip_low * (1 - 0.4 * m[23] - 0.55 * m[24] - 0.25 * m[20] + 0.3 * m[17] + 0.2 * m[16])
        bow = 1 + 0.3 * np.exp(-((au - 0.25) / 0.15) ** 2) - 0.2 * np.exp(-(u / 0.08) ** 2)
        self.upper_out = self.upper_in - ut * np.clip(1 - au ** 1.6, 0, 1) ** 0.7 * bow
        self.lower_out = self.lower_in + lt * np.clip(1 - au ** 2, 0, 1) ** 0.6
        self.gap, self.corner_x, self.corner_y, self.drop = gap, corner_x, corner_y, drop
        self.press = max(m[23], m[24])
        self.u = u

    def pts(self, ys: np.ndarray, mask=None) -> np.ndarray:
        p = np.column_stack([self.x, ys])
        return p if mask is None else p[mask]


def paint_mouth(c: Canvas, idn: Identity, a: AUs, mouth: MouthShape) -> None:
    lips = idn.lips
    dz = 0.08
    outer = np.vstack([mouth.pts(mouth.upper_out), mouth.pts(mouth.lower_out)[::-1]])
    c.polygon(c.proj.surface(outer, dz), lips)
    # the upper lip is in shade, the lower one catches light
    c.polygon(c.proj.surface(np.vstack([mouth.pts(mouth.upper_out),
                                        mouth.pts(mouth.upper_in)[::-1]]), dz),
              shade(lips, 0.85), 140)
    if mouth.gap > 0.012:
        opening = np.vstack([mouth.pts(mouth.upper_in), mouth.pts(mouth.lower_in)[::-1]])
        c.polygon(c.proj.surface(opening, dz), MOUTH_INSIDE)
        inner = np.abs(mouth.u) < 0.78
        tooth_h = 0.055 + 0.03 * a.mean(10)
        bottom = np.minimum(mouth.upper_in + tooth_h * (1 - np.abs(mouth.u) ** 4), mouth.lower_in)
        c.polygon(c.proj.surface(np.vstack([mouth.pts(mouth.upper_in, inner),
                                            mouth.pts(bottom, inner)[::-1]]), dz - 0.02), TEETH)
        lower_show = 0.03 * (a.mean(16) + a.mean(20) + a.mean(26)) + 0.01
        top = np.maximum(mouth.lower_in - lower_show * (1 - np.abs(mouth.u) ** 3), bottom)
        c.polygon(c.proj.surface(np.vstack([mouth.pts(top, inner),
                                            mouth.pts(mouth.lower_in, inner)[::-1]]), dz - 0.03),
                  shade(TEETH, 0.9))
    else:
        c.line(c.proj.surface(mouth.pts(mouth.upper_in), dz), shade(lips, 0.45), 0.018,
               200 + 55 * mouth.press)


def paint_folds(c: Canvas, idn: Identity, a: AUs, mouth: MouthShape) -> None:
    """Nasolabial folds, dimples, marionette lines and chin of the lower face."""
    dark = shade(idn.skin, 0.6)
    for sign, side in SIDES:
        a6, a9, a10, a11, a12, a14, a15, a20 = (a[k][side] for k in (6, 9, 10, 11, 12, 14, 15, 20))
        i = -1 if sign > 0 else 0
        cx, cy = mouth.x[i], mouth.corner_y[i]
        depth = min(1.0, 0.12 + 0.3 * idn.age + 0.9 * a12 + 0.8 * a10 + 0.6 * a9 + 0.7 * a11
                    + 0.3 * a6 + 0.2 * a20)
        top = [sign * (idn.nose_w + 0.03), idn.nose_y - 0.08 - 0.04 * a9]
        bottom = [cx + sign * (0.06 + 0.04 * a12), cy + 0.06 - 0.04 * a12]
        mid = [sign * (abs(cx) + 0.08 + 0.05 * a12), (top[1] + bottom[1]) / 2]
        c.line(c.proj.surface(bezier(top, mid, bottom, 9), 0.04), dark, 0.022, 215 * depth)
        if a14 > 0.05:  # buccinator dimple just outside the corner
            pts = bezier([cx + sign * 0.04, cy - 0.05], [cx + sign * 0.07, cy], [cx + sign * 0.035,
                                                                                   cy + 0.05], 6)
            c.line(c.proj.surface(pts, 0.04), dark, 0.02, 255 * min(1.0, 1.4 * a14))
        marionette = 220 * a15 + 60 * idn.age
        if marionette > 10:
            pts = bezier([cx + sign * 0.01, cy + 0.02], [cx + sign * 0.04, cy + 0.12],
                         [cx + sign * 0.03, cy + 0.24], 6)
            c.line(c.proj.surface(pts, 0.03), dark, 0.018, marionette)
    a17 = a.mean(17)
    y = float(mouth.lower_out[len(mouth.u) // 2]) + 0.07 - 0.03 * a17
    sulcus = bezier([-0.14, y + 0.02], [0, y - 0.01 * (1 + a17)], [0.14, y + 0.02], 7)
    c.line(c.proj.surface(sulcus, 0.03), dark, 0.02, 90 + 160 * a17)
    if a17 > 0.1:  # mentalis pushes the chin boss up and dimples its skin
        rng = np.random.default_rng(int(idn.mouth_w * 1e6))
        for _ in range(6):
            p = np.array([[rng.uniform(-0.12, 0.12), y + 0.08 + rng.uniform(0, 0.12)]])
            c.dot(c.proj.surface(p, 0.02), 0.012, dark, 150 * a17)
