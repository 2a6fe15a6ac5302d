"""Read access to an AU state for the painters, and the face sides.

Sides: ``sign`` -1 is the viewer's left = the subject's right (FACS "R"), +1 the other.
"""
from __future__ import annotations

import numpy as np

from fer_bench.synth.facs import AU_INDEX, LEFT, RIGHT

SIDES = ((-1, RIGHT), (1, LEFT))


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
