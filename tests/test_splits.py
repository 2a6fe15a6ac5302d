"""Split rules of unseen-expression, few-shot and subject-folds (fer_bench.splits)."""
from __future__ import annotations

import numpy as np
import pytest

from fer_bench.splits import few_shot_support, fold_of_rows, unseen_and_seen
from fer_bench.vocabulary import BASIC, BASIC7, COMPOUND


# -- unseen / seen classes ------------------------------------------------------------
def test_contempt_is_the_unseen_class_of_a_basic7_encoder_on_8_classes():
    groups = unseen_and_seen(BASIC, BASIC7)
    assert groups.unseen == ("contempt",)
    assert groups.seen == BASIC7


def test_pretrain_names_are_compared_canonically_and_dataset_order_is_kept():
    groups = unseen_and_seen(("sadness", "happiness", "contempt", "neutral"),
                             ("Happy", "neutral", "contemptuous"))
    assert groups.unseen == ("sadness",)
    assert groups.seen == ("happiness", "contempt", "neutral")


def test_no_pretrain_labels_means_every_class_is_unseen():
    assert unseen_and_seen(BASIC, ()) == unseen_and_seen(BASIC, [])
    assert unseen_and_seen(BASIC, ()).unseen == BASIC and unseen_and_seen(BASIC, ()).seen == ()
    assert unseen_and_seen(COMPOUND, BASIC).unseen == COMPOUND


def test_unseen_never_leaks_into_seen_for_any_label_subset():
    rng = np.random.default_rng(0)
    vocabulary = np.array(BASIC + COMPOUND)
    for _ in range(200):
        classes = tuple(rng.choice(vocabulary, rng.integers(1, 12), replace=False))
        pretrain = tuple(rng.choice(vocabulary, rng.integers(0, 12), replace=False))
        g = unseen_and_seen(classes, pretrain)
        assert set(g.unseen).isdisjoint(g.seen)
        assert set(g.unseen) | set(g.seen) == set(classes)
        assert set(g.seen) <= set(pretrain) and set(g.unseen).isdisjoint(pretrain)


def test_unknown_pretrain_name_is_refused_by_name():
    with pytest.raises(ValueError, match="grumpy"):
        unseen_and_seen(BASIC, ("grumpy",))


# -- few-shot supports ------------------------------------------------------------------
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


# -- folds ------------------------------------------------------------------------------
def test_fold_of_rows_from_test_parts():
    folds = [(np.array([2, 3, 4]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3, 4]))]
    assert fold_of_rows(folds, 5).tolist() == [0, 0, 1, 1, 1]


def test_fold_of_rows_refuses_overlap_and_gaps():
    with pytest.raises(ValueError, match="re-uses"):
        fold_of_rows([([], np.array([0, 1])), ([], np.array([1, 2]))], 3)
    with pytest.raises(ValueError, match="1 rows are in no test fold"):
        fold_of_rows([([], np.array([0, 1]))], 3)
