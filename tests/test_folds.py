import numpy as np
import pandas as pd
import pytest

from fer_bench.datasets import Dataset, DatasetError
from fer_bench.datasets.folds import subject_folds


def lab_dataset(n_subjects=12, per_subject=6, subjects=True):
    rows = [{"id": f"s{s}_{i}", "path": f"s{s}_{i}.png",
             "label": ["happiness", "anger", "neutral"][i % 3],
             "split": "train", "subject": f"S{s:03d}" if subjects else ""}
            for s in range(n_subjects) for i in range(per_subject)]
    return Dataset("lab", ".", ("neutral", "happiness", "anger"), pd.DataFrame(rows))


def test_folds_partition_rows_and_never_share_a_subject():
    ds = lab_dataset()
    folds = subject_folds(ds, k=4, seed=0)
    assert len(folds) == 4
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests) == list(range(len(ds)))               # each row tested exactly once
    subj = ds.manifest["subject"].to_numpy()
    for train, test in folds:
        assert not set(subj[train]) & set(subj[test])
        assert sorted(np.concatenate([train, test])) == list(range(len(ds)))
        assert len(set(subj[test])) == 3                       # 12 subjects / 4 folds


def test_seed_changes_assignment_deterministically():
    ds = lab_dataset()
    a = [tuple(t) for _, t in subject_folds(ds, k=4, seed=0)]
    assert a == [tuple(t) for _, t in subject_folds(ds, k=4, seed=0)]
    assert a != [tuple(t) for _, t in subject_folds(ds, k=4, seed=1)]


def test_fewer_subjects_than_folds_is_an_error():
    with pytest.raises(DatasetError, match="5 subjects cannot make 10"):
        subject_folds(lab_dataset(n_subjects=5), k=10)


def test_rows_without_subject_are_an_error():
    with pytest.raises(DatasetError, match="no subject"):
        subject_folds(lab_dataset(subjects=False), k=2)
