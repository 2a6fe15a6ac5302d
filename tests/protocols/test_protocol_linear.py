"""``linear`` protocol: which rows are trained, tuned and scored; seeds; wiring to the probe."""
from __future__ import annotations

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.probes.linear import linear_probe
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.data_parts import CARVED_VAL, dataset_parts, fit_splits
from fer_bench.splits import stratified_val_split
from fer_bench.vocabulary import BASIC7

CS = (0.01, 1.0, 100.0)  # a short sweep keeps these tests fast


def context(**datasets) -> RunContext:
    return RunContext(NeverBuilt(), ArrayStore(), load=datasets.__getitem__, seeds=(0, 1, 2))


@pytest.fixture
def carved():
    # No official val: protocols carve one from train. Train has 2 rows outside BASIC7.
    return blob_dataset("carved", BASIC7, {"train": 10, "val": 3, "test": 4},
                        official_val=False, extra_labels={"train": ["", "contempt"],
                                                          "test": ["contempt"]})


@pytest.fixture
def official():
    return blob_dataset("official", BASIC7, {"train": 10, "val": 3, "test": 4})


def test_carved_val_comes_from_train_only_and_never_touches_test(carved):
    ctx = context(carved=carved)
    parts = dataset_parts(ctx, "carved", BASIC7, 0.2)
    test_ids = set(parts.test.ids)
    val_ids_per_seed = []
    for seed in ctx.seeds:
        fit = fit_splits(parts, seed, 0.1)
        train_ids, val_ids = set(fit.train.ids), set(fit.val.ids)
        assert fit.val_origin == "carved" and fit.val.split == CARVED_VAL
        assert train_ids.isdisjoint(val_ids) and val_ids.isdisjoint(test_ids)
        assert all(i.startswith("carved-train-") for i in train_ids | val_ids)
        # the dataset's own (non-official) val rows are not used at all
        assert len(train_ids | val_ids) == 70
        assert np.bincount(fit.val.y, minlength=7).tolist() == [1] * 7  # round(0.1 * 10)
        val_ids_per_seed.append(val_ids)
    assert val_ids_per_seed[0] != val_ids_per_seed[1]  # one carve per seed


def test_official_val_is_used_as_is(official):
    ctx = context(official=official)
    fit = fit_splits(dataset_parts(ctx, "official", BASIC7, 0.2), seed=5, val_fraction=0.1)
    assert fit.val_origin == "official"
    assert set(fit.val.ids) == set(official.manifest.query("split == 'val'")["id"])
    assert len(fit.train) == 70


def test_record_counts_dropped_labels_and_runs_one_fit_per_seed_when_carving(carved):
    ctx = context(carved=carved)
    protocol = get_protocol("linear", Cs=CS)
    (task,) = protocol.tasks(["carved"])
    record, predictions = protocol.run_task(ctx, task)
    assert record.class_set == list(BASIC7)
    assert record.dropped_labels == {"carved/train": {"": 1, "contempt": 1},
                                     "carved/test": {"contempt": 1}}
    # class counts of the parts used (the first seed's carve: 9 train + 1 val per class)
    assert record.class_counts["carved/train"] == dict.fromkeys(BASIC7, 9)
    assert record.class_counts["carved/val-carved"] == dict.fromkeys(BASIC7, 1)
    assert record.class_counts["carved/test"] == dict.fromkeys(BASIC7, 4)
    assert "carved/val" not in record.class_counts  # not official, so never read
    assert [r["seed"] for r in record.per_seed] == [0, 1, 2]
    assert record.details["sample_sizes"] == {"train": 63, "val": 7, "test": 28}
    assert len(predictions) == 3 * 28 and set(predictions["seed"]) == {0, 1, 2}
    assert record.flags.test_selected is False
    assert record.headline.mean == 1.0  # separable blobs


def test_official_val_runs_once_and_matches_a_direct_probe_call(official):
    ctx = context(official=official)
    protocol = get_protocol("linear", Cs=CS)
    record, predictions = protocol.run_task(ctx, protocol.tasks(["official"])[0])
    assert [r["seed"] for r in record.per_seed] == [0]
    assert record.seeds == [0, 1, 2]  # requested; the fit does not depend on them
    train, val, test = (ctx.split("official", s, BASIC7) for s in ("train", "val", "test"))
    direct = linear_probe(train.X, train.y, val.X, val.y, test.X, 7, Cs=CS)
    assert record.hyperparameters == {"C": [direct.best_C]}
    names = np.asarray(BASIC7)
    assert predictions["y_pred"].tolist() == names[direct.test_pred].tolist()
    assert predictions["id"].tolist() == test.ids.tolist()


def test_carving_matches_stratified_val_split(carved):
    ctx = context(carved=carved)
    train = ctx.split("carved", "train", BASIC7)
    fit = fit_splits(dataset_parts(ctx, "carved", BASIC7, 0.2), seed=1, val_fraction=0.2)
    _, val_idx = stratified_val_split(train.y, 0.2, 1)
    assert fit.val.ids.tolist() == train.ids[val_idx].tolist()


def test_a_test_split_without_a_train_split_is_reported_with_the_dataset_name():
    odd = blob_dataset("odd", BASIC7, {"test": 5, "extra": 5})
    ctx = context(odd=odd)
    with pytest.raises(ProtocolError, match="odd has no 'train' split"):
        get_protocol("linear").run_task(ctx, get_protocol("linear").tasks(["odd"])[0])


def test_class_set_option_restricts_rows(official):
    ctx = context(official=official)
    protocol = get_protocol("linear", Cs=CS, classes=("happiness", "sadness", "anger"))
    record, _ = protocol.run_task(ctx, protocol.tasks(["official"])[0])
    assert record.class_set == ["happiness", "sadness", "anger"]
    assert record.details["sample_sizes"] == {"train": 30, "val": 9, "test": 12}
    assert record.dropped_labels["official/test"] == {"disgust": 4, "fear": 4, "neutral": 4,
                                                      "surprise": 4}


def test_record_states_the_selection_rule_and_flags_a_choice_at_the_grid_edge(official):
    ctx = context(official=official)
    # separable blobs: every C scores 1.0 on validation, so the tie rule takes the smallest
    protocol = get_protocol("linear", Cs=CS)
    record, _ = protocol.run_task(ctx, protocol.tasks(["official"])[0])
    (run,) = record.per_seed
    selection = run["details"]["selection"]
    assert selection["rule"].startswith("smallest C") and selection["tolerance"] == 0.005
    assert selection["grid"] == [min(CS), max(CS)] and selection["iteration_limit_hit"] == []
    assert record.hyperparameters == {"C": [min(CS)]}
    assert selection["grid_edge"] == "smallest" and record.details["C_at_grid_edge"] == ["smallest"]
    assert get_protocol("linear").version == 2  # records of the former rules stay apart
