"""``few-shot``: supports come from train only, are class-balanced and seeded; the queries
are the test split; probes match direct calls."""
from __future__ import annotations

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.metrics import classification_metrics
from fer_bench.probes.knn import knn_probe
from fer_bench.probes.linear import fit_logistic, select_C, support_cv_C
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import get_protocol, protocol_from_spec
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.splits import few_shot_support

CLASSES = ("neutral", "happiness", "sadness", "surprise")


@pytest.fixture
def blobs():
    # train: 12 per class but only 3 of surprise; noisy enough that scores are not all 1
    ds = blob_dataset("blobs", CLASSES, {"train": 12, "val": 2, "test": 6}, noise=0.6)
    keep = ~((ds.manifest["label"] == "surprise") & (ds.manifest["split"] == "train")
             & (ds.manifest["id"].str.split("-").str[-1].astype(int) >= 3))
    ds.manifest = ds.manifest[keep.to_numpy()].reset_index(drop=True)
    return ds


def context(ds):
    return RunContext(NeverBuilt(), ArrayStore(), load={"blobs": ds}.__getitem__, seeds=(0,))


def records(ds, **options):
    protocol = get_protocol("few-shot", n_boot=100, **options)
    ctx = context(ds)
    return {t.target: protocol.run_task(ctx, t)[0] for t in protocol.tasks(["blobs"])}


def test_one_record_per_probe_and_shot_with_draws_as_seeds(blobs):
    recs = records(blobs, shots=(1, 5), draws=3)
    assert sorted(recs) == ["blobs@1shot-knn", "blobs@1shot-linear", "blobs@5shot-knn",
                            "blobs@5shot-linear"]
    for r in recs.values():
        assert [e["seed"] for e in r.per_seed] == [0, 1, 2]
        assert len(r.metrics["accuracy"].values) == 3
        shots = r.details["shots"]
        assert r.details["sample_sizes"] == {"train": 3 * shots + min(shots, 3), "test": 24}
        assert r.class_counts["blobs/test"] == dict.fromkeys(CLASSES, 6)
        assert r.flags.test_selected is False


def test_supports_are_train_rows_balanced_disjoint_from_queries_and_clamped(blobs):
    (r,) = records(blobs, shots=(5,), draws=4, probes=("knn",)).values()
    test_ids = set(blobs.manifest.query("split == 'test'")["id"])
    labels = dict(zip(blobs.manifest["id"], blobs.manifest["label"]))
    supports = r.details["support_ids"]
    assert len(supports) == 4 and len({tuple(s) for s in supports}) == 4   # draws differ
    for ids in supports:
        assert all(i.startswith("blobs-train-") for i in ids) and test_ids.isdisjoint(ids)
        counts = {c: sum(labels[i] == c for i in ids) for c in CLASSES}
        assert counts == {"neutral": 5, "happiness": 5, "sadness": 5, "surprise": 3}
    assert r.details["short_classes"] == {"surprise": 3}
    assert r.class_counts["blobs/support"]["surprise"] == 3


def test_same_config_same_draws(blobs):
    a = records(blobs, shots=(1,), draws=2, probes=("knn",))
    b = records(blobs, shots=(1,), draws=2, probes=("knn",))
    support = {name: r["blobs@1shot-knn"].details["support_ids"]
               for name, r in (("a", a), ("b", b))}
    assert support["a"] == support["b"]
    c = records(blobs, shots=(1,), draws=2, probes=("knn",), draw_seed=7)
    assert c["blobs@1shot-knn"].details["support_ids"] != support["a"]


def test_probes_match_direct_calls_on_the_drawn_support(blobs):
    ctx = context(blobs)
    parts = dataset_parts(ctx, "blobs", CLASSES, 0.2)
    draw = few_shot_support(parts.train.y, 5, 4, seed=0, draw=1)
    sX, sy = parts.train.X[draw.index], parts.train.y[draw.index]
    recs = records(blobs, shots=(5,), draws=2)
    linear = fit_logistic(l2_normalize(sX), sy, 4, 1.0).predict(l2_normalize(parts.test.X))
    knn = knn_probe(sX, sy, parts.test.X, 4, ks=(20,))[20]
    for probe, y_pred in (("linear", linear), ("knn", knn)):
        expected = classification_metrics(parts.test.y, y_pred, 4)["mean_class_accuracy"]
        got = recs[f"blobs@5shot-{probe}"].per_seed[1]["metrics"]["mean_class_accuracy"]
        assert got == pytest.approx(expected)
    assert recs["blobs@5shot-knn"].per_seed[1]["hyperparameters"]["k_effective"] == 18


def test_cross_validated_C_sees_the_support_only(blobs):
    recs = records(blobs, shots=(1, 5), draws=1, probes=("linear",), Cs=(0.01, 1.0))
    one, five = recs["blobs@1shot-linear"].per_seed[0], recs["blobs@5shot-linear"].per_seed[0]
    assert "skipped" in one["details"]["cv"] and one["hyperparameters"]["C"] == 1.0
    curve = dict(five["details"]["cv_curve"])
    assert set(curve) == {0.01, 1.0}
    assert five["hyperparameters"]["C"] == select_C(curve)  # the linear probe's tie rule


def test_support_cv_C_ties_go_to_the_smaller_C():
    X = l2_normalize(np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]] * 2, dtype=np.float32))
    y = np.array([0, 0, 1, 1] * 2)
    C, curve = support_cv_C(X, y, 2, (10.0, 0.1, 1.0), folds=2, seed=0)
    assert curve == {0.1: 1.0, 1.0: 1.0, 10.0: 1.0} and C == 0.1


def test_spec_options_and_bad_config():
    p = protocol_from_spec("few-shot:shots=1/5,draws=2,probes=knn")
    assert p.config.shots == (1, 5) and p.config.draws == 2 and p.config.probes == ("knn",)
    with pytest.raises(ProtocolError, match="probes"):
        get_protocol("few-shot", probes=("svm",))
    with pytest.raises(ProtocolError, match="shots"):
        get_protocol("few-shot", shots=(0,))
