"""Linear probe: separable toy problem, parity with scikit-learn, warm starts, selection."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from fer_bench.metrics import classification_metrics
from fer_bench.probes.linear import (
    DEFAULT_CS,
    fit_logistic,
    linear_probe,
    stratified_val_split,
)


def sklearn_objective(X, y, coef, intercept, C, classes):
    """C * sum_i CE + 0.5 ||W||^2 as scikit-learn defines it (binary: one weight row)."""
    X = X.astype(np.float64)
    if len(classes) == 2:
        z = X @ coef[0] + intercept[0]
        t = (y == classes[1]).astype(float)
        return C * np.sum(np.logaddexp(0, z) - t * z) + 0.5 * coef[0] @ coef[0]
    Z = X @ coef.T + intercept
    log_p = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
    rows = np.searchsorted(classes, y)
    return -C * log_p[np.arange(len(y)), rows].sum() + 0.5 * np.sum(coef**2)


def random_problem(seed, n=400, d=12, k=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    W = rng.normal(size=(k, d))
    y = (X @ W.T + rng.gumbel(size=(n, k))).argmax(axis=1)
    return X, y


def sector_points(centres_deg, half_width, step):
    angles = np.concatenate([np.arange(c - half_width, c + half_width + 1e-9, step) for c in centres_deg])
    labels = np.repeat(np.arange(len(centres_deg)), len(angles) // len(centres_deg))
    radians = np.deg2rad(angles)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32), labels


def test_default_grid():
    assert len(DEFAULT_CS) >= 15
    ratios = np.diff(np.log10(DEFAULT_CS))
    np.testing.assert_allclose(ratios, ratios[0])  # log-spaced
    assert DEFAULT_CS[0] == pytest.approx(1e-3) and DEFAULT_CS[-1] == pytest.approx(1e4)


def test_separable_sectors_follow_the_hand_known_boundaries():
    # Three classes on the unit circle, sectors of +-40 deg around 0, 120 and 240 deg. By the
    # 120-degree symmetry of the data the optimal boundaries bisect the gaps: 60, 180, 300 deg.
    X_train, y_train = sector_points([0, 120, 240], 40, 2)
    X_val, y_val = sector_points([0, 120, 240], 39, 6)
    test_deg = np.array([0, 55, 65, 120, 175, 185, 240, 295, 305])
    expected = [0, 0, 1, 1, 1, 2, 2, 2, 0]
    X_test = np.stack([np.cos(np.deg2rad(test_deg)), np.sin(np.deg2rad(test_deg))], axis=1)
    # Scale must not matter: the probe L2-normalises.
    result = linear_probe(X_train * 5, y_train, X_val, y_val, X_test * 0.2, n_classes=3)
    np.testing.assert_array_equal(result.test_pred, expected)
    assert result.val_curve[result.best_C] == 1.0
    np.testing.assert_allclose(result.test_proba.sum(axis=1), 1.0, rtol=1e-5)
    # The fitted boundary between class 0 and 1 lies at 60 degrees (within one degree).
    w = result.model.coef[1] - result.model.coef[0]
    b = result.model.intercept[1] - result.model.intercept[0]
    boundary = np.arctan2(-w[0], w[1])  # points (cos t, sin t) with w.x = 0 (b = 0 by symmetry)
    assert abs(b) < 1e-3
    assert np.rad2deg(boundary) % 180 == pytest.approx(60, abs=1.0)


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_parity_with_sklearn_multinomial(C):
    X, y = random_problem(0)
    ours = fit_logistic(X, y, 3, C)
    ref = LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(X.astype(np.float64), y)
    classes = np.arange(3)
    ours_obj = sklearn_objective(X, y, ours.coef.astype(np.float64), ours.intercept.astype(np.float64), C, classes)
    ref_obj = sklearn_objective(X, y, ref.coef_, ref.intercept_, C, classes)
    assert ours_obj == pytest.approx(ref_obj, rel=1e-4)
    assert ours.objective == pytest.approx(ref_obj, rel=1e-4)  # the value it reports
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-3)


def test_parity_with_sklearn_binary_and_absent_declared_classes():
    X, y = random_problem(1, k=2)
    y = np.where(y == 1, 3, 1)  # classes 1 and 3 of five declared; 0, 2, 4 absent
    ours = fit_logistic(X, y, n_classes=5, C=0.5, dtype=torch.float64, tol=1e-14)
    ref = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(X.astype(np.float64), y)
    np.testing.assert_allclose(ours.coef[3] - ours.coef[1], ref.coef_[0], atol=1e-5)
    assert ours.intercept[3] - ours.intercept[1] == pytest.approx(ref.intercept_[0], abs=1e-5)
    assert ours.objective == pytest.approx(
        sklearn_objective(X, y, ref.coef_, ref.intercept_, 0.5, np.array([1, 3])), rel=1e-6
    )
    proba = ours.predict_proba(X)
    assert (proba[:, [0, 2, 4]] == 0).all()
    np.testing.assert_allclose(proba[:, [1, 3]], ref.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_float64_reference_agrees_with_float32():
    X, y = random_problem(2)
    f32 = fit_logistic(X, y, 3, C=10.0)
    f64 = fit_logistic(X, y, 3, C=10.0, dtype=torch.float64, tol=1e-10)
    assert f32.objective == pytest.approx(f64.objective, rel=1e-6)


def test_warm_start_reaches_the_same_optimum():
    X, y = random_problem(3)
    cold = fit_logistic(X, y, 3, C=10.0)
    from_small_C = fit_logistic(X, y, 3, C=10.0, init=fit_logistic(X, y, 3, C=0.1))
    assert from_small_C.objective == pytest.approx(cold.objective, rel=1e-6)
    np.testing.assert_array_equal(from_small_C.predict(X), cold.predict(X))
    # Starting at the optimum itself, there is (almost) nothing left to do.
    assert fit_logistic(X, y, 3, C=10.0, init=cold).n_iter <= 2 < cold.n_iter


def test_sweep_selects_on_validation_only():
    assert "y_test" not in inspect.signature(linear_probe).parameters
    X, y = random_problem(4, n=600)
    Cs = (1e-3, 1e-1, 10.0)
    X_train, y_train, X_val, X_test = X[:300], y[:300], X[300:450], X[450:]
    for y_val in (y[300:450], np.random.default_rng(0).integers(0, 3, 150)):
        result = linear_probe(X_train, y_train, X_val, y_val, X_test, 3, Cs=Cs, select_metric="accuracy")
        # Each point of the curve is the train-only fit at that C, scored on validation.
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        for C in Cs:
            model = fit_logistic(Xn[:300], y_train, 3, C)
            expected = classification_metrics(y_val, model.predict(Xn[300:450]), 3)["accuracy"]
            assert result.val_curve[C] == pytest.approx(expected, abs=1 / 150 + 1e-9)
        assert result.best_C == max(Cs, key=lambda c: (result.val_curve[c], -c))
        # The final model is the train + val refit at the chosen C.
        refit = fit_logistic(Xn[:450], np.concatenate([y_train, y_val]), 3, result.best_C)
        assert result.model.objective == pytest.approx(refit.objective, rel=1e-5)
        np.testing.assert_array_equal(result.test_pred, refit.predict(Xn[450:]))


def test_stratified_val_split_is_seeded_and_stratified():
    y = np.repeat([0, 1, 2, 3], [100, 40, 5, 1])
    train, val = stratified_val_split(y, fraction=0.1, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    # round(0.1 * count): 10, 4, then at least one of the five, and the singleton stays in train
    assert np.bincount(y[val], minlength=4).tolist() == [10, 4, 1, 0]
    _, again_val = stratified_val_split(y, fraction=0.1, seed=0)
    np.testing.assert_array_equal(val, again_val)
    _, other_val = stratified_val_split(y, fraction=0.1, seed=1)
    assert not np.array_equal(val, other_val)


def test_bad_input_is_refused():
    X, y = random_problem(5)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        fit_logistic(X, y, n_classes=2, C=1.0)
    with pytest.raises(ValueError, match="C must be positive"):
        fit_logistic(X, y, 3, C=0.0)
    with pytest.raises(ValueError, match="select_metric"):
        linear_probe(X, y, X, y, X, 3, select_metric="auc")


@pytest.mark.gpu
def test_cuda_fit_matches_cpu():
    X, y = random_problem(6, n=2000, d=64, k=5)
    cpu = fit_logistic(X, y, 5, C=1.0)
    gpu = fit_logistic(X, y, 5, C=1.0, device="cuda")
    assert gpu.objective == pytest.approx(cpu.objective, rel=1e-5)
    assert (gpu.predict(X) == cpu.predict(X)).mean() > 0.999


def test_sweep_path_reaches_the_cold_fit_optima():
    # The sweep carries L-BFGS memory across C and starts each C from an extrapolation of
    # the path; every point must still be the optimum a cold fit finds.
    X, y = random_problem(7, n=500, d=16, k=4)
    result = linear_probe(X[:400], y[:400], X[400:], y[400:], X[:5], 4, Cs=DEFAULT_CS[::2])
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    for entry in result.path[:-1]:
        cold = fit_logistic(Xn[:400], y[:400], 4, entry["C"], dtype=torch.float64, tol=1e-10)
        assert entry["objective"] == pytest.approx(cold.objective, rel=1e-5)
