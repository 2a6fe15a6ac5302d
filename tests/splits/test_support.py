"""Few-shot supports (fer_bench.splits.support)."""
from __future__ import annotations

import numpy as np
import pytest

from fer_bench.splits import few_shot_support

Y = np.array([0] * 30 + [1] * 12 + [2] * 3 + [3] * 25)   # class 2 is rare


def test_support_is_class_balanced_and_inside_the_pool():
    draw = few_shot_support(Y, 5, 5, seed=0, draw=0)
    # class 2 has 3 rows (all taken, recorded as short), class 4 none (absent, short)
    assert draw.per_class(Y, 5).tolist() == [5, 5, 3, 5, 0]
    assert draw.short == {2: 3, 4: 0}
    assert np.all(np.diff(draw.index) > 0) and draw.index.max() < len(Y)


def test_support_is_seeded_and_draws_differ():
    a, b = few_shot_support(Y, 5, 4, 0, 0), few_shot_support(Y, 5, 4, 0, 0)
    assert np.array_equal(a.index, b.index)
    assert not np.array_equal(a.index, few_shot_support(Y, 5, 4, 0, 1).index)
    assert not np.array_equal(a.index, few_shot_support(Y, 5, 4, 1, 0).index)


def test_supports_are_nested_over_shots():
    previous = set()
    for n in (1, 5, 10, 20):
        current = set(few_shot_support(Y, n, 4, 3, 2).index)
        assert previous <= current
        previous = current


def test_support_of_a_class_does_not_depend_on_the_others():
    # the rows drawn for class 0 stay the same when other classes are relabelled away
    other = np.where(Y == 0, 0, 1)
    a = few_shot_support(Y, 5, 4, 0, 0).index
    b = few_shot_support(other, 5, 2, 0, 0).index
    assert set(a[Y[a] == 0]) == set(b[other[b] == 0])


def test_support_rejects_bad_input():
    with pytest.raises(ValueError, match=">= 1"):
        few_shot_support(Y, 0, 4, 0, 0)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        few_shot_support(Y, 1, 3, 0, 0)
