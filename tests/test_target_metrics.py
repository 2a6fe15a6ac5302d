"""Per-target scores against scikit-learn and the written-out formulas."""
import numpy as np
import pytest
from sklearn.metrics import f1_score, mean_absolute_error, roc_auc_score

from fer_bench.target_metrics import (auc, continuous_scores, f1, interval,
                                      resample_weights)


def test_f1_hand_computed_and_sklearn():
    y = np.array([1, 1, 0, 0, 1, 0])
    p = np.array([1, 0, 1, 0, 1, 0])
    # TP 2, FP 1, FN 1: 4 / (4 + 1 + 1)
    assert f1(y, p) == pytest.approx(4 / 6)
    rng = np.random.default_rng(0)
    for _ in range(20):
        y, p = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
        assert f1(y, p) == pytest.approx(f1_score(y, p, zero_division=0))
    assert f1([0, 0], [0, 0]) == 0.0


def test_auc_with_ties_matches_sklearn():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    assert auc(y, s) == pytest.approx(0.75)           # one of four pairs misordered
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.integers(0, 2, 60)
        s = rng.integers(0, 5, 60).astype(float)       # heavy ties
        assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(auc([1, 1], [0.2, 0.3]))


def test_weights_are_repeated_rows():
    rng = np.random.default_rng(2)
    y, s = rng.integers(0, 2, 30), rng.normal(size=30)
    w = rng.integers(0, 4, 30)
    rep = np.repeat(np.arange(30), w)
    assert auc(y, s, w) == pytest.approx(roc_auc_score(y[rep], s[rep]))
    assert f1(y, s > 0, w) == pytest.approx(f1_score(y[rep], s[rep] > 0))
    a, b = rng.normal(size=30), rng.normal(size=30)
    batch = continuous_scores(a, b, np.stack([w, np.ones(30)]))
    assert batch["mae"][0] == pytest.approx(mean_absolute_error(a[rep], b[rep]))
    assert batch["ccc"][1] == pytest.approx(continuous_scores(a, b)["ccc"])


def _icc31_anova(a, b):
    """ICC(3,1) from the two-way ANOVA table (Shrout & Fleiss), written out."""
    x = np.stack([a, b], axis=1)
    n, k = x.shape
    grand = x.mean()
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    bms = k * ((rows - grand) ** 2).sum() / (n - 1)
    ems = ((x - rows[:, None] - cols[None, :] + grand) ** 2).sum() / ((n - 1) * (k - 1))
    return (bms - ems) / (bms + (k - 1) * ems)


def test_ccc_icc_r_against_formulas():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([1.5, 1.8, 3.4, 3.9, 5.6])
    s = continuous_scores(a, b)
    ma, mb = a.mean(), b.mean()
    cov = ((a - ma) * (b - mb)).mean()
    ccc = 2 * cov / (a.var() + b.var() + (ma - mb) ** 2)
    assert s["ccc"] == pytest.approx(ccc)
    assert s["icc"] == pytest.approx(_icc31_anova(a, b))
    assert s["pearson_r"] == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert s["rmse"] == pytest.approx(np.sqrt(((a - b) ** 2).mean()))
    # an offset costs CCC, not ICC(3,1) consistency or r
    shifted = continuous_scores(a, a + 2)
    assert shifted["icc"] == pytest.approx(1.0) and shifted["pearson_r"] == pytest.approx(1.0)
    assert shifted["ccc"] == pytest.approx(2 * a.var() / (2 * a.var() + 4))
    assert continuous_scores(a, np.full(5, 3.0))["pearson_r"] == 0.0


def test_resamples_and_interval():
    blocks = resample_weights(40, 300, seed=3)
    w = np.concatenate(blocks)
    assert w.shape == (300, 40) and (w.sum(axis=1) == 40).all()
    again = np.concatenate(resample_weights(40, 300, seed=3))
    assert np.array_equal(w, again)
    lo, hi = interval(np.r_[np.arange(100.0), np.nan], 0.1)
    assert lo == pytest.approx(4.95) and hi == pytest.approx(94.05)
