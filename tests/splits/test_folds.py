"""Subject-independent folds (fer_bench.splits.folds) and their Dataset wrapper
(fer_bench.datasets.folds)."""
import numpy as np
import pandas as pd
import pytest

from fer_bench.datasets import Dataset, DatasetError
from fer_bench.datasets.folds import subject_folds
from fer_bench.splits import fold_of_rows, subject_kfold


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


def test_the_dataset_wrapper_is_the_rule_on_its_manifest():
    ds = lab_dataset()
    manifest = ds.manifest
    rule = subject_kfold(manifest["subject"].to_numpy(), manifest["label"].to_numpy(), 4, 2)
    for (a_train, a_test), (b_train, b_test) in zip(subject_folds(ds, k=4, seed=2), rule):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_the_rule_refuses_missing_subjects_and_too_few_subjects():
    with pytest.raises(ValueError, match="2 rows have no subject"):
        subject_kfold(["a", "", "b", ""], ["x", "y", "x", "y"], 2)
    with pytest.raises(ValueError, match="2 subjects cannot make 3"):
        subject_kfold(["a", "a", "b", "b"], ["x", "y", "x", "y"], 3)


def test_fold_of_rows_from_test_parts():
    folds = [(np.array([2, 3, 4]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3, 4]))]
    assert fold_of_rows(folds, 5).tolist() == [0, 0, 1, 1, 1]


def test_fold_of_rows_refuses_overlap_and_gaps():
    with pytest.raises(ValueError, match="re-uses"):
        fold_of_rows([([], np.array([0, 1])), ([], np.array([1, 2]))], 3)
    with pytest.raises(ValueError, match="1 rows are in no test fold"):
        fold_of_rows([([], np.array([0, 1]))], 3)
