"""Subject-independent k folds, and the test fold of every row.

A subject's rows all fall in one test fold, so no face seen in training is scored (the
usual CK+ / Oulu protocol: 10 folds by subject). Folds are stratified by label as far as
whole subjects allow (scikit-learn's ``StratifiedGroupKFold``, shuffled with ``seed``).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


def subject_kfold(subjects: Sequence[str], labels: Sequence[str], k: int = 10,
                  seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_idx, test_idx) pairs of row positions, grouped by ``subjects`` and
    stratified by ``labels`` (one string per row each; ``""`` is no subject)."""
    from sklearn.model_selection import StratifiedGroupKFold

    subjects, labels = np.asarray(subjects), np.asarray(labels)
    if len(subjects) != len(labels):
        raise ValueError(f"{len(subjects)} subjects for {len(labels)} labels")
    if (subjects == "").any():
        raise ValueError(f"{int((subjects == '').sum())} rows have no subject; subject folds "
                         "need one for every row")
    n_subjects = len(set(subjects))
    if n_subjects < k:
        raise ValueError(f"{n_subjects} subjects cannot make {k} subject-independent folds; "
                         "use k <= the number of subjects")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # "The least populated class has only N members": expected on small lab sets.
        warnings.simplefilter("ignore", UserWarning)
        return [(train, test) for train, test in splitter.split(subjects, labels, groups=subjects)]


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
