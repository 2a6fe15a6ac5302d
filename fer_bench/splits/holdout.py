"""Subject hold-out: a seeded share of the subjects, all of whose rows are held out."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit


def subject_holdout(rows: pd.DataFrame, fraction: float, seed: int = 0) -> np.ndarray:
    """Boolean mask over ``rows`` (a manifest table with ``id`` and ``subject`` columns):
    the rows of a seeded ``fraction`` of its subjects (scikit-learn ``GroupShuffleSplit``;
    rows without a subject count as their own subject). Computed over every row given,
    labelled or not, so the same subjects are held out whatever the class set."""
    subjects = rows["subject"].fillna("").astype(str).to_numpy(dtype=object)
    ids = rows["id"].astype(str).to_numpy(dtype=object)
    groups = np.where(subjects == "", ids, subjects)
    if len(set(groups)) < 2:
        raise ValueError("a subject holdout needs at least two subjects")
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(groups)), groups=groups))
    mask = np.zeros(len(groups), dtype=bool)
    mask[held] = True
    return mask
