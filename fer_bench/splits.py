"""Split rules of the unseen-expression, few-shot and subject-folds protocols.

Pure functions over labels, class names and subject ids (no features, no datasets), so
each rule is tested on hand-made arrays:

- :func:`unseen_and_seen`: which of a dataset's classes an encoder saw in pre-training;
- :func:`few_shot_support`: a seeded, class-balanced support of ``n`` rows per class;
- :func:`fold_of_rows`: the test fold of every row, from a list of (train, test) folds.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_bench.vocabulary import canonical


@dataclass(frozen=True)
class ClassGroups:
    """A dataset's classes split by whether the encoder's pre-training labels held them
    (both in the dataset's own order)."""
    unseen: tuple[str, ...]
    seen: tuple[str, ...]


def unseen_and_seen(classes: Sequence[str], pretrain_classes: Sequence[str]) -> ClassGroups:
    """Split ``classes`` into those outside and inside ``pretrain_classes``.

    Names are compared in the canonical vocabulary (``"happy"`` is ``"happiness"``). An
    empty ``pretrain_classes`` means the encoder never saw an expression label
    (self-supervised, random or pixel floors): every class counts as unseen, so the
    unseen score of such an encoder is simply its score on the whole dataset.
    """
    try:
        pretrained = {canonical(c) for c in pretrain_classes}
        names = [canonical(c) for c in classes]
    except KeyError as e:
        raise ValueError(f"cannot compare class names: {e.args[0]}") from None
    unseen = tuple(c for c in names if c not in pretrained)
    seen = tuple(c for c in names if c in pretrained)
    return ClassGroups(unseen, seen)


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


def fold_of_rows(folds: Sequence[tuple[np.ndarray, np.ndarray]], n_rows: int) -> np.ndarray:
    """The test fold (0..k-1) of each of ``n_rows`` rows, from k (train, test) index pairs.

    Refuses folds whose test parts overlap or leave a row out: every row must be scored
    exactly once for pooled scores to mean anything.
    """
    fold = np.full(n_rows, -1, dtype=np.int64)
    for f, (_, test) in enumerate(folds):
        test = np.asarray(test, dtype=np.int64)
        if (fold[test] >= 0).any():
            raise ValueError(f"fold {f} re-uses rows that another fold already tests")
        fold[test] = f
    if (fold < 0).any():
        raise ValueError(f"{int((fold < 0).sum())} rows are in no test fold")
    return fold
