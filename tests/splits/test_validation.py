"""The stratified validation carve (fer_bench.splits.validation)."""
import numpy as np
import pytest

from fer_bench.splits import stratified_val_split


def test_stratified_val_split_is_seeded_and_stratified():
    y = np.repeat([0, 1, 2, 3], [100, 40, 5, 1])
    train, val = stratified_val_split(y, fraction=0.1, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    # round(0.1 * count): 10, 4, then at least one of the five, and the singleton stays in train
    assert np.bincount(y[val], minlength=4).tolist() == [10, 4, 1, 0]
    _, again_val = stratified_val_split(y, fraction=0.1, seed=0)
    np.testing.assert_array_equal(val, again_val)
    _, other_val = stratified_val_split(y, fraction=0.1, seed=1)
    assert not np.array_equal(val, other_val)


def test_every_class_with_two_rows_is_both_trained_on_and_validated():
    y = np.array([0, 0, 1, 1, 1, 2])
    train, val = stratified_val_split(y, fraction=0.1, seed=3)
    assert sorted(y[val].tolist()) == [0, 1]          # one of each pair, none of the singleton
    assert set(y[train].tolist()) == {0, 1, 2}


def test_bad_fraction_and_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        stratified_val_split(np.zeros(4, int), fraction=1.0)
    with pytest.raises(ValueError, match="1-D"):
        stratified_val_split(np.zeros((2, 2), int))
