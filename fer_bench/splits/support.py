"""Few-shot supports: a seeded, class-balanced draw of ``n`` rows per class."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SupportDraw:
    """One few-shot support: ``index`` (sorted row positions into the pool) and the
    classes that had fewer than the requested ``n`` rows (class id -> rows available,
    all of which were taken)."""
    index: np.ndarray
    n: int
    short: dict[int, int]

    def per_class(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        return np.bincount(np.asarray(y)[self.index], minlength=n_classes)


def few_shot_support(y: np.ndarray, n: int, n_classes: int, seed: int,
                     draw: int) -> SupportDraw:
    """``n`` rows of every class of ``y`` (labels in ``[0, n_classes)``), drawn at random.

    Draw ``draw`` shuffles each class with ``np.random.default_rng([seed, draw, class])``
    and takes the first ``n`` rows, so the draw does not depend on ``n`` or on the other
    classes: the 1-shot support is inside the 5-shot support of the same draw, which
    makes a curve over ``n`` vary only in ``n``, not in which rows were lucky. A class
    with fewer than ``n`` rows gives all it has (clamped) and is listed in ``short``; a
    class with none is simply absent from the support.
    """
    if n < 1:
        raise ValueError(f"shots per class must be >= 1, got {n}")
    y = np.asarray(y)
    if y.ndim != 1 or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
        raise ValueError(f"labels must be a 1-D array of class ids in [0, {n_classes})")
    picked, short = [], {}
    for label in range(n_classes):
        members = np.flatnonzero(y == label)
        if len(members) < n:
            short[label] = len(members)
        rng = np.random.default_rng([int(seed), int(draw), label])
        picked.append(rng.permutation(members)[:n])
    index = np.sort(np.concatenate(picked)).astype(np.int64)
    return SupportDraw(index, int(n), short)
