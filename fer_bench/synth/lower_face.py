"""Painters for the lower face that action units move: nose (AU9), lips and jaw (AU10,
12, 14, 15, 16, 17, 20, 23, 24, 25, 26) and the folds they deepen (nasolabial, dimples,
chin). The comments name the AU behind each coefficient."""
from __future__ import annotations

import numpy as np

from fer_bench.synth.au_state import SIDES, AUs, jaw_drop
from fer_bench.synth.canvas import Canvas, bezier, ellipse_points, shade
from fer_bench.synth.facs import LEFT, RIGHT
from fer_bench.synth.identity import Identity

MOUTH_INSIDE = (58, 18, 22)
TEETH = (238, 234, 222)


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
    for sign, _side in SIDES:
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
        lt = idn.lip_low * (1 - 0.4 * m[23] - 0.55 * m[24] - 0.25 * m[20] + 0.3 * m[17]
                            + 0.2 * m[16])
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
