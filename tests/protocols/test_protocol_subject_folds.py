"""``subject-folds``: no subject in two test folds, every row scored once, inner
validation carved by subject, pooled scores equal the pooled predictions' scores."""
from __future__ import annotations

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.datasets.base import DatasetError
from fer_bench.metrics import classification_metrics
from fer_bench.probes.linear import linear_probe
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import RunContext, TaskNotApplicable
from fer_bench.protocols.subject_folds import inner_validation, pool_folds, pooled_rows
from fer_bench.vocabulary import BASIC7

CLASSES = BASIC7[:4]
FAST = {"Cs": (1.0,), "n_boot": 100, "folds": 5}


@pytest.fixture
def lab():
    # 10 subjects, each with 2 rows per class (rows j and j+10), plus unlabelled onset frames
    return blob_dataset("lab", CLASSES, {"train": 20}, official_val=False, subjects=10,
                        extra_labels={"train": [""] * 10}, noise=0.5)


def context(lab, seeds=(0, 1)):
    return RunContext(NeverBuilt(), ArrayStore(), load={"lab": lab}.__getitem__, seeds=seeds)


def test_no_subject_in_two_test_folds_and_every_row_scored_once(lab):
    ctx = context(lab)
    pool = pooled_rows(ctx, "lab", CLASSES)
    fold = pool_folds(ctx, "lab", pool, 5, seed=0)
    assert len(pool) == 10 * 2 * 4 and sorted(set(fold)) == [0, 1, 2, 3, 4]
    subjects = pool.rows["subject"].to_numpy()
    for s in set(subjects):
        assert len(set(fold[subjects == s])) == 1, f"subject {s} in two folds"
    protocol = get_protocol("subject-folds", **FAST)
    record, pred = protocol.run_task(ctx, protocol.tasks(["lab"])[0])
    listed = [set(f["test_subjects"]) for f in record.details["folds"]]
    assert sum(len(s) for s in listed) == 10 and set().union(*listed) == set(subjects)
    for seed in (0, 1):
        ids = pred.loc[pred["seed"] == seed, "id"]
        assert sorted(ids) == sorted(pool.ids)            # each row predicted exactly once
    assert record.dropped_labels == {"lab/all": {"": 10}}


def test_inner_validation_is_carved_by_subject_from_training_folds_only(lab):
    ctx = context(lab)
    pool = pooled_rows(ctx, "lab", CLASSES)
    fold = pool_folds(ctx, "lab", pool, 5, seed=0)
    train = pool.take(np.flatnonzero(fold != 0))
    test_subjects = set(pool.rows["subject"][fold == 0])
    carves = []
    for seed in (0, 1, 2):
        fit, val = inner_validation(train, 0.25, seed)
        fit_s, val_s = set(fit.rows["subject"]), set(val.rows["subject"])
        assert fit_s.isdisjoint(val_s) and len(val_s) == 2 and len(fit_s) == 6
        assert (fit_s | val_s).isdisjoint(test_subjects)
        carves.append(val_s)
    assert len({frozenset(c) for c in carves}) > 1             # one carve per seed


def test_pooled_scores_and_fold_wise_scores_match_direct_probe_calls(lab):
    ctx = context(lab, seeds=(3,))
    protocol = get_protocol("subject-folds", **FAST)
    record, _ = protocol.run_task(ctx, protocol.tasks(["lab"])[0])
    pool = pooled_rows(ctx, "lab", CLASSES)
    fold = pool_folds(ctx, "lab", pool, 5, seed=0)
    y_pred = np.empty(len(pool), dtype=np.int64)
    fold_mca = []
    for f in range(5):
        fit, val = inner_validation(pool.take(np.flatnonzero(fold != f)), 0.1, 3)
        test = np.flatnonzero(fold == f)
        y_pred[test] = linear_probe(fit.X, fit.y, val.X, val.y, pool.X[test], 4,
                                    Cs=(1.0,)).test_pred
        scores = classification_metrics(pool.y[test], y_pred[test], 4)
        fold_mca.append(scores["mean_class_accuracy"])
    pooled = classification_metrics(pool.y, y_pred, 4)
    assert record.headline.mean == pytest.approx(pooled["mean_class_accuracy"])
    assert record.metrics["accuracy"].mean == pytest.approx(pooled["accuracy"])
    scores = record.details["fold_scores"]["mean_class_accuracy"]
    assert scores["values"] == pytest.approx(fold_mca)
    assert scores["mean"] == pytest.approx(np.mean(fold_mca))


def test_knn_probe_runs_once_and_folds_are_the_same_for_every_class_set(lab):
    ctx = context(lab)
    protocol = get_protocol("subject-folds", probe="knn", **FAST)
    record, _ = protocol.run_task(ctx, protocol.tasks(["lab"])[0])
    assert [e["seed"] for e in record.per_seed] == [0]
    two = pooled_rows(ctx, "lab", CLASSES[:2])
    full = pooled_rows(ctx, "lab", CLASSES)
    f_two = dict(zip(two.ids, pool_folds(ctx, "lab", two, 5, 0)))
    f_full = dict(zip(full.ids, pool_folds(ctx, "lab", full, 5, 0)))
    assert all(f_two[i] == f_full[i] for i in f_two)


def test_too_few_subjects_is_a_clear_error(lab):
    protocol = get_protocol("subject-folds", **{**FAST, "folds": 11})
    with pytest.raises(DatasetError, match="10 subjects cannot make 11"):
        protocol.run_task(context(lab), protocol.tasks(["lab"])[0])


def test_datasets_with_a_test_split_are_not_applicable_unless_asked():
    wild = blob_dataset("wild", CLASSES, {"train": 6, "test": 2}, subjects=3)
    ctx = RunContext(NeverBuilt(), ArrayStore(), load={"wild": wild}.__getitem__, seeds=(0,))
    protocol = get_protocol("subject-folds", **{**FAST, "folds": 3})
    with pytest.raises(TaskNotApplicable, match="ships a test split"):
        protocol.run_task(ctx, protocol.tasks(["wild"])[0])
    forced = get_protocol("subject-folds", **{**FAST, "folds": 3, "with_test_split": True})
    record, _ = forced.run_task(ctx, forced.tasks(["wild"])[0])
    assert record.details["sample_sizes"]["test"] == 4 * (6 + 2)      # every split pooled


def test_every_fold_fits_in_the_pools_principal_axes_computed_once(lab, monkeypatch):
    import fer_bench.probes.linear as linear

    computed = []
    original = linear.principal_axes
    monkeypatch.setattr(linear, "principal_axes",
                        lambda X, *a: computed.append(len(X)) or original(X, *a))
    ctx = context(lab)
    protocol = get_protocol("subject-folds", **FAST)
    record, _ = protocol.run_task(ctx, protocol.tasks(["lab"])[0])
    assert computed == [len(pooled_rows(ctx, "lab", CLASSES))]  # 2 seeds x 5 folds: once
    assert len(record.details["fold_scores"]["mean_class_accuracy"]["values"]) == 5
