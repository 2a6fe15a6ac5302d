"""``unseen-expression``'s class-set records (``compound-only``, ``basic-only``): keyed by
the dataset's classes, never by what the encoder saw, so an encoder without expression
labels and one with basic labels get the same records over the same class sets, beside
the pre-training records that differ between them. Records written before these scopes
existed stay valid."""
from __future__ import annotations

from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.encoder import EncoderInfo, Preprocessing
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import RunContext, TaskNotApplicable
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import ALL_EXPRESSIONS, BASIC7, RAF_COMPOUND

FAST = {"Cs": (1.0,), "n_boot": 50, "draws": 2, "shots": 2}
MIXED = ("neutral", "happiness", "sadness") + RAF_COMPOUND[:3]   # a small CFEE


class BasicLabels(NeverBuilt):
    """An encoder pre-trained on the seven basic labels."""

    def __init__(self):
        super().__init__("basic")
        self.info = EncoderInfo("basic", "r1", len(ALL_EXPRESSIONS), Preprocessing(), "none",
                                weights_digest="d1", pretrain_classes=BASIC7)


def datasets():
    return {"mixed": blob_dataset("mixed", MIXED, {"train": 6, "val": 2, "test": 3}),
            "compound": blob_dataset("compound", RAF_COMPOUND[:4],
                                     {"train": 6, "val": 2, "test": 3})}


def run(encoder, spec, **options):
    protocol = get_protocol("unseen-expression", **{**FAST, **options})
    ctx = RunContext(encoder, ArrayStore(), load=datasets().__getitem__, seeds=(0,))
    out = {}
    for task in protocol.tasks([spec]):
        try:
            out[task.target] = protocol.run_task(ctx, task)
        except TaskNotApplicable as e:
            out[task.target] = str(e)
    return out


def test_both_encoder_kinds_get_the_same_class_set_records():
    none, basic = run(NeverBuilt(), "mixed"), run(BasicLabels(), "mixed")
    class_set = [t for t in none if "compound-only" in t or "basic-only" in t]
    assert len(class_set) == 8                                   # 2 scopes x 4 probes
    for target in class_set:
        (a, pred_a), (b, pred_b) = none[target], basic[target]
        assert a.class_set == b.class_set
        assert a.details["scope_kind"] == b.details["scope_kind"] == "class-set"
        assert a.details["sample_sizes"] == b.details["sample_sizes"]
        assert pred_a[["id", "seed", "y_true"]].equals(pred_b[["id", "seed", "y_true"]])
    assert none["mixed@compound-only-linear"][0].class_set == list(RAF_COMPOUND[:3])
    assert none["mixed@basic-only-knn"][0].class_set == ["neutral", "happiness", "sadness"]


def test_the_pretraining_records_still_differ_and_say_so():
    none, basic = run(NeverBuilt(), "mixed"), run(BasicLabels(), "mixed")
    # no labels: every class unseen, so no unseen-only record; basic labels: 3-way compound
    assert "repeat the unseen record" in none["mixed@unseen-only-knn"]
    unseen_only, _ = basic["mixed@unseen-only-knn"]
    assert unseen_only.details["scope_kind"] == "pre-training"
    assert unseen_only.class_set == basic["mixed@compound-only-knn"][0].class_set
    # the same class set and probe: the same numbers, whatever the record is keyed by
    assert (unseen_only.headline.mean
            == basic["mixed@compound-only-knn"][0].headline.mean
            == none["mixed@compound-only-knn"][0].headline.mean)
    assert none["mixed@unseen-linear"][0].class_set == list(MIXED)


def test_a_class_set_holding_every_class_is_not_applicable_for_anyone():
    for encoder in (NeverBuilt(), BasicLabels()):
        out = run(encoder, "compound", probes=("knn",))
        assert "would be the whole dataset" in out["compound@compound-only-knn"]
        assert "0 basic class(es)" in out["compound@basic-only-knn"]


def test_records_written_before_the_class_set_scopes_are_kept(tmp_path):
    options, scopes = "probes=knn,n_boot=50", ("unseen", "seen", "unseen-only")  # as in v2
    common = dict(results_dir=tmp_path, store=ArrayStore(), load=datasets().__getitem__,
                  seeds=(0,), progress=False, device="cpu")
    first = run_benchmark([BasicLabels()], [f"unseen-expression:{options},scopes="
                                            + "/".join(scopes)], ["mixed"], **common)
    assert {e.status for e in first} == {"computed"}
    again = run_benchmark([BasicLabels()], [f"unseen-expression:{options}"], ["mixed"],
                          **common)
    assert {e.target: e.status for e in again} == {
        "mixed@unseen-knn": "kept", "mixed@seen-knn": "kept", "mixed@unseen-only-knn": "kept",
        "mixed@compound-only-knn": "computed", "mixed@basic-only-knn": "computed"}
    # a setting that moves numbers still makes them stale
    k = run_benchmark([BasicLabels()], [f"unseen-expression:{options},k=3"], ["mixed"],
                      **{**common, "overwrite": "never"})
    assert {e.status for e in k} == {"kept-stale"}
