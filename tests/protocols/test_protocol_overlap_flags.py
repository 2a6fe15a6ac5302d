"""Both record builders fill the overlap sides from the rows they read: the source side
is what the probe was fitted on (train, official or carved val, a few-shot support,
the other subject folds), the target side what it scored; ``NAME/SPLIT`` entries
overlap only where that split was read."""
from __future__ import annotations

import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset
from target_fakes import au_dataset

from fer_bench.protocols.base import Task, get_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.records import Overlap
from fer_bench.records.io import pair_target
from fer_bench.vocabulary import BASIC7

FAST = {"n_boot": 50}
LINEAR = {"Cs": (1.0,)}    # one C: nothing to sweep
SIZES = {"train": 6, "val": 2, "test": 3}


def datasets():
    return {"blobs": blob_dataset("blobs", BASIC7, SIZES, image_family="family"),
            "other": blob_dataset("other", BASIC7, SIZES, seed=1),
            "carved": blob_dataset("carved", BASIC7, {"train": 8, "test": 3},
                                   official_val=False, seed=2),
            "lab": blob_dataset("lab", BASIC7, {"train": 8}, official_val=False, subjects=4,
                                seed=3)}


def records(pretrained_on, protocol, specs, **options):
    ctx = RunContext(NeverBuilt(pretrained_on=pretrained_on), ArrayStore(),
                     load=datasets().__getitem__, seeds=(0,))
    p = get_protocol(protocol, **{**FAST, **options})
    return {t.target: p.run_task(ctx, t)[0] for t in p.tasks(specs)}


def sides(record):
    return {(o.dataset, o.side, o.splits) for o in record.flags.overlap}


def test_a_probe_fitted_on_the_pretraining_split_overlaps_on_the_source_side_only():
    record = records(("blobs/train",), "linear", ["blobs"], **LINEAR)["blobs"]
    assert record.flags.overlap == (
        Overlap("blobs", "source", "dataset blobs", "blobs/train", ("train",)),)
    assert record.flags.pretraining_overlap == ("blobs",)      # any side, as before
    # pre-trained on the test split: the scored faces were seen
    record = records(("blobs/test",), "knn", ["blobs"])["blobs"]
    assert sides(record) == {("blobs", "target", ("test",))}


def test_a_bare_name_or_image_family_overlaps_every_split_read():
    record = records(("family",), "linear", ["blobs"], **LINEAR)["blobs"]
    assert sides(record) == {("blobs", "source", ("train", "val")),
                             ("blobs", "target", ("test",))}
    assert {o.matched for o in record.flags.overlap} == {"image family family"}


def test_cross_dataset_sides_follow_source_and_target():
    out = records(("blobs",), "cross-dataset", ["blobs", "other"], **LINEAR)
    assert sides(out[pair_target("blobs", "other")]) == {
        ("blobs", "source", ("train", "val"))}
    assert sides(out[pair_target("other", "blobs")]) == {("blobs", "target", ("test",))}
    assert sides(out[pair_target("other", "other")]) == set()
    assert out[pair_target("other", "other")].flags.pretraining_overlap == ()
    # pre-trained on blobs' train split only: scoring its test split is no overlap
    out = records(("blobs/train",), "cross-dataset", ["blobs", "other"], **LINEAR)
    assert sides(out[pair_target("other", "blobs")]) == set()
    assert out[pair_target("other", "blobs")].flags.pretraining_overlap == ()


def test_a_carved_validation_part_and_few_shot_supports_come_from_train():
    record = records(("carved/train",), "linear", ["carved"], **LINEAR)["carved"]
    assert sides(record) == {("carved", "source", ("train",))}
    shots = records(("carved/train",), "few-shot", ["carved"], shots=(2,), draws=2)
    assert {target: sides(r) for target, r in shots.items()} == {
        "carved@2shot-knn": {("carved", "source", ("train",))},
        "carved@2shot-linear": {("carved", "source", ("train",))}}


def test_subject_folds_fit_and_score_the_same_pool():
    record = records(("lab",), "subject-folds", ["lab"], folds=2, **LINEAR)["lab"]
    assert sides(record) == {("lab", "source", ("train",)), ("lab", "target", ("train",))}


@pytest.mark.parametrize("entry, expected", [
    ("au-set/train", {("au-set", "source", ("train",))}),
    ("au-set", {("au-set", "source", ("train", "val")), ("au-set", "target", ("test",))}),
    ("au-set/test", {("au-set", "target", ("test",))}),
])
def test_target_records_get_the_same_sides(entry, expected):
    ds = au_dataset(with_affect=True)
    ctx = RunContext(NeverBuilt(pretrained_on=(entry,)), ArrayStore(), load=lambda spec: ds,
                     seeds=(0,), progress=False)
    record, _ = get_protocol("valence-arousal", n_boot=50).run_task(
        ctx, Task("valence-arousal", (ds.name,), ds.name))
    assert sides(record) == expected and record.flags.pretraining_overlap == ("au-set",)


def test_a_malformed_entry_is_refused_before_anything_runs():
    with pytest.raises(ValueError, match="pretrained_on.*NAME or NAME/SPLIT"):
        RunContext(NeverBuilt(pretrained_on=("blobs/train/extra",)), ArrayStore())
