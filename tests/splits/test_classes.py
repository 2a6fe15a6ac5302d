"""Unseen and seen classes of the unseen-expression protocol (fer_bench.splits.classes)."""
from __future__ import annotations

import numpy as np
import pytest

from fer_bench.splits import unseen_and_seen
from fer_bench.vocabulary import BASIC, BASIC7, COMPOUND


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
