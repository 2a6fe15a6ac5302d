"""Subject-independent k-fold splits of a lab dataset (CK+, JAFFE, Oulu-CASIA, CFEE).

The rule itself is :func:`fer_bench.splits.subject_kfold` (10 folds by subject,
stratified by label as far as whole subjects allow); this wrapper applies it to a
:class:`Dataset`'s manifest and names the dataset in its errors.
"""
from __future__ import annotations

import numpy as np

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.splits import subject_kfold


def subject_folds(dataset: Dataset, k: int = 10,
                  seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train_idx, test_idx) pairs of manifest row positions, grouped by subject."""
    subjects = dataset.manifest["subject"].astype(str).to_numpy()
    labels = dataset.manifest["label"].astype(str).to_numpy()
    try:
        return subject_kfold(subjects, labels, k, seed)
    except ValueError as e:
        raise DatasetError(f"{dataset.name}: {e}") from None
