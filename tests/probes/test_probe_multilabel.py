"""The per-AU logistic probe against scikit-learn, and its selection rules."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

import torch

from fer_bench.probes.multilabel import MultiLabelLogisticProbe, fit_binary_logistic, log_odds
from fer_bench.target_metrics import best_f1_threshold


def _data(n=300, d=12, t=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, t))
    Y = (X @ W + rng.normal(scale=1.0, size=(n, t)) > 0.3).astype(float)
    return X, Y


@pytest.mark.parametrize("C", [0.1, 10.0])
def test_binary_fit_equals_sklearn(C):
    X, Y = _data()
    Y[:40, 1] = np.nan                                   # target 1 not coded on 40 rows
    for j in range(Y.shape[1]):
        coded = ~np.isnan(Y[:, j])
        model = fit_binary_logistic(X[coded], Y[coded, j], C, dtype=torch.float64)
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X[coded], Y[coded, j])
        assert np.allclose(log_odds(model, X), ref.decision_function(X), atol=1e-3, rtol=1e-3)


def test_threshold_maximises_f1():
    y = np.array([1, 1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    th, f1 = best_f1_threshold(y, s)
    assert f1 == pytest.approx(6 / 7)
    # top-4 gives TP 3, FP 1: F1 6/7, the best; the cut sits between 0.6 and 0.2
    assert th == pytest.approx(0.4)
    brute = max((f1_score(y, s > c), c) for c in np.r_[s, -1.0])
    assert f1_score(y, s > th) == pytest.approx(brute[0])


def test_probe_selects_on_validation_and_reports_unfit():
    X, Y = _data(n=600, t=3, seed=1)
    Y[:, 2] = 0.0                                          # one class only: cannot be fitted
    probe = MultiLabelLogisticProbe(Cs=(1e-4, 1e-2, 1.0)).fit(X[:400], Y[:400], X[400:500],
                                                               Y[400:500])
    assert probe.unfit == (2,)
    for j in (0, 1):
        curve = probe.val_curves[j]
        best = max(curve.values())
        assert probe.chosen_C[j] == min(c for c, v in curve.items() if v >= best - 0.005)
    pred = probe.predict(X[500:])
    assert np.isnan(pred[:, 2]).all() and set(np.unique(pred[:, :2])) <= {0.0, 1.0}
    assert f1_score(Y[500:, 0], pred[:, 0]) > 0.7


def test_ridge_occurrence_probe_matches_sklearn_ridge_classifier_and_shares_bases():
    from sklearn.linear_model import RidgeClassifier

    from fer_bench.probes.multilabel import RidgeOccurrenceProbe
    from fer_bench.probes.normalize import Standardizer

    X, Y = _data(n=600, t=3, seed=2)
    bases = {}
    probe = RidgeOccurrenceProbe(alphas=(1e-4, 1e-2, 1.0)).fit(X[:400], Y[:400], X[400:500],
                                                               Y[400:500], bases)
    assert len(bases) == 1                       # every AU coded on the same rows: one basis
    Xn = Standardizer.fit(X[:400])(X)
    for j in range(3):
        curve = probe.ridge.val_curves[j]
        best = max(curve.values())
        alpha = max(a for a, v in curve.items() if v >= best - 0.005)
        assert probe.chosen[j] == alpha
        ref = RidgeClassifier(alpha=alpha * 400).fit(Xn[:400], Y[:400, j])   # per row
        # the same direction: RidgeClassifier fits the labels as -1/+1 (twice the 0/1 fit)
        assert np.allclose(probe.decision_function(X[500:])[:, j] * 2 - 1,
                           ref.decision_function(Xn[500:]), atol=1e-8)
    assert f1_score(Y[500:, 0], probe.predict(X[500:])[:, 0]) > 0.7
