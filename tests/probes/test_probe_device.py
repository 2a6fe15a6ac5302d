"""The linear probe on the run's device: the CPU answer unchanged, an answer that does not
hang on the order of float32 sums (what a GPU changes), CUDA against CPU."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import fer_bench.probes.linear as linear
from fer_bench.metrics import classification_metrics
from fer_bench.probes.fp32 import matmul_precision_flags
from fer_bench.probes.linear import LinearProbe, linear_probe
from fer_bench.protocols.evaluation import new_probe

pytestmark = pytest.mark.usefixtures("one_torch_thread")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# What a device may change, and by how much (also scripts/check_gpu_paths.py's limits):
# the chosen C not at all; the test mean class accuracy by at most 0.002.
SCORE_TOLERANCE = 0.002
CS = tuple(float(c) for c in np.logspace(-2, 4, 13))  # a shorter grid: fast tests


def reference_case(seed, n=900, dim=64, classes=7, separation=0.35):
    """Imbalanced Gaussian classes around a common offset (features of one sign, like
    pooled ReLU features): train, validation and test parts."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(classes, dim)) * separation
    share = rng.dirichlet(np.full(classes, 2.0))

    def part(m):
        y = rng.choice(classes, m, p=share)
        return (means[y] + rng.normal(size=(m, dim)) + 2.0).astype(np.float32), y

    return part(n), part(n // 3), part(n // 2), classes


CASES = {"7-class": dict(seed=0), "binary": dict(seed=1, classes=2, separation=0.25),
         "8-class-wide": dict(seed=2, classes=8, dim=128, separation=0.3)}


def _probe(case, device=None, order_seed=None):
    (Xt, yt), (Xv, yv), (Xs, ys), classes = case
    if order_seed is not None:  # the same rows, summed in another order
        rng = np.random.default_rng(order_seed)
        t, v = rng.permutation(len(yt)), rng.permutation(len(yv))
        Xt, yt, Xv, yv = Xt[t], yt[t], Xv[v], yv[v]
    result = linear_probe(Xt, yt, Xv, yv, Xs, classes, Cs=CS, device=device)
    score = classification_metrics(ys, result.test_pred, classes)["mean_class_accuracy"]
    return result, score


@pytest.mark.parametrize("name", sorted(CASES))
def test_cpu_device_is_the_default_path_bit_for_bit(name):
    """A CPU run passes device "cpu"; the probe is the one of device None, bit for bit."""
    case = reference_case(**CASES[name])
    default, _ = _probe(case)
    on_cpu, _ = _probe(case, device="cpu")
    assert on_cpu.best_C == default.best_C and on_cpu.val_curve == default.val_curve
    np.testing.assert_array_equal(on_cpu.model.coef, default.model.coef)
    np.testing.assert_array_equal(on_cpu.model.intercept, default.model.intercept)
    np.testing.assert_array_equal(on_cpu.test_proba, default.test_proba)


@pytest.mark.parametrize("name", sorted(CASES))
def test_answer_does_not_hang_on_the_order_of_sums(name):
    """Another device adds the same float32 numbers in another order. Fits stop at one
    gradient tolerance of scikit-learn's objective, so the answer is the optimum's: the
    same C, the test score within SCORE_TOLERANCE."""
    case = reference_case(**CASES[name])
    (reference, score), (shuffled, shuffled_score) = _probe(case), _probe(case, order_seed=5)
    assert 0.5 < score < 0.99  # a case where C matters (not separable, not hopeless)
    assert reference.grid_edge is None
    assert shuffled.best_C == reference.best_C
    assert abs(shuffled_score - score) <= SCORE_TOLERANCE
    assert (shuffled.test_pred == reference.test_pred).mean() >= 0.99


def test_probe_keeps_full_float32_under_a_reduced_precision_setting():
    flags = matmul_precision_flags()
    if not flags:
        pytest.skip("torch < 2.9: no per-backend matmul precision")
    case = reference_case(**CASES["7-class"])
    reference, _ = _probe(case)
    before = [f.fp32_precision for f in flags]
    try:
        for f in flags:
            f.fp32_precision = "bf16" if f is torch.backends.mkldnn.matmul else "tf32"
        reduced, _ = _probe(case, device="cpu")
        assert [f.fp32_precision for f in flags] != before  # the user's setting is kept
    finally:
        for f, value in zip(flags, before):
            f.fp32_precision = value
    np.testing.assert_array_equal(reduced.model.coef, reference.model.coef)


@pytest.mark.parametrize("name", ["linear", "support-linear", "knn"])
def test_the_runs_device_reaches_the_probe(name):
    """protocols build probes with the run context's device (what --device resolves to)."""
    probe = new_probe(SimpleNamespace(device="cuda:1"), name, {})
    assert probe.device == "cuda:1"


def test_the_probes_device_reaches_the_solver(monkeypatch):
    seen = []
    features = linear._features

    def recording(X, device, dtype):
        seen.append(device)
        return features(X, "cpu", dtype)

    monkeypatch.setattr(linear, "_features", recording)
    (Xt, yt), (Xv, yv), _, classes = reference_case(3, n=120)
    LinearProbe(Cs=(1.0,), device="cuda:1").fit(Xt, yt, classes, X_val=Xv, y_val=yv)
    assert seen and set(seen) == {"cuda:1"}


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("name", sorted(CASES))
def test_cuda_probe_chooses_the_cpu_C_and_scores_alike(name):
    case = reference_case(**CASES[name])
    (cpu, cpu_score), (gpu, gpu_score) = _probe(case, "cpu"), _probe(case, "cuda")
    assert gpu.best_C == cpu.best_C
    assert abs(gpu_score - cpu_score) <= SCORE_TOLERANCE
    assert (gpu.test_pred == cpu.test_pred).mean() >= 0.99
    assert gpu.model.objective == pytest.approx(cpu.model.objective, rel=1e-4)
