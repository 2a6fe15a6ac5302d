"""Expressions as published FACS codings, and how one subject produces them.

Basic expressions and contempt follow the EMFACS prototypes (Ekman & Friesen; the
combinations listed in the FACS Investigator's Guide, Ekman, Friesen & Hager 2002):
happiness 6+12, sadness 1+4+15, surprise 1+2+5B+26, fear 1+2+4+5+7+20+26,
anger 4+5+7+23, disgust 9+15+16, contempt R12A+R14A.
Compound expressions follow Du, Tao & Martinez, "Compound facial expressions of emotion",
PNAS 111(15):E1454 (2014), Table 1: the AUs active in more than 70 % of their 230 subjects
form the core; the bracketed AUs with the share of subjects who used them are variants.
For the basic expressions the AUs Du et al. found beyond the EMFACS core are variants too,
so the two sources agree where they overlap and real variability is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer_bench.synth.facs import AU_INDEX, LEFT, RIGHT, zero_aus
from fer_bench.vocabulary import BASIC, COMPOUND


@dataclass(frozen=True)
class Prototype:
    name: str
    core: dict[int, float]          # AU -> intensity relative to the expression's intensity
    variants: dict[int, float] = field(default_factory=dict)  # AU -> share of subjects using it
    unilateral: tuple[int, ...] = ()  # AUs shown on one side only (contempt)


# Du et al. percentages as shares. Relative intensities encode the FACS letter grades of the
# prototypes (5B in surprise: half; contempt's trace-level A is raised to stay visible).
PROTOTYPES: dict[str, Prototype] = {p.name: p for p in (
    Prototype("neutral", {}),
    Prototype("happiness", {6: 0.8, 12: 1.0}, {25: 0.70}),
    Prototype("sadness", {1: 0.9, 4: 0.7, 15: 1.0}, {6: 0.50, 11: 0.26, 17: 0.67}),
    Prototype("surprise", {1: 1.0, 2: 1.0, 5: 0.5, 26: 1.0}, {25: 0.95}),
    Prototype("fear", {1: 1.0, 2: 0.7, 4: 0.8, 5: 1.0, 7: 0.4, 20: 1.0, 26: 0.5}, {25: 0.9}),
    Prototype("anger", {4: 1.0, 5: 0.6, 7: 0.9, 23: 0.9}, {10: 0.26, 17: 0.52, 24: 0.70}),
    Prototype("disgust", {9: 1.0, 15: 0.6, 16: 0.6}, {4: 0.31, 10: 0.70, 17: 0.70, 24: 0.26}),
    Prototype("contempt", {12: 0.6, 14: 0.9}, {}, unilateral=(12, 14)),
    # Du, Tao & Martinez 2014, Table 1.
    Prototype("happily surprised", {1: 0.9, 2: 0.9, 12: 1.0, 25: 1.0}, {5: 0.64, 26: 0.67}),
    Prototype("happily disgusted", {10: 1.0, 12: 0.9, 25: 0.7}, {4: 0.32, 6: 0.61, 9: 0.59}),
    Prototype("sadly fearful", {1: 1.0, 4: 0.8, 20: 0.9, 25: 0.7},
              {2: 0.46, 5: 0.24, 6: 0.34, 15: 0.30}),
    Prototype("sadly angry", {4: 1.0, 15: 1.0}, {6: 0.26, 7: 0.48, 11: 0.20, 17: 0.50}),
    Prototype("sadly surprised", {1: 1.0, 4: 0.7, 25: 0.8, 26: 0.8}, {2: 0.27, 6: 0.31}),
    Prototype("sadly disgusted", {4: 1.0, 10: 1.0},
              {1: 0.49, 6: 0.61, 9: 0.20, 11: 0.35, 15: 0.54, 17: 0.47, 25: 0.43}),
    Prototype("fearfully angry", {4: 1.0, 20: 1.0, 25: 0.8},
              {5: 0.40, 7: 0.39, 10: 0.30, 11: 0.33}),
    Prototype("fearfully surprised", {1: 1.0, 2: 1.0, 5: 1.0, 20: 0.9, 25: 1.0},
              {4: 0.47, 10: 0.35, 11: 0.22, 26: 0.51}),
    Prototype("fearfully disgusted", {1: 0.9, 4: 0.9, 10: 1.0, 20: 0.9, 25: 0.8},
              {9: 0.28, 15: 0.33, 26: 0.33}),
    Prototype("angrily surprised", {4: 1.0, 25: 1.0, 26: 1.0}, {5: 0.35, 7: 0.50, 10: 0.34}),
    Prototype("disgustedly surprised", {1: 1.0, 2: 1.0, 5: 0.9, 10: 1.0},
              {9: 0.37, 25: 0.43, 26: 0.49}),
    Prototype("angrily disgusted", {4: 1.0, 10: 1.0, 17: 0.8}, {7: 0.60, 9: 0.57, 24: 0.36}),
    Prototype("appalled", {4: 1.0, 10: 1.0}, {6: 0.25, 9: 0.56, 17: 0.67, 24: 0.36}),
    Prototype("hatred", {4: 1.0, 10: 1.0}, {7: 0.57, 9: 0.27, 17: 0.63, 24: 0.37}),
    Prototype("awed", {1: 1.0, 2: 1.0, 5: 0.9, 25: 1.0}, {4: 0.21, 20: 0.62, 26: 0.56}),
)}
assert set(PROTOTYPES) == set(BASIC) | set(COMPOUND)

# Share of its nominal intensity that an expression's strongest AU never falls below.
DEFINING_FLOOR = 0.6
# AUs a subject may lack entirely (people differ in which muscles they control voluntarily).
_DROPPABLE = (1, 2, 5, 6, 7, 9, 10, 17, 23, 24)
# Low-level habits some subjects add to every face (a tight mouth, a slight squint, ...).
_HABITS = (7, 14, 15, 17, 24, 25, 4, 12)
# Faint actions that leak into "neutral" faces in the wild.
_NEUTRAL_LEAKS = (25, 12, 15, 4, 7, 1, 17, 14)


@dataclass(frozen=True)
class SubjectStyle:
    """How one subject produces expressions: per-subject idiosyncrasy."""
    gain: np.ndarray                 # per-AU expressiveness multiplier
    duchenne: float                  # probability of AU6 in a smile
    dropped: tuple[int, ...]         # AUs this subject never shows
    habit: int | None                # AU added at low intensity to every face
    habit_level: float
    asymmetry: float                 # > 0: right side stronger
    contempt_side: int               # RIGHT or LEFT


def sample_style(rng: np.random.Generator, idiosyncrasy: float = 1.0) -> SubjectStyle:
    """Draw a subject's style; ``idiosyncrasy`` 0 gives textbook expressions."""
    k = idiosyncrasy
    gain = np.exp(rng.normal(0.0, 0.25 * k, len(AU_INDEX))).astype(np.float32)
    dropped = tuple(int(a) for a in _DROPPABLE if rng.random() < 0.08 * k)
    habit = int(rng.choice(_HABITS)) if rng.random() < 0.2 * k else None
    return SubjectStyle(
        gain=gain,
        duchenne=float(np.clip(rng.beta(2.0, 2.0) if k else 0.9, 0.0, 1.0)),
        dropped=dropped,
        habit=habit,
        habit_level=float(rng.uniform(0.1, 0.3)),
        asymmetry=float(rng.normal(0.0, 0.07 * k)),
        contempt_side=RIGHT if rng.random() < 0.7 else LEFT,
    )


def sample_aus(expression: str, intensity: float, style: SubjectStyle,
               rng: np.random.Generator, neutral_leak: float = 0.0) -> np.ndarray:
    """AU state (AUs x 2 sides, in [0, 1]) of one face showing ``expression``.

    ``neutral_leak``: probability that a neutral face carries one faint stray action.
    """
    proto = PROTOTYPES[expression]
    aus = zero_aus()
    strongest = max(proto.core, key=proto.core.get) if proto.core else None

    def put(au: int, value: float) -> None:
        i = AU_INDEX[au]
        aus[i] = np.maximum(aus[i], value * style.gain[i])

    for au, rel in proto.core.items():
        if au in style.dropped and au != strongest:
            continue
        if au == 6 and 12 in proto.core and rng.random() > style.duchenne:
            continue  # this subject smiles without the cheek raise this time
        put(au, intensity * rel * rng.uniform(0.8, 1.15))
    for au, share in proto.variants.items():
        if au in style.dropped:
            continue
        if au == 6 and 12 in proto.core:
            share = style.duchenne
        if rng.random() < share:
            put(au, intensity * rng.uniform(0.45, 0.95))
    if strongest is not None:  # the defining AU always shows: a floor against low gains
        i = AU_INDEX[strongest]
        aus[i] = np.maximum(aus[i], DEFINING_FLOOR * intensity * proto.core[strongest])
    if style.habit is not None:
        put(style.habit, style.habit_level)
    if expression == "neutral" and rng.random() < neutral_leak:
        put(int(rng.choice(_NEUTRAL_LEAKS)), rng.uniform(0.05, 0.25))

    side = 1.0 + np.float32(style.asymmetry + rng.normal(0.0, 0.03))
    aus[:, RIGHT] *= side
    aus[:, LEFT] *= 2.0 - side
    for au in proto.unilateral:
        aus[AU_INDEX[au], 1 - style.contempt_side] *= rng.uniform(0.0, 0.15)
    return np.clip(aus, 0.0, 1.0)
