"""Division of datasets for probing: official splits, and the subject holdout of
datasets that have no test split."""
from __future__ import annotations

import math

import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.data_parts import HOLDOUT_TEST, dataset_parts, fit_splits, held_out_rows
from fer_bench.vocabulary import BASIC7


@pytest.fixture
def lab():
    # One pool ("train" only, like synth-lab), 10 subjects with one row per class each,
    # plus unlabelled onset frames (label "") spread over the subjects.
    return blob_dataset("lab", BASIC7, {"train": 10}, official_val=False, subjects=10,
                        extra_labels={"train": [""] * 20})


def context(**datasets):
    store = ArrayStore()
    return RunContext(NeverBuilt(), store, load=datasets.__getitem__, seeds=(0, 1)), store


def subjects_of(part):
    return set(part.rows["subject"])


def test_holdout_keeps_subjects_apart_and_does_not_depend_on_the_class_set(lab):
    ctx, _ = context(lab=lab)
    parts = dataset_parts(ctx, "lab", BASIC7, 0.2)
    assert parts.test_origin == "subject-holdout" and parts.val is None
    assert parts.test.name == f"lab/{HOLDOUT_TEST}"
    held, kept = subjects_of(parts.test), subjects_of(parts.train)
    assert len(held) == 2 and len(kept) == 8 and held.isdisjoint(kept)
    assert len(parts.test) == 2 * 7 and len(parts.train) == 8 * 7
    # the unlabelled rows are dropped on both sides and counted (2 per subject)
    assert parts.dropped == {"lab/train": {"": 16}, f"lab/{HOLDOUT_TEST}": {"": 4}}
    two = dataset_parts(ctx, "lab", ("happiness", "sadness"), 0.2)
    assert subjects_of(two.test) == held
    for seed in ctx.seeds:  # carved validation comes from the kept subjects only
        fit = fit_splits(parts, seed, 0.2)
        assert subjects_of(fit.val) <= kept and set(fit.val.ids).isdisjoint(fit.train.ids)


def test_holdout_treats_rows_without_a_subject_as_their_own_and_refuses_one_subject(lab):
    manifest = lab.manifest.assign(subject="")
    mask = held_out_rows(manifest, 0.25)
    assert mask.sum() == math.ceil(0.25 * len(manifest))  # GroupShuffleSplit rounds up
    with pytest.raises(ProtocolError, match="at least two subjects"):
        held_out_rows(manifest.iloc[:1], 0.2)


def test_linear_and_knn_on_a_lab_set_score_the_held_out_subjects(lab):
    ctx, store = context(lab=lab)
    for name, options in (("linear", {"Cs": (1.0,)}), ("knn", {"k": 3})):
        protocol = get_protocol(name, **options)
        record, predictions = protocol.run_task(ctx, protocol.tasks(["lab"])[0])
        held = dataset_parts(ctx, "lab", BASIC7, 0.2).test
        assert record.details["test_origin"] == "subject-holdout"
        assert sorted(set(predictions["id"])) == sorted(held.ids)
        assert record.details["sample_sizes"]["test"] == 14
    assert store.calls == [("lab", ("train",))]  # one extraction, shared by both


def test_knn_never_reads_the_validation_split():
    ds = blob_dataset("d", BASIC7, {"train": 3, "val": 3, "test": 3})
    ctx, store = context(d=ds)
    protocol = get_protocol("knn", k=1)
    protocol.run_task(ctx, protocol.tasks(["d"])[0])
    assert sorted(s for _, (s,) in store.calls) == ["test", "train"]


def test_cross_dataset_target_never_reads_its_train_split():
    a = blob_dataset("a", BASIC7, {"train": 3, "val": 1, "test": 2})
    b = blob_dataset("b", BASIC7, {"train": 3, "val": 1, "test": 2}, seed=1)
    ctx, store = context(a=a, b=b)
    protocol = get_protocol("cross-dataset", Cs=(1.0,), include_diagonal=False)
    protocol.run_task(ctx, protocol.tasks(["a", "b"])[0])  # a -> b
    assert sorted(store.calls) == [("a", ("train",)), ("a", ("val",)), ("b", ("test",))]


def test_a_cross_dataset_target_without_a_test_split_is_scored_on_all_its_rows(lab):
    # The probe never saw the target dataset, so a target without an official test split
    # has nothing to hold out: every labelled row is scored (a subject hold-out would keep a
    # fifth of them, e.g. 3 of CK+48's 54 contempt faces). Its own diagonal cell, where the
    # probe is fitted on it, and linear / knn on it keep the subject hold-out.
    wild = blob_dataset("wild", BASIC7, {"train": 5, "val": 1, "test": 2})
    ctx, store = context(lab=lab, wild=wild)
    protocol = get_protocol("cross-dataset", Cs=(1.0,))
    scored = {}
    for task in protocol.tasks(["lab", "wild"]):
        record, predictions = protocol.run_task(ctx, task)
        scored[task.target] = (record, set(predictions["id"]))
    labelled = set(lab.manifest.query("label != ''")["id"])
    held = set(dataset_parts(ctx, "lab", BASIC7, 0.2).test.ids)
    record, ids = scored["wild__to__lab"]
    assert record.details["test_origin"] == "all-rows" and ids == labelled and len(ids) == 70
    assert record.details["sample_sizes"]["test"] == 70
    assert record.class_counts["lab/all-rows"] == dict.fromkeys(BASIC7, 10)
    assert record.dropped_labels["lab/all-rows"] == {"": 20}  # unlabelled rows, counted
    assert {d.name: d.role for d in record.datasets} == {"wild": "source", "lab": "target"}
    record, ids = scored["lab__to__lab"]
    assert record.details["test_origin"] == "subject-holdout" and ids == held and len(ids) == 14
    assert scored["lab__to__wild"][0].details["test_origin"] == "official"
    assert store.calls.count(("lab", ("train",))) == 1  # lab's one split, read once
    assert get_protocol("cross-dataset").version == 2

