"""Principal axes: an exact reparametrisation of a linear model in which the rows' second
moments are diagonal; row-space axes cover only their own rows and subsets of them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fer_bench.probes.linear as linear
from fer_bench.probes.linear import LinearProbe, _Fitter, linear_probe
from fer_bench.probes.normalize import l2_normalize
from fer_bench.probes.principal_axes import principal_axes, row_space_pays


def rows(n, d, seed=0, offset=2.0):
    """Rows with a common mean direction and unequal spreads (like embeddings)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.1, 2.0, d) + offset
    return torch.as_tensor(X, dtype=torch.float64)


@pytest.mark.parametrize("n, d", [(300, 20), (40, 100)])
def test_coordinates_are_centred_uncorrelated_and_reparametrise_the_model(n, d):
    X = rows(n, d)
    axes = principal_axes(X)
    assert axes.is_rotation == (not row_space_pays(n, d))
    Z = axes.coordinates(X)
    assert Z.shape == (n, d if axes.is_rotation else n)
    np.testing.assert_allclose(Z.mean(dim=0), 0, atol=1e-10)
    np.testing.assert_allclose(Z.T @ Z / n, torch.diag(axes.variances), atol=1e-9)
    np.testing.assert_allclose(axes.basis.T @ axes.basis, torch.eye(Z.shape[1]), atol=1e-10)
    # any weights and intercepts give the same logits and penalty in the axes (W in the
    # row space for row-space axes, where the optimum lies)
    rng = np.random.default_rng(1)
    W = torch.as_tensor(rng.normal(size=(3, d)))
    if not axes.is_rotation:
        W = W @ axes.basis @ axes.basis.T
    b = torch.as_tensor(rng.normal(size=3))
    V, b_axes = axes.to_axes(W, b)
    np.testing.assert_allclose(Z @ V.T + b_axes, X @ W.T + b, atol=1e-9)
    assert float((V ** 2).sum()) == pytest.approx(float((W ** 2).sum()), rel=1e-12)
    W_back, b_back = axes.from_axes(V, b_axes)
    np.testing.assert_allclose(W_back, W, atol=1e-10)
    np.testing.assert_allclose(b_back, b, atol=1e-10)


def test_feature_gradient_is_the_chain_rule_through_the_intercept_shift():
    # f(W, b) = sum((X W^T + b) * G) for a fixed G: grad_W = G^T X, grad_b = G^T 1; in the
    # axes the same f has grad_V = G^T Z and grad_b' = G^T 1.
    X = rows(200, 12)
    axes = principal_axes(X)
    G = torch.as_tensor(np.random.default_rng(2).normal(size=(200, 3)))
    Z = axes.coordinates(X)
    mapped = axes.feature_gradient(G.T @ Z, G.sum(dim=0))
    np.testing.assert_allclose(mapped, G.T @ X, atol=1e-9)


def test_row_space_axes_cover_their_rows_and_subsets_but_no_other_row():
    X = rows(40, 100).float()
    axes = principal_axes(X)
    assert not axes.is_rotation
    subset = X[[5, 1, 30, 30]]
    np.testing.assert_array_equal(axes.coordinates(subset), axes.coordinates(X)[[5, 1, 30, 30]])
    np.testing.assert_allclose(axes.coordinates(subset) @ axes.basis.T + axes.mean, subset,
                               atol=1e-5)
    other = rows(1, 100, seed=9).float()
    assert axes.coordinates(torch.cat([subset, other])) is None
    assert axes.coordinates(X[:3] + 1e-3) is None  # bytes, not closeness
    # a rotation covers any row
    assert principal_axes(X, row_space=False).coordinates(other) is not None


def test_a_fitter_uses_given_axes_only_where_they_cover_its_rows(monkeypatch):
    X = l2_normalize(rows(60, 150).numpy()).astype(np.float32)
    y = np.arange(60) % 3
    pool = principal_axes(torch.as_tensor(X))
    computed = []
    monkeypatch.setattr(linear, "principal_axes",
                        lambda X, *a: computed.append(len(X)) or principal_axes(X, *a))
    inside = _Fitter(torch.as_tensor(X[:45]), y[:45], 3, axes=pool)
    assert inside.axes is pool and computed == []
    outside = _Fitter(torch.as_tensor(X[:45] * 0.5), y[:45], 3, axes=pool)
    assert outside.axes is not pool and computed == [45]


def refuse_new_axes(X, *args):
    raise AssertionError(f"axes computed for {len(X)} rows the pool's axes cover")


@pytest.mark.parametrize("n, d", [(240, 400), (240, 60)])
def test_sweeps_in_a_pools_axes_reach_the_same_fits(n, d, monkeypatch):
    # the folds of subject-folds: every sweep and refit on a subset of the pool, in the
    # pool's axes (row space or rotation) instead of their own: the same choices, and each
    # refit at the optimum (within what tol bounds)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d)).astype(np.float32) + 0.5
    W = rng.normal(size=(4, d))
    y = (X @ W.T + rng.gumbel(size=(n, 4)) * 3).argmax(axis=1)
    shared = LinearProbe().share_pool(X)
    assert shared.is_rotation == (not row_space_pays(n, d))
    for fold in range(3):
        test = np.arange(n) % 3 == fold
        train = np.flatnonzero(~test)
        fit, val = train[: int(0.8 * len(train))], train[int(0.8 * len(train)):]
        split = (X[fit], y[fit], X[val], y[val], X[test], 4)
        own = linear_probe(*split, Cs=(0.1, 1.0, 10.0))
        with monkeypatch.context() as patch:   # the pool's axes cover every fit: none made
            patch.setattr(linear, "principal_axes", refuse_new_axes)
            pooled = linear_probe(*split, Cs=(0.1, 1.0, 10.0), axes=shared)
        assert pooled.best_C == own.best_C and pooled.val_curve == own.val_curve
        assert own.model.stop == pooled.model.stop == "tol"
        bound = 2 * np.sqrt(4 * (d + 1)) * 1e-3
        assert np.linalg.norm(pooled.model.coef - own.model.coef) <= bound
        assert pooled.model.objective == pytest.approx(own.model.objective, rel=1e-6)
        np.testing.assert_array_equal(pooled.test_pred, own.test_pred)
    probe = LinearProbe(Cs=(1.0,)).use_pool(shared).fit(X[:200], y[:200], 4,
                                                        X_val=X[200:], y_val=y[200:])
    direct = linear_probe(X[:200], y[:200], X[200:], y[200:], None, 4, Cs=(1.0,), axes=shared)
    np.testing.assert_array_equal(probe.result.model.coef, direct.model.coef)
