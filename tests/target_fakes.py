"""Datasets with action-unit and continuous labels whose features are given arrays."""
from __future__ import annotations

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset

AUS = (1, 4, 12, 25)


def au_dataset(name="au-set", n_subjects=30, per_subject=12, *, signal=1.0, splits=True,
               seed=0, with_affect=False, dim=16):
    """Rows with AU intensities in [0, 1] (about half absent per AU), subjects, and
    features = ``signal`` x the intensities (first len(AUS) dims) + unit noise; with
    ``splits`` subjects are dealt into train/val/test, else every row is in train."""
    rng = np.random.default_rng(seed)
    n = n_subjects * per_subject
    subject = np.repeat(np.arange(n_subjects), per_subject)
    intensity = np.where(rng.random((n, len(AUS))) < 0.5, 0.0,
                         rng.uniform(0.1, 1.0, (n, len(AUS))))
    X = rng.normal(size=(n, dim))
    X[:, :len(AUS)] += 4 * signal * intensity
    valence = np.tanh(intensity[:, 2] - intensity[:, 1])        # smile up, frown down
    arousal = np.clip(intensity[:, 3] * 2 - 1, -1, 1)
    X[:, len(AUS)] += 3 * signal * valence
    if splits:
        split = np.array(["train", "val", "test"])[np.r_[0, 0, 0, 0, 1, 2][subject % 6]]
    else:
        split = np.full(n, "train")
    ids = [f"{name}-{i}" for i in range(n)]
    table = {"id": ids, "path": ids, "label": "", "split": split,
             "subject": [f"s{s}" for s in subject]}
    for j, au in enumerate(AUS):
        table[f"au_{au}"] = intensity[:, j].round(3)
    if with_affect:
        table["valence"], table["arousal"] = valence, arousal
    ds = Dataset(name, "/nonexistent", ("neutral",), pd.DataFrame(table),
                 official_val=splits)
    ds.info["features"] = {i: x.astype(np.float32) for i, x in zip(ids, X)}
    return ds
