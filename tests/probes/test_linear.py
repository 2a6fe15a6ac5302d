"""Linear probe: separable toy problem, parity with scikit-learn, warm starts, selection,
convergence at every C, the same result whatever the thread count, the coarse-to-fine
search of C, fits of wide features in their row space."""

import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import fer_bench.probes.principal_axes as principal_axes_module
from fer_bench.metrics import classification_metrics
from fer_bench.probes.linear import (DEFAULT_CS, DEFAULT_SELECT_TOLERANCE, DEFAULT_TOL,
                                     LinearProbe, _Fitter, fit_logistic, linear_probe,
                                     search_C, select_C)


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
    angles = np.concatenate([np.arange(c - half_width, c + half_width + 1e-9, step)
                             for c in centres_deg])
    labels = np.repeat(np.arange(len(centres_deg)), len(angles) // len(centres_deg))
    radians = np.deg2rad(angles)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32), labels


def test_default_grid():
    assert len(DEFAULT_CS) == 19
    ratios = np.diff(np.log10(DEFAULT_CS))
    np.testing.assert_allclose(ratios, 0.5)  # half-decades
    assert DEFAULT_CS[0] == pytest.approx(1e-3) and DEFAULT_CS[-1] == pytest.approx(1e6)


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
    ref = LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=10_000)
    ref.fit(X.astype(np.float64), y)
    classes = np.arange(3)
    ours_obj = sklearn_objective(X, y, ours.coef.astype(np.float64),
                                 ours.intercept.astype(np.float64), C, classes)
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
        result = linear_probe(X_train, y_train, X_val, y_val, X_test, 3, Cs=Cs,
                              select_metric="accuracy")
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


def weak_problem(seed, n, d, k, signal):
    """Overlapping classes (no C separates them), like real FER features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    W = rng.normal(size=(k, d)) * signal
    return X, (X @ W.T + rng.gumbel(size=(n, k))).argmax(axis=1)


_THREADS_SCRIPT = textwrap.dedent(
    """
    import sys

    import numpy as np
    import torch

    torch.set_num_threads(int(sys.argv[1]))
    import fer_bench.probes.logistic_solver as solver
    from fer_bench.probes.linear import linear_probe

    # every row-parallel operation on all threads, also on problems this small
    solver._PARALLEL_PRODUCT = solver._PARALLEL_ELEMENTS = 0

    data, out = np.load(sys.argv[2]), {}
    for name in ("multi", "binary", "wide"):
        Xtr, ytr, Xva, yva, Xte = (data[f"{name}_{part}"]
                                   for part in ("Xtr", "ytr", "Xva", "yva", "Xte"))
        r = linear_probe(Xtr, ytr, Xva, yva, Xte, int(ytr.max()) + 1, Cs=data[f"{name}_Cs"])
        out[f"{name}_C"] = r.best_C
        out[f"{name}_curve"] = [r.val_curve[c] for c in sorted(r.val_curve)]
        out[f"{name}_iters"] = [e["n_iter"] for e in r.path]
        out[f"{name}_pred"], out[f"{name}_proba"] = r.test_pred, r.test_proba
        out[f"{name}_coef"], out[f"{name}_intercept"] = r.model.coef, r.model.intercept
    np.savez(sys.argv[3], **out)
    """
)


def test_probe_is_identical_with_one_and_two_threads(tmp_path):
    # Multi-threaded reductions (a BLAS product summed over samples, torch's sums to one
    # number) add their terms in an order set by the thread count; a weakly regularised fit
    # amplifies those last-bit differences into a different C or different predictions.
    # Each thread count runs in a process of its own (BLAS pools read OMP_NUM_THREADS at
    # start); the multinomial problem's shape is one where MKL splits R^T X between threads,
    # the binary one has enough rows for element-wise ops to be split between threads, the
    # wide one (fewer rows than dimensions) is fitted in its row space.
    problems = {"multi": weak_problem(0, 3000, 64, 7, 0.3),
                "binary": weak_problem(1, 48000, 8, 2, 0.3),
                "wide": weak_problem(2, 400, 900, 5, 0.3)}
    arrays = {f"{name}_Cs": DEFAULT_CS[::2] for name in problems}  # 1e-3 .. 1e6
    for name, (X, y) in problems.items():
        n = len(X)
        cut = (int(0.7 * n), int(0.85 * n))
        arrays.update({f"{name}_Xtr": X[: cut[0]], f"{name}_ytr": y[: cut[0]],
                       f"{name}_Xva": X[cut[0] : cut[1]], f"{name}_yva": y[cut[0] : cut[1]],
                       f"{name}_Xte": X[cut[1] :]})
    np.savez(tmp_path / "data.npz", **arrays)
    results = []
    for threads in (1, 2):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        out = tmp_path / f"threads{threads}.npz"
        subprocess.run([sys.executable, "-c", _THREADS_SCRIPT, str(threads),
                        str(tmp_path / "data.npz"), str(out)], check=True, env=env, timeout=600)
        results.append(np.load(out))
    one, two = results
    assert sorted(one.files) == sorted(two.files)
    # bit for bit: C, validation curve, iterations, predictions, probabilities, model
    different = [key for key in sorted(one.files) if not np.array_equal(one[key], two[key])]
    assert not different, f"differ between 1 and 2 threads: {different}"


def test_select_C_takes_the_smallest_C_within_the_tolerance_of_the_best():
    curve = {0.1: 0.40, 1.0: 0.452, 10.0: 0.459, 100.0: 0.461, 1000.0: 0.457}
    assert select_C(curve, 0.0) == 100.0
    assert select_C(curve, 0.005) == 10.0  # 0.459 >= 0.461 - 0.005 > 0.452
    assert select_C(curve, 0.01) == 1.0
    assert select_C({1.0: 0.5, 10.0: 0.5}, 0.0) == 1.0  # exact ties: the smaller C
    assert DEFAULT_SELECT_TOLERANCE == 0.005
    with pytest.raises(ValueError, match="tolerance"):
        select_C(curve, -0.1)


def test_probe_applies_and_reports_the_selection_rule():
    X, y = weak_problem(8, 900, 24, 4, 0.4)
    result = linear_probe(X[:600], y[:600], X[600:750], y[600:750], X[750:], 4, Cs=DEFAULT_CS[::2],
                          select_tolerance=0.02)
    assert result.best_C == select_C(result.val_curve, 0.02)
    selection = result.selection()
    assert selection["tolerance"] == 0.02 and selection["metric"] == "mean_class_accuracy"
    assert selection["best_score"] == max(result.val_curve.values())
    assert selection["grid"] == [DEFAULT_CS[0], DEFAULT_CS[-1]]
    assert "smallest C" in selection["rule"]


def test_a_choice_at_an_end_of_the_grid_is_flagged():
    X, y = weak_problem(8, 900, 24, 4, 0.4)  # validation curve: 0.25 at C=1e-3, flat from C=0.1
    split = (X[:600], y[:600], X[600:750], y[600:750], X[750:], 4)
    top = linear_probe(*split, Cs=(1e-3, 1e-2))
    assert top.best_C == 1e-2 and top.grid_edge == "largest"
    assert top.selection()["grid_edge"] == "largest"
    inside = linear_probe(*split, Cs=DEFAULT_CS[::2])
    assert inside.best_C not in (DEFAULT_CS[0], DEFAULT_CS[-1]) and inside.grid_edge is None
    X_train, y_train = sector_points([0, 120, 240], 40, 2)  # separable: every C scores 1.0
    X_val, y_val = sector_points([0, 120, 240], 39, 6)
    bottom = linear_probe(X_train, y_train, X_val, y_val, X_val, 3, Cs=(1e-3, 1e-2))
    assert bottom.best_C == 1e-3 and bottom.grid_edge == "smallest"
    # a one-point grid has no edge to warn about
    assert linear_probe(X_train, y_train, X_val, y_val, X_val, 3, Cs=(1.0,)).grid_edge is None


def test_sweep_stops_two_decades_past_the_peak_without_changing_the_choice():
    X, y = weak_problem(11, 500, 200, 4, 0.3)  # 200 dims, 300 rows: overfits at large C
    split = (X[:300], y[:300], X[300:], y[300:], X[300:], 4)
    early = linear_probe(*split)
    full = linear_probe(*split, sweep_patience=None)
    assert early.stopped_early and not full.stopped_early
    assert len(full.val_curve) == len(DEFAULT_CS) > len(early.val_curve)
    swept = sorted(early.val_curve)
    assert swept == list(DEFAULT_CS[: len(swept)])
    assert all(early.val_curve[c] == full.val_curve[c] for c in swept)  # same fits
    assert all(early.val_curve[c] < max(early.val_curve.values()) - DEFAULT_SELECT_TOLERANCE
               for c in swept[-4:])  # two decades below the tie band
    assert early.best_C == full.best_C and early.grid_edge is None
    np.testing.assert_array_equal(early.test_pred, full.test_pred)
    assert early.selection()["swept"] == [swept[0], swept[-1]]
    assert early.selection()["grid"] == [DEFAULT_CS[0], DEFAULT_CS[-1]]
    assert early.selection()["stopped_early"]


@pytest.mark.parametrize("shape", [(7, 500, 16, 4, 1.0), (3, 3000, 128, 7, 0.15)])
def test_every_fit_of_the_sweep_is_at_the_optimum(shape):
    # Warm starts extrapolated along the path must still end at each C's optimum, also at
    # the top of the grid, where the penalty is weakest and the objective flattest. The
    # former stopping rule (relative decrease of the objective) ended 1-2 iterations after
    # the extrapolated start there: 4% off the optimum's weights on the first problem by
    # C = 1e4, and up to 5 predictions of the second differed from the optimum's.
    X, y = weak_problem(*shape)
    k = shape[3]
    n_train = int(0.8 * len(X))
    result = linear_probe(X[:n_train], y[:n_train], X[n_train:], y[n_train:], X[:5], k)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    reference = None
    for C, model in sorted(result.sweep_models.items()):
        reference = fit_logistic(Xn[:n_train], y[:n_train], k, C, init=reference,
                                 dtype=torch.float64,
                                 tol=1e-9, max_iter=20_000)
        assert model.converged and model.stop in ("tol", "precision"), C
        # A fit that met tol: within 0.5% of the optimum's largest weight. One that ended
        # at float32's precision (weak penalties: the gradient's rounding error grows like
        # C n) is as close as float32 resolves, 1.5% here (measured up to 1.2%).
        bound = 5e-3 if model.stop == "tol" else 1.5e-2
        scale = max(1.0, np.abs(reference.coef).max())
        assert np.abs(model.coef - reference.coef).max() <= bound * scale, C
        assert np.sum(model.predict(Xn) != reference.predict(Xn)) <= 2, C
    assert [e["C"] for e in result.path[:-1]] == sorted(result.sweep_models)
    assert all(e["stop"] in ("tol", "precision") and e["grad_max"] >= 0 for e in result.path)


# -- coarse-to-fine search of C -------------------------------------------------------------

def searched(values, search):
    """search_C over DEFAULT_CS on a hand-made validation curve (one score per C)."""
    curve, asked = dict(zip(DEFAULT_CS, values, strict=True)), []

    def score(C):
        asked.append(C)
        return curve[C]

    found, stopped_early = search_C(DEFAULT_CS, score, search=search)
    assert list(found) == asked and len(set(asked)) == len(asked)  # each C once, in order
    return found, stopped_early


# Hand-made curves over the 19 half-decades 1e-3..1e6; each Cs[i] = 10 ** (i / 2 - 3).
FLAT = [0.125] * 3 + [0.2, 0.3, 0.497] + [0.5, 0.499, 0.5, 0.501, 0.5, 0.498, 0.5, 0.499,
                                          0.501, 0.5, 0.499, 0.5, 0.5]
HALF_DECADE_PEAK = [0.1, 0.15, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.60, 0.66, 0.61, 0.58, 0.55,
                    0.5, 0.45, 0.4, 0.35, 0.3, 0.25]
RISING = [0.125] * 4 + [0.13 + 0.04 * i for i in range(13)] + [0.797, 0.8]


@pytest.mark.parametrize("values, chosen, stopped_early", [
    (FLAT, DEFAULT_CS[5], False),              # smallest C of the band: a half-decade
    (HALF_DECADE_PEAK, DEFAULT_CS[9], True),   # 31.6, between two decades that miss it
    (RISING, DEFAULT_CS[17], False),           # 3.16e5, within the band of the top 1e6
])
def test_coarse_fine_chooses_the_full_sweeps_C_with_fewer_fits(values, chosen, stopped_early):
    full, full_stopped = searched(values, "full")
    coarse_fine, coarse_stopped = searched(values, "coarse-fine")
    assert select_C(full) == select_C(coarse_fine) == chosen
    assert full_stopped == coarse_stopped == stopped_early
    assert len(coarse_fine) < len(full)
    decades = [c for c in coarse_fine if DEFAULT_CS.index(c) % 2 == 0]
    assert list(coarse_fine)[: len(decades)] == decades == sorted(decades)  # climbed first
    assert all(coarse_fine[c] == values[DEFAULT_CS.index(c)] for c in coarse_fine)


def test_coarse_fine_climb_stops_two_decades_past_the_peak():
    found, stopped_early = searched(HALF_DECADE_PEAK, "coarse-fine")
    # decades up to 1e4 (100 scored 0.61; 1e3 and 1e4 both below 0.605), then 31.6 and 316
    assert stopped_early and list(found) == [*DEFAULT_CS[0:15:2], DEFAULT_CS[9], DEFAULT_CS[11]]


def test_coarse_fine_cannot_see_an_isolated_half_decade_best():
    # crs-cont's committed synth-wild curve (the reference's one case of 48 where the
    # searches differ): its best score is a lone half-decade, 3.16e5, two decades from any
    # other point within half a point of it. The full sweep's band hangs from that point
    # (choice 1e3); coarse-fine never fits it, and chooses 100 from the band of 1e3.
    values = [0.19, 0.1887, 0.1924, 0.2136, 0.2131, 0.2193, 0.2294, 0.245, 0.2538, 0.267,
              0.2807, 0.2814, 0.2839, 0.2826, 0.2746, 0.2798, 0.2796, 0.2888, 0.2824]
    full, _ = searched(values, "full")
    coarse_fine, _ = searched(values, "coarse-fine")
    assert select_C(full) == 1e3 and select_C(coarse_fine) == 100.0
    assert DEFAULT_CS[17] not in coarse_fine


def test_an_unknown_search_is_refused():
    X, y = random_problem(5)
    with pytest.raises(ValueError, match="unknown search"):
        linear_probe(X, y, X, y, X, 3, search="grid")
    with pytest.raises(ValueError, match="unknown search"):
        search_C(DEFAULT_CS, lambda C: 0.0, search="random")


@pytest.mark.parametrize("shape, chosen", [((11, 500, 200, 4, 0.3), DEFAULT_CS[7]),  # 3.16
                                           ((8, 900, 24, 4, 0.4), 10.0)])
def test_coarse_fine_probe_matches_the_full_sweep(shape, chosen):
    X, y = weak_problem(*shape)
    n, k = len(X), shape[3]
    a, b = int(0.6 * n), int(0.8 * n)
    split = (X[:a], y[:a], X[a:b], y[a:b], X[b:], k)
    full = linear_probe(*split)
    coarse_fine = linear_probe(*split, search="coarse-fine")
    assert full.best_C == coarse_fine.best_C == chosen
    # Both refits stop with every gradient component of scikit-learn's objective below
    # tol, and that objective is 1-strongly convex in W: each is within sqrt(#parameters)
    # * tol of the optimum, whatever path led there.
    assert full.model.stop == coarse_fine.model.stop == "tol"
    bound = 2 * np.sqrt(k * (X.shape[1] + 1)) * DEFAULT_TOL
    assert np.linalg.norm(full.model.coef - coarse_fine.model.coef) <= bound
    assert full.model.objective == pytest.approx(coarse_fine.model.objective, rel=1e-7)
    np.testing.assert_array_equal(full.test_pred, coarse_fine.test_pred)
    for C in set(full.sweep_models) & set(coarse_fine.sweep_models):  # train-only fits too
        assert full.val_curve[C] == coarse_fine.val_curve[C], C
        if full.sweep_models[C].stop == coarse_fine.sweep_models[C].stop == "tol":
            difference = full.sweep_models[C].coef - coarse_fine.sweep_models[C].coef
            assert np.linalg.norm(difference) <= bound, C
    # Fewer fits, all of them counted and listed.
    assert coarse_fine.n_fits < full.n_fits
    for result in (full, coarse_fine):
        assert result.n_fits == len(result.val_curve) + 1 == len(result.path)
        assert [e["C"] for e in result.path[:-1]] == list(result.val_curve)
        assert result.path[-1]["stage"] == "refit"
    assert set(coarse_fine.val_curve) <= set(DEFAULT_CS)
    assert coarse_fine.search == "coarse-fine" and full.search == "full"
    assert coarse_fine.selection()["search"] == "coarse-fine"
    assert coarse_fine.selection()["fits"] == coarse_fine.n_fits
    assert "search" not in full.selection() and "fits" not in full.selection()


def test_linear_probe_object_takes_the_search():
    X, y = weak_problem(8, 900, 24, 4, 0.4)
    probe = LinearProbe(search="coarse-fine").fit(X[:600], y[:600], 4, X_val=X[600:750],
                                                  y_val=y[600:750])
    assert probe.result.search == "coarse-fine"
    assert probe.fit_details()["selection"]["search"] == "coarse-fine"
    direct = linear_probe(X[:600], y[:600], X[600:750], y[600:750], None, 4,
                          search="coarse-fine")
    assert probe.hyperparameters() == {"C": direct.best_C}
    assert probe.result.val_curve == direct.val_curve
    assert LinearProbe().search == "full"


# -- wide features: fits in the row space ---------------------------------------------------

def numpy_gradient_max(X, y, coef, intercept, C, k):
    """Largest gradient component of scikit-learn's multinomial objective, by hand."""
    X = X.astype(np.float64)
    Z = X @ coef.T.astype(np.float64) + intercept.astype(np.float64)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    R = P - np.eye(k)[y]
    return max(np.abs(C * R.T @ X + coef).max(), np.abs(C * R.sum(axis=0)).max())


@pytest.fixture
def without_row_space(monkeypatch):
    """Every fit in a rotation of the feature coordinates, whatever the shape."""
    monkeypatch.setattr(principal_axes_module, "ROW_SPACE_FRACTION", 0.0)


def test_wide_features_are_fitted_in_their_row_space():
    X, y = weak_problem(20, 120, 400, 4, 0.3)
    wide = _Fitter(torch.as_tensor(X), y, 4)
    basis, reduced, mean = wide.axes.basis, wide.solver.X, wide.axes.mean
    assert not wide.axes.is_rotation
    assert basis.shape == (400, 120) and reduced.shape == (120, 120)
    np.testing.assert_allclose(basis.T @ basis, np.eye(120), atol=1e-5)  # orthonormal
    np.testing.assert_allclose(reduced @ basis.T + mean, X, atol=1e-5)  # X's rows, re-expressed
    np.testing.assert_allclose(mean, X.mean(axis=0), atol=1e-6)
    # principal axes: the coordinates are centred and uncorrelated, variances as given
    moments = reduced.double().T @ reduced.double() / 120
    np.testing.assert_allclose(moments, np.diag(wide.axes.variances.double()), atol=1e-6)
    np.testing.assert_allclose(reduced.double().mean(dim=0), 0, atol=1e-6)
    assert _Fitter(torch.as_tensor(X[:, :140]), y, 4).axes.is_rotation  # 120 of 140: no


@pytest.mark.parametrize("C", [0.1, 3.0, 100.0])
def test_row_space_fit_is_scikit_learns_optimum(C):
    X, y = weak_problem(21, 90, 300, 3, 0.3)
    ours = fit_logistic(X, y, 3, C, dtype=torch.float64, tol=1e-9, max_iter=10_000)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X.astype(np.float64), y)
    classes = np.arange(3)
    ref_objective = sklearn_objective(X, y, ref.coef_, ref.intercept_, C, classes)
    assert ours.objective == pytest.approx(ref_objective, rel=1e-7)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef, ref.coef_, atol=1e-4 * scale)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # The weights lie in the span of the training rows (least squares leaves nothing).
    spanned = np.linalg.lstsq(X.T.astype(np.float64), ours.coef.T.astype(np.float64),
                              rcond=None)[0]
    np.testing.assert_allclose(X.T @ spanned, ours.coef.T, atol=1e-5 * scale)


def test_row_space_fit_reports_the_gradient_in_feature_coordinates():
    # The stopping rule and the reported gradient are scikit-learn's objective's, in the
    # features' own coordinates (not the basis's): checked by hand at the float64 weights.
    X, y = weak_problem(21, 90, 300, 3, 0.3)
    fitter = _Fitter(torch.as_tensor(X, dtype=torch.float64), y, 3)
    assert not fitter.axes.is_rotation
    C = 3.0
    start = fitter._to_solver(torch.as_tensor(fitter.initial(None)))
    for tol in (1e-2, 1e-6):
        theta, _, _, grad_max, stop = fitter.solver.fit(start, C, tol, 10_000)
        params = fitter._from_solver(theta).numpy()
        coef, intercept = params[: 3 * 300].reshape(3, 300), params[3 * 300 :]
        by_hand = numpy_gradient_max(X, y, coef, intercept, C, 3)
        assert stop == "tol" and by_hand <= tol
        assert grad_max == pytest.approx(by_hand, rel=1e-6)


def test_row_space_binary_fit_matches_scikit_learn():
    X, y = weak_problem(22, 80, 250, 2, 0.4)
    ours = fit_logistic(X, y, 2, 1.0, dtype=torch.float64, tol=1e-10)
    assert not _Fitter(torch.as_tensor(X), y, 2).axes.is_rotation
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(X.astype(np.float64), y)
    assert ours.objective == pytest.approx(
        sklearn_objective(X, y, ref.coef_, ref.intercept_, 1.0, np.arange(2)), rel=1e-9)
    np.testing.assert_allclose(ours.coef[1] - ours.coef[0], ref.coef_[0], atol=1e-5)
    assert ours.intercept[1] - ours.intercept[0] == pytest.approx(ref.intercept_[0], abs=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_a_warm_start_off_the_row_space_is_projected_onto_it():
    X, y = weak_problem(23, 100, 300, 4, 0.3)
    cold = fit_logistic(X, y, 4, 10.0)
    outside = fit_logistic(X, y, 4, 10.0)
    outside.coef = outside.coef + np.random.default_rng(0).normal(size=outside.coef.shape)
    warm = fit_logistic(X, y, 4, 10.0, init=outside).coef
    # the projection removes the off-span part the start added: the same optimum
    assert np.abs(warm - cold.coef).max() <= 2 * np.sqrt(4 * 301) * DEFAULT_TOL


def test_row_space_probe_matches_the_probe_in_feature_coordinates(monkeypatch):
    X, y = weak_problem(24, 500, 1200, 5, 0.3)
    split = (X[:300], y[:300], X[300:380], y[300:380], X[380:], 5)
    Cs = DEFAULT_CS[4:14]  # 0.1 .. 1e4
    reduced = linear_probe(*split, Cs=Cs)
    monkeypatch.setattr(principal_axes_module, "ROW_SPACE_FRACTION", 0.0)
    full = linear_probe(*split, Cs=Cs)
    assert reduced.best_C == full.best_C
    assert reduced.val_curve == full.val_curve
    np.testing.assert_array_equal(reduced.test_pred, full.test_pred)
    for C, model in reduced.sweep_models.items():
        assert model.objective == pytest.approx(full.sweep_models[C].objective, rel=1e-5), C
    assert reduced.model.objective == pytest.approx(full.model.objective, rel=1e-5)
    np.testing.assert_allclose(reduced.test_proba, full.test_proba, atol=1e-3)


def test_row_space_is_used_only_where_it_pays(without_row_space):
    X, y = weak_problem(20, 120, 400, 4, 0.3)
    assert _Fitter(torch.as_tensor(X), y, 4).axes.is_rotation
