"""The ridge probe against scikit-learn, and its per-target selection."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from fer_bench.probes.normalize import Standardizer
from fer_bench.probes.ridge import RidgeProbe, ridge_path


@pytest.mark.parametrize("n,d", [(200, 10), (15, 40)])      # primal and dual forms
def test_path_equals_sklearn(n, d):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    alphas = (0.01, 1.0, 100.0)
    W, b = ridge_path(X, y, alphas)
    for i, a in enumerate(alphas):
        ref = Ridge(alpha=a).fit(X, y)
        assert np.allclose(W[i], ref.coef_, atol=1e-8)
        assert b[i] == pytest.approx(ref.intercept_, abs=1e-8)


def test_probe_chooses_lowest_validation_error_per_target():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 20))
    Y = np.stack([X[:, 0] * 2, rng.normal(size=500)], axis=1)   # signal and pure noise
    Y[:50, 0] = np.nan
    probe = RidgeProbe(alphas=(1e-5, 1e-2, 1e2)).fit(X[:300], Y[:300], X[300:400], Y[300:400])
    for j in range(2):
        curve = probe.val_curves[j]
        assert probe.chosen_alpha[j] == min(curve, key=lambda a: (curve[a], -a))
    assert probe.chosen_alpha[1] == 1e2                           # noise: shrink
    pred = probe.predict(X[400:])
    scaler = Standardizer.fit(X[:300])           # standardised on every training row
    assert np.allclose(scaler(X[:300]).mean(0), 0) and np.allclose(scaler(X[:300]).std(0), 1)
    rows = ~np.isnan(Y[:300, 0])
    # the penalty is per coded training row: alpha = r * n
    ref = Ridge(alpha=probe.chosen_alpha[0] * rows.sum()).fit(scaler(X[:300])[rows],
                                                              Y[:300][rows, 0])
    assert np.allclose(pred[:, 0], ref.predict(scaler(X[400:])), atol=1e-8)
    assert np.corrcoef(pred[:, 0], Y[400:, 0])[0, 1] > 0.8
