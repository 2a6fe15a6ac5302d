"""The probe interface (fer_bench.probes.base) and registry: hand-computed tiny cases for
each probe class, parity with the functions they wrap, options taken from a config."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from fer_bench.probes.base import Probe, register_probe, unregister_probe
from fer_bench.probes.knn import KnnProbe, knn_probe
from fer_bench.probes.linear import (LinearProbe, SupportLinearProbe, fit_logistic, linear_probe,
                                     support_cv_C)
from fer_bench.probes.normalize import l2_normalize
from fer_bench.probes.registry import UnknownProbe, make_probe, probe_class, probe_names
from fer_bench.splits import stratified_val_split

# -- kNN ---------------------------------------------------------------------------------
# Four unit vectors in 2-D (class in the comment) and three queries, as in test_knn.py.
BANK = np.array([[1.0, 0.0],     # b0, class 0
                 [0.0, 1.0],     # b1, class 1
                 [-1.0, 0.0],    # b2, class 1
                 [0.6, 0.8]],    # b3, class 2
                dtype=np.float32)
BANK_Y = np.array([0, 1, 1, 2])
QUERIES = np.array([[1.0, 0.0],    # cos to b0..b3 = 1, 0, -1, 0.6
                    [-0.6, 0.8],   # cos = -0.6, 0.8, 0.6, 0.28
                    [0.8, 0.6]],   # cos = 0.8, 0.6, -0.8, 0.96
                   dtype=np.float32)


def test_knn_probe_class_hand_computed():
    probe = KnnProbe(k=2, T=1.0).fit(BANK, BANK_Y, 4)
    e = math.exp
    expected = np.array([[e(1.0), 0, e(0.6), 0],      # q0: b0, b3
                         [0, e(0.8) + e(0.6), 0, 0],  # q1: b1, b2 (both class 1)
                         [e(0.8), 0, e(0.96), 0]])    # q2: b3, b0
    np.testing.assert_allclose(probe.scores(QUERIES), expected, rtol=1e-6)
    assert probe.predict(QUERIES).tolist() == [0, 1, 2]
    assert probe.hyperparameters() == {"k": 2, "k_effective": 2, "T": 1.0}
    assert probe.fit_details() == {} and not probe.uses_validation
    # k above the bank size uses the whole bank, and says so
    assert KnnProbe(k=10).fit(BANK, BANK_Y, 4).hyperparameters()["k_effective"] == 4


def test_knn_probe_class_logs_every_k_beside_the_headline():
    probe = KnnProbe(k=1, ks=(3, 1, 10)).fit(BANK, BANK_Y, 4)
    variants = probe.variant_predictions(QUERIES)
    assert list(variants) == ["1", "3", "10"] and probe.variants_key == "by_k"
    assert variants["1"][0].tolist() == [0, 1, 2]          # the nearest bank row's class
    assert [v[1]["k_effective"] for v in variants.values()] == [1, 3, 4]


def test_knn_probe_class_is_the_function():
    rng = np.random.default_rng(0)
    bank, bank_y = rng.normal(size=(200, 16)), rng.integers(0, 5, 200)
    queries = rng.normal(size=(50, 16))
    probe = KnnProbe(k=20, T=0.07, ks=(1, 10, 100)).fit(bank, bank_y, 6)
    reference = knn_probe(bank, bank_y, queries, 6, ks=(1, 10, 20, 100), T=0.07)
    np.testing.assert_array_equal(probe.predict(queries), reference[20])
    for k, (y_pred, _) in probe.variant_predictions(queries).items():
        np.testing.assert_array_equal(y_pred, reference[int(k)])
    # the headline alone (few-shot and subject-folds ask for it so) is the same search
    alone = knn_probe(bank, bank_y, queries, 6, ks=(20,), T=0.07)[20]
    np.testing.assert_array_equal(KnnProbe().fit(bank, bank_y, 6).predict(queries), alone)
    np.testing.assert_array_equal(probe.scores(queries).argmax(axis=1), reference[20])


def test_an_unfitted_probe_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        KnnProbe().predict(QUERIES)
    with pytest.raises(RuntimeError, match="not fitted"):
        LinearProbe().hyperparameters()


# -- linear -------------------------------------------------------------------------------
def two_clusters():
    """Class 0 around +x, class 1 around +y (angles within 20 degrees): separable."""
    angles = np.deg2rad(np.r_[np.linspace(-20, 20, 9), np.linspace(70, 110, 9)])
    X = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    return X, np.repeat([0, 1], 9)


def test_linear_probe_class_hand_computed():
    X, y = two_clusters()
    val = [0, 8, 9, 17]
    train = [i for i in range(len(y)) if i not in val]
    probe = LinearProbe(Cs=(1.0, 100.0)).fit(X[train], y[train], 2, X_val=X[val], y_val=y[val])
    # both Cs separate the validation rows perfectly: the tie goes to the smallest C
    assert probe.hyperparameters() == {"C": 1.0}
    assert probe.fit_details()["val_curve"] == [[1.0, 1.0], [100.0, 1.0]]
    assert probe.fit_summary() == {"C_grid_edge": "smallest"}
    assert LinearProbe.summarize([{"C_grid_edge": "smallest"}, {"C_grid_edge": None}]) == {
        "C_at_grid_edge": ["smallest"]}
    queries = np.array([[1.0, 0.1], [0.1, 1.0], [10.0, 1.0]], dtype=np.float32)
    assert probe.predict(queries).tolist() == [0, 1, 0]     # scale does not matter (L2)
    proba = probe.scores(queries)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (proba.argmax(axis=1) == probe.predict(queries)).all()
    np.testing.assert_allclose(proba[0], proba[2], rtol=1e-6)
    # the two clusters mirror each other across the diagonal: so does the model, and a row
    # on the diagonal is a coin toss (up to the fit's gradient tolerance)
    np.testing.assert_allclose(probe.scores(np.array([[1.0, 1.0]])), [[0.5, 0.5]], atol=1e-3)


def test_linear_probe_class_is_the_function():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X @ rng.normal(size=(8, 3))).argmax(axis=1)
    Cs = (0.1, 1.0, 10.0)
    result = linear_probe(X[:200], y[:200], X[200:250], y[200:250], X[250:], 3, Cs=Cs)
    probe = LinearProbe(Cs=Cs).fit(X[:200], y[:200], 3, X_val=X[200:250], y_val=y[200:250])
    np.testing.assert_array_equal(probe.predict(X[250:]), result.test_pred)
    np.testing.assert_array_equal(probe.scores(X[250:]), result.test_proba)
    assert probe.hyperparameters() == {"C": result.best_C}
    assert probe.fit_details()["selection"] == result.selection()
    # without validation rows it carves the seeded stratified part the protocols carve
    train, val = stratified_val_split(y[:200], 0.2, 3)
    carved = LinearProbe(Cs=Cs, val_fraction=0.2).fit(X[:200], y[:200], 3, seed=3)
    direct = linear_probe(X[train], y[train], X[val], y[val], X[250:], 3, Cs=Cs)
    np.testing.assert_array_equal(carved.predict(X[250:]), direct.test_pred)


def test_linear_probe_function_skips_test_predictions_when_given_no_test_rows():
    X, y = two_clusters()
    result = linear_probe(X, y, X, y, None, 2, Cs=(1.0,))
    assert result.test_pred is None and result.test_proba is None


def test_support_linear_probe_is_fixed_C_or_support_cross_validation():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 6)).astype(np.float32)
    y = np.repeat([0, 1, 2, 3], 10)
    X[np.arange(40), y] += 2.0
    fixed = SupportLinearProbe(C=0.5).fit(X, y, 4)
    model = fit_logistic(l2_normalize(X), y, 4, 0.5)
    np.testing.assert_array_equal(fixed.predict(X), model.predict(l2_normalize(X)))
    assert fixed.hyperparameters() == {"C": 0.5} and fixed.fit_details() == {}
    cv = SupportLinearProbe(Cs=(0.1, 1.0, 10.0), cv_folds=3).fit(X, y, 4, seed=7)
    C, curve = support_cv_C(l2_normalize(X), y, 4, (0.1, 1.0, 10.0), 3, 7)
    assert cv.hyperparameters() == {"C": C}
    assert cv.fit_details() == {"cv_curve": [[c, s] for c, s in sorted(curve.items())]}
    one_shot = SupportLinearProbe(Cs=(0.1, 1.0)).fit(X[::10], y[::10], 4)
    assert one_shot.hyperparameters() == {"C": 1.0}
    assert one_shot.fit_details() == {"cv": "skipped: 1 row(s) in the smallest support class"}


# -- options and registry ------------------------------------------------------------------
@dataclass(frozen=True)
class SomeConfig:
    Cs: tuple[float, ...] = (0.5, 2.0)
    k: int = 7
    select_metric: str = "accuracy"
    holdout_fraction: float = 0.2     # not a probe option: ignored


def test_options_come_from_a_config_or_a_mapping():
    linear = make_probe("linear", SomeConfig(), device="cpu")
    assert (linear.Cs, linear.select_metric, linear.val_fraction, linear.device) == (
        (0.5, 2.0), "accuracy", 0.1, "cpu")
    knn = make_probe("knn", {"k": 3, "T": 0.5, "other": 1})
    assert (knn.k, knn.T, knn.ks, knn.index_kind) == (3, 0.5, (), "flat")
    with pytest.raises(TypeError, match="no option"):
        make_probe("knn", None, C=1.0)


def test_the_built_in_probes_are_registered_and_unknown_names_suggest():
    assert {"linear", "knn", "support-linear"} <= set(probe_names())
    assert probe_class("linear") is LinearProbe and probe_class("knn") is KnnProbe
    with pytest.raises(UnknownProbe, match="did you mean 'knn'"):
        probe_class("kmn")


def test_a_new_probe_is_one_registered_dataclass():
    @dataclass
    class Majority(Probe):
        """Predicts the most frequent training class."""
        name: ClassVar[str] = "test-majority"
        prior: float = 1.0

        def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0):
            self.counts = np.bincount(y, minlength=n_classes) + self.prior
            return self

        def scores(self, X):
            return np.tile(self.counts / self.counts.sum(), (len(X), 1))

        def hyperparameters(self):
            return {"prior": self.prior}

    register_probe(Majority)
    try:
        probe = make_probe("test-majority", {"prior": 0.0}).fit(BANK, BANK_Y, 4)
        assert probe.predict(QUERIES).tolist() == [1, 1, 1]
        with pytest.raises(ValueError, match="registered twice"):
            register_probe(type("Majority", (Majority,), {}))
    finally:
        unregister_probe("test-majority")
    assert "test-majority" not in probe_names()
    with pytest.raises(TypeError, match="dataclass"):
        register_probe(type("NotADataclass", (Probe,), {"name": "x"}))
