"""Subject-independent k-fold splits for lab datasets (CK+, JAFFE, Oulu-CASIA, CFEE).

A subject's images all fall in one test fold, so no face seen in training is scored
(the usual CK+ / Oulu protocol: 10 folds by subject). Folds are stratified by label as
far as whole subjects allow (sklearn's StratifiedGroupKFold, shuffled with ``seed``).
"""
from __future__ import annotations

import warnings

import numpy as np

from fer_bench.datasets.base import Dataset, DatasetError


def subject_folds(dataset: Dataset, k: int = 10,
                  seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_idx, test_idx) pairs of manifest row positions, grouped by subject."""
    from sklearn.model_selection import StratifiedGroupKFold

    subjects = dataset.manifest["subject"].astype(str).to_numpy()
    if (subjects == "").any():
        raise DatasetError(f"{dataset.name}: {int((subjects == '').sum())} rows have no subject; "
                           "subject folds need one for every row")
    n_subjects = len(set(subjects))
    if n_subjects < k:
        raise DatasetError(f"{dataset.name}: {n_subjects} subjects cannot make {k} "
                           "subject-independent folds; use k <= the number of subjects")
    labels = dataset.manifest["label"].astype(str).to_numpy()
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # "The least populated class has only N members": expected on small lab sets.
        warnings.simplefilter("ignore", UserWarning)
        return [(train, test) for train, test in splitter.split(subjects, labels, groups=subjects)]
