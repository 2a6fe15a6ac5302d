"""Identity: the appearance parameters of one synthetic person.

Lengths are in face units: the face is about 2 units wide and 2.6 tall, x grows to the
viewer's right and y downwards, the origin sits between the eyes' level and the nose.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Skin tones from light to deep (sRGB); an identity interpolates between neighbours.
_SKIN = np.array([(250, 221, 200), (236, 196, 166), (222, 171, 127), (196, 140, 98),
                  (160, 104, 68), (118, 76, 50), (84, 56, 40)], np.float32)
_HAIR = np.array([(20, 16, 14), (52, 36, 26), (96, 64, 38), (150, 108, 62), (214, 180, 120),
                  (140, 56, 30), (160, 160, 160), (230, 230, 226)], np.float32)
_HAIR_P = np.array([0.3, 0.25, 0.15, 0.08, 0.07, 0.05, 0.06, 0.04])
_IRIS = np.array([(60, 38, 22), (96, 62, 34), (70, 100, 60), (70, 110, 150), (110, 120, 128)],
                 np.float32)
HAIR_STYLES = ("bald", "short", "side", "fringe", "long", "curly", "bun")


@dataclass(frozen=True)
class Identity:
    # face shape
    face_w: float          # half-width at the cheekbones
    face_top: float        # forehead height above the eye line
    face_bottom: float     # chin depth below the eye line
    jaw: float             # superellipse exponent of the jaw (2 round, 3+ square)
    chin: float            # chin narrowing 0..1
    # features
    eye_x: float
    eye_y: float
    eye_w: float
    eye_h: float
    eye_tilt: float
    iris_r: float
    brow_y: float          # gap brow-eye
    brow_thick: float
    brow_arch: float
    brow_len: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_up: float
    lip_low: float
    ear: float
    # colours
    skin: tuple[float, float, float]
    lips: tuple[float, float, float]
    hair_rgb: tuple[float, float, float]
    iris_rgb: tuple[float, float, float]
    clothes: tuple[float, float, float]
    # extras
    hair_style: str
    hairline: float        # forehead coverage 0..1
    glasses: int           # 0 none, 1 round, 2 rectangular
    age: float             # 0 young .. 1 old: static wrinkles, eye bags
    beard: float           # 0 none .. 1 full stubble darkness
    blush: float


def sample_identity(rng: np.random.Generator, glasses_p: float = 0.15) -> Identity:
    u = rng.uniform
    tone = u(0, len(_SKIN) - 1)
    lo = int(tone)
    skin = _SKIN[lo] + (tone - lo) * (_SKIN[min(lo + 1, len(_SKIN) - 1)] - _SKIN[lo])
    skin = skin * u(0.95, 1.05, 3)
    lips = skin * np.array([0.92, 0.62, 0.62]) * u(0.85, 1.05) + np.array([12, 0, 4])
    age = float(rng.beta(1.3, 2.5))
    hair = _HAIR[rng.choice(len(_HAIR), p=_HAIR_P)] * u(0.85, 1.15)
    if age > 0.7 and rng.random() < 0.6:
        hair = _HAIR[6 + rng.integers(2)]
    clothes = u(20, 235, 3)
    style = str(rng.choice(HAIR_STYLES, p=[0.06, 0.26, 0.16, 0.14, 0.22, 0.1, 0.06]))
    masculine = rng.random() < 0.5
    eye_h = u(0.075, 0.11)
    return Identity(
        face_w=u(0.88, 1.06), face_top=u(1.2, 1.4), face_bottom=u(1.38, 1.62),
        jaw=u(2.0, 3.4) if masculine else u(1.8, 2.6), chin=u(0.1, 0.45),
        eye_x=u(0.36, 0.44), eye_y=u(-0.04, 0.04), eye_w=u(0.17, 0.22), eye_h=eye_h,
        eye_tilt=u(-0.03, 0.05), iris_r=eye_h * u(0.85, 1.0),
        brow_y=u(0.2, 0.3), brow_thick=u(0.05, 0.1) if masculine else u(0.035, 0.07),
        brow_arch=u(0.02, 0.09), brow_len=u(0.42, 0.55),
        nose_y=u(0.52, 0.62), nose_w=u(0.15, 0.22),
        mouth_y=u(0.9, 1.0), mouth_w=u(0.3, 0.4), lip_up=u(0.045, 0.08),
        lip_low=u(0.06, 0.1), ear=u(0.8, 1.1),
        skin=tuple(np.clip(skin, 0, 255).tolist()), lips=tuple(np.clip(lips, 0, 255).tolist()),
        hair_rgb=tuple(np.clip(hair, 0, 255).tolist()),
        iris_rgb=tuple(_IRIS[rng.integers(len(_IRIS))].tolist()),
        clothes=tuple(clothes.tolist()),
        hair_style=style, hairline=u(0.0, 1.0),
        glasses=int(rng.choice(3, p=[1 - glasses_p, glasses_p / 2, glasses_p / 2])),
        age=age, beard=float(u(0.3, 1.0)) if masculine and rng.random() < 0.3 else 0.0,
        blush=float(u(0.0, 0.5)),
    )
