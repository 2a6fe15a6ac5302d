"""``unseen-expression``: the unseen/seen classes come from the encoder's pre-training
labels, scored rows never cross groups, one fit serves both groups, and records with
nothing to score are reported, not written."""
from __future__ import annotations

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.encoder import EncoderInfo, Preprocessing
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import RunContext, TaskNotApplicable
from fer_bench.records import load_records
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import ALL_EXPRESSIONS, BASIC, BASIC7, RAF_COMPOUND

FAST = {"Cs": (1.0,), "n_boot": 100, "draws": 2}


class Pretrained(NeverBuilt):
    def __init__(self, pretrain_classes):
        super().__init__("labelled")
        self.info = EncoderInfo("labelled", "r1", len(ALL_EXPRESSIONS), Preprocessing(), "none",
                                weights_digest="d1", pretrain_classes=tuple(pretrain_classes))


@pytest.fixture
def datasets():
    return {"wild8": blob_dataset("wild8", BASIC, {"train": 8, "val": 2, "test": 3}),
            "compound": blob_dataset("compound", RAF_COMPOUND[:4],
                                     {"train": 8, "val": 2, "test": 3})}


def run(encoder, datasets, spec, **options):
    protocol = get_protocol("unseen-expression", **{**FAST, **options})
    ctx = RunContext(encoder, ArrayStore(), load=datasets.__getitem__, seeds=(0,))
    out = {}
    for task in protocol.tasks([spec]):
        try:
            out[task.target] = protocol.run_task(ctx, task)
        except TaskNotApplicable as e:
            out[task.target] = str(e)
    return out


def test_contempt_is_scored_apart_from_the_seen_classes(datasets):
    out = run(Pretrained(BASIC7), datasets, "wild8", probes=("linear",))
    unseen, unseen_pred = out["wild8@unseen-linear"]
    seen, seen_pred = out["wild8@seen-linear"]
    assert "at least 2" in out["wild8@unseen-only-linear"]      # one unseen class only
    assert unseen.details["unseen_classes"] == ["contempt"]
    assert seen.details["seen_classes"] == list(BASIC7)
    assert unseen.class_set == seen.class_set == list(BASIC)    # probe over all classes
    # scored rows never cross groups
    assert set(unseen_pred["y_true"]) == {"contempt"} and len(unseen_pred) == 3
    assert set(seen_pred["y_true"]) == set(BASIC7) and len(seen_pred) == 7 * 3
    assert unseen.class_counts["wild8/test-unseen"] == {**dict.fromkeys(BASIC7, 0), "contempt": 3}
    # mean class accuracy over the unseen rows = recall of contempt
    assert unseen.headline.mean == pytest.approx(unseen.per_class_recall["contempt"])
    assert np.isnan(unseen.per_class_recall["happiness"])
    # one fit (same C, same training rows) for both groups
    assert unseen.hyperparameters == seen.hyperparameters
    assert unseen.details["sample_sizes"]["train"] == seen.details["sample_sizes"]["train"]


def test_predictions_equal_the_linear_protocol_on_the_same_rows(datasets):
    _, unseen_pred = run(Pretrained(BASIC7), datasets, "wild8",
                                probes=("linear",), scopes=("unseen",))["wild8@unseen-linear"]
    linear = get_protocol("linear", Cs=(1.0,), n_boot=100)
    ctx = RunContext(Pretrained(BASIC7), ArrayStore(), load=datasets.__getitem__, seeds=(0,))
    _, full = linear.run_task(ctx, linear.tasks(["wild8"])[0])
    expected = full[full["y_true"] == "contempt"].reset_index(drop=True)
    assert unseen_pred.equals(expected)


def test_compound_classes_are_all_unseen_for_a_basic_encoder(datasets):
    out = run(Pretrained(BASIC), datasets, "compound", probes=("knn", "few-shot-linear"))
    assert "no seen classes" in out["compound@seen-knn"]
    assert "repeat the unseen record" in out["compound@unseen-only-few-shot-linear"]
    record, pred = out["compound@unseen-few-shot-linear"]
    assert record.details["unseen_classes"] == list(RAF_COMPOUND[:4])
    assert record.details["shots"] == 5 and len(record.per_seed) == 2
    assert len(pred) == 2 * 4 * 3


def test_unseen_only_probes_the_unseen_classes_alone():
    ds = {"mixed": blob_dataset("mixed", ("happiness", "sadness") + RAF_COMPOUND[:3],
                                {"train": 6, "val": 2, "test": 2})}
    out = run(Pretrained(BASIC7), ds, "mixed", probes=("knn",))
    record, pred = out["mixed@unseen-only-knn"]
    assert record.class_set == list(RAF_COMPOUND[:3])
    assert set(pred["y_true"]) | set(pred["y_pred"]) <= set(RAF_COMPOUND[:3])
    assert record.details["sample_sizes"]["train"] == 3 * 6


def test_an_encoder_without_labels_sees_nothing(datasets):
    out = run(NeverBuilt(), datasets, "wild8", probes=("knn",))
    record, pred = out["wild8@unseen-knn"]
    assert record.details["unseen_classes"] == list(BASIC) and record.details["seen_classes"] == []
    assert len(pred) == 8 * 3
    assert isinstance(out["wild8@seen-knn"], str) and isinstance(out["wild8@unseen-only-knn"], str)


def test_runner_reports_not_applicable_tasks_and_writes_no_record(datasets, tmp_path):
    entries = run_benchmark([Pretrained(BASIC)], ["unseen-expression:probes=knn,n_boot=50"],
                            ["wild8"], results_dir=tmp_path, store=ArrayStore(),
                            load=datasets.__getitem__, seeds=(0,), progress=False, device="cpu")
    status = {e.target: e.status for e in entries}
    # wild8's classes are all basic: neither class-set record applies (see its own tests)
    assert status == {"wild8@unseen-knn": "not-applicable", "wild8@seen-knn": "computed",
                      "wild8@unseen-only-knn": "not-applicable",
                      "wild8@compound-only-knn": "not-applicable",
                      "wild8@basic-only-knn": "not-applicable"}
    assert [r.target for r in load_records(tmp_path)] == ["wild8@seen-knn"]
