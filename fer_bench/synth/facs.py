"""Facial action units (FACS, Ekman, Friesen & Hager 2002) that the renderer can show.

Intensities are floats in [0, 1]; FACS letter grades map onto them as A trace (0.1-0.3),
B slight, C marked, D severe, E maximum (0.85-1). Every AU is stored per side of the face
(subject's right, subject's left) so that unilateral actions such as contempt's R12A+R14A
are representable; FACS writes those with an R/L prefix.
"""
from __future__ import annotations

import numpy as np

# AU number -> FACS name (muscular basis in comments where it explains the rendering).
ACTION_UNITS: dict[int, str] = {
    1: "inner brow raiser",        # frontalis, pars medialis
    2: "outer brow raiser",        # frontalis, pars lateralis
    4: "brow lowerer",             # corrugator, depressor supercilii, procerus
    5: "upper lid raiser",         # levator palpebrae superioris
    6: "cheek raiser",             # orbicularis oculi, pars orbitalis (crow's feet)
    7: "lid tightener",            # orbicularis oculi, pars palpebralis
    9: "nose wrinkler",            # levator labii superioris alaeque nasi
    10: "upper lip raiser",        # levator labii superioris
    11: "nasolabial deepener",     # zygomaticus minor
    12: "lip corner puller",       # zygomaticus major
    14: "dimpler",                 # buccinator
    15: "lip corner depressor",    # depressor anguli oris
    16: "lower lip depressor",     # depressor labii inferioris
    17: "chin raiser",             # mentalis
    20: "lip stretcher",           # risorius
    23: "lip tightener",           # orbicularis oris
    24: "lip pressor",             # orbicularis oris
    25: "lips part",
    26: "jaw drop",
    43: "eyes closed",
}
AU_NUMBERS: tuple[int, ...] = tuple(ACTION_UNITS)
AU_INDEX: dict[int, int] = {au: i for i, au in enumerate(AU_NUMBERS)}
RIGHT, LEFT = 0, 1  # the *subject's* right and left; the subject's right is the viewer's left

_GRADES = ((0.85, "E"), (0.65, "D"), (0.45, "C"), (0.25, "B"), (0.0, "A"))


def zero_aus() -> np.ndarray:
    """An all-neutral AU state: float32 array (number of AUs, 2 sides)."""
    return np.zeros((len(AU_NUMBERS), 2), np.float32)


def au_column(au: int) -> str:
    return f"au_{au}"


def grade(intensity: float) -> str:
    """FACS letter grade (A..E) of an intensity in (0, 1]."""
    for lower, letter in _GRADES:
        if intensity >= lower:
            return letter
    return "A"


def facs_code(aus: np.ndarray, threshold: float = 0.1) -> str:
    """FACS notation of an AU state, e.g. ``1C+2C+5B+26C`` or ``R12B+R14C``.

    An AU whose weaker side is under a third of its stronger side counts as unilateral.
    """
    parts = []
    for au, (right, left) in zip(AU_NUMBERS, aus):
        strong = max(right, left)
        if strong < threshold:
            continue
        side = ""
        if min(right, left) < strong / 3:
            side = "R" if right > left else "L"
        parts.append(f"{side}{au}{grade(strong)}")
    return "+".join(parts)
