"""Linear probe: multinomial logistic regression on L2-normalised features.

The model minimises exactly scikit-learn's ``LogisticRegression`` objective (L2 penalty
on the weights only, intercept unpenalised)::

    C * sum_i CE(W x_i + b, y_i) + 0.5 * ||W||_F^2

divided by ``C * n`` for numerical scale (scikit-learn >= 1.1 does the same internally), so
every fit here is directly comparable to, and tested against, scikit-learn. Like
scikit-learn it fits only the classes present in ``y``; with two of them it fits the binary
model (one weight vector, penalty ``0.5 * ||w||^2``), which is *not* the two-class softmax
(that one would penalise ``0.25 * ||w||^2``). Declared classes absent from the training
labels get intercept ``-inf``: probability 0, never predicted.

The solver is torch's full-batch L-BFGS with a strong-Wolfe line search on CPU or CUDA,
float32 by default (float64 for references). A regularisation sweep warm-starts each C
from the solution at the previous, smaller C, which is close, so most of the path costs a
few iterations per C.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from fer_bench.metrics import METRICS, classification_metrics
from fer_bench.probes.normalize import l2_normalize

# 15 half-decade steps from 1e-3 to 1e4. Features are L2-normalised, so the scale of C
# depends only on the number of samples n (the per-sample penalty is ||W||^2 / (2 C n)):
# at C=1e-3 and the few hundred samples of the small lab datasets the model is regularised
# down to the class priors, and at C=1e4 with a thousand samples or more it is essentially
# unregularised; together they bracket the optimum for every dataset size we probe
# (CLIP's probes used a finer sweep of a wider range, 1e-6..1e6, refined by bisection).
DEFAULT_CS: tuple[float, ...] = tuple(float(c) for c in np.logspace(-3, 4, 15))


@dataclass
class LogisticModel:
    """A fitted multinomial logistic regression over the declared classes."""

    coef: np.ndarray  # (K, D) float32
    intercept: np.ndarray  # (K,) float32; -inf for classes absent from training
    C: float
    n_iter: int
    objective: float  # scikit-learn's scale: C * sum CE + 0.5 ||W||^2, at the returned fit

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32) @ self.coef.T + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        logits = self.decision_function(X)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.decision_function(X).argmax(axis=1)


def _resolve_device(device) -> torch.device:
    return torch.device("cpu" if device is None else device)


def _initial_params(init: LogisticModel | None, present: np.ndarray, dim: int, dtype, device):
    """Flat parameter vector [W.ravel(), b] for the present classes, from ``init`` if given.

    Binary fits use one row (the log-odds of the second present class); a softmax model
    over the two classes maps to it as the difference of its two rows.
    """
    rows = 1 if len(present) == 2 else len(present)
    W = np.zeros((rows, dim), dtype=np.float64)
    b = np.zeros(rows, dtype=np.float64)
    if init is not None:
        if init.coef.shape[1] != dim:
            raise ValueError(f"init has dimension {init.coef.shape[1]}, features have {dim}")
        coef = np.asarray(init.coef, dtype=np.float64)[present]
        intercept = np.asarray(init.intercept, dtype=np.float64)[present]
        if np.isfinite(intercept).all():
            if rows == 1:
                W[0], b[0] = coef[1] - coef[0], intercept[1] - intercept[0]
            else:
                W, b = coef, intercept
    flat = np.concatenate([W.ravel(), b])
    return torch.tensor(flat, dtype=dtype, device=device), rows


def _objective_and_grad(theta, X, y, rows, inv_Cn):
    """Per-sample objective mean CE + ||W||^2 / (2 C n) and its gradient, by hand
    (two matrix products per evaluation; autograd would add nothing but overhead)."""
    n, dim = X.shape
    W = theta[: rows * dim].view(rows, dim)
    b = theta[rows * dim :]
    Z = torch.addmm(b, X, W.T)  # (n, rows)
    if rows == 1:  # binary: log(1 + exp(z)) - t z, t = 1 for the second present class
        z = Z[:, 0]
        ce = torch.nn.functional.softplus(z) - y * z
        G = (torch.sigmoid(z) - y).unsqueeze(1)
    else:
        log_norm = torch.logsumexp(Z, dim=1)
        ce = log_norm - Z.gather(1, y.unsqueeze(1)).squeeze(1)
        G = torch.exp(Z - log_norm.unsqueeze(1))
        G[torch.arange(n, device=X.device), y] -= 1.0
    G /= n
    loss = ce.mean() + 0.5 * inv_Cn * torch.dot(W.ravel(), W.ravel())
    grad_W = torch.addmm(W, G.T, X, beta=inv_Cn)  # G^T X + W / (C n)
    return loss, torch.cat([grad_W.ravel(), G.sum(dim=0)])


def _fit_tensors(X, y_np, n_classes, C, init, tol, max_iter) -> LogisticModel:
    """fit_logistic on features already on the target device and dtype."""
    if not C > 0:
        raise ValueError(f"C must be positive, got {C}")
    n, dim = X.shape
    present = np.unique(y_np)
    if len(present) < 2:  # nothing to separate: always predict the one class seen
        coef = np.zeros((n_classes, dim), dtype=np.float32)
        intercept = np.full(n_classes, -np.inf, dtype=np.float32)
        intercept[present] = 0.0
        return LogisticModel(coef, intercept, float(C), 0, 0.0)

    position = np.searchsorted(present, y_np)
    theta, rows = _initial_params(init, present, dim, X.dtype, X.device)
    if rows == 1:
        y = torch.as_tensor(position == 1, dtype=X.dtype, device=X.device)
    else:
        y = torch.as_tensor(position, dtype=torch.long, device=X.device)
    inv_Cn = 1.0 / (C * n)

    theta.requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [theta],
        lr=1.0,
        max_iter=max_iter,
        max_eval=int(max_iter * 1.25),
        tolerance_grad=tol,  # stop when max |gradient| <= tol, like scipy's pgtol
        tolerance_change=1e-12,
        history_size=10,  # scipy's default, which scikit-learn uses
        line_search_fn="strong_wolfe",
    )

    def closure():
        with torch.no_grad():
            loss, grad = _objective_and_grad(theta, X, y, rows, inv_Cn)
        theta.grad = grad
        return loss

    optimizer.step(closure)
    n_iter = int(optimizer.state[theta].get("n_iter", 0))
    with torch.no_grad():
        loss, _ = _objective_and_grad(theta, X, y, rows, inv_Cn)
        params = theta.detach().to(torch.float64).cpu().numpy()

    W = params[: rows * dim].reshape(rows, dim)
    b = params[rows * dim :]
    if rows == 1:  # softmax rows whose difference is the binary log-odds
        W = np.stack([-W[0] / 2, W[0] / 2])
        b = np.array([-b[0] / 2, b[0] / 2])
    coef = np.zeros((n_classes, dim), dtype=np.float32)
    intercept = np.full(n_classes, -np.inf, dtype=np.float32)
    coef[present] = W
    intercept[present] = b
    return LogisticModel(coef, intercept, float(C), n_iter, float(loss) * C * n)


def _labels(y, n_classes: int, n_rows: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(f"expected {n_rows} labels in a 1-D array, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {y.dtype}")
    if n_rows and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got min {y.min()} max {y.max()}")
    return y.astype(np.int64)


def _features(X, device, dtype) -> torch.Tensor:
    X = np.asarray(X)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"expected a non-empty (N, D) feature matrix, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("features contain NaN or inf")
    return torch.as_tensor(np.ascontiguousarray(X), device=_resolve_device(device)).to(dtype)


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    C: float,
    *,
    init: LogisticModel | None = None,
    device=None,
    tol: float = 1e-6,
    max_iter: int = 1000,
    dtype: torch.dtype = torch.float32,
) -> LogisticModel:
    """Fit L2-regularised multinomial logistic regression (scikit-learn's objective).

    ``init`` warm-starts from another fit on the same classes (typically the previous C
    of a sweep). Converged when the largest gradient entry of the per-sample objective is
    at most ``tol`` (scikit-learn's default is 1e-4, which stops ~1e-4 relative above the
    optimum on large problems; 1e-6 here lands within ~1e-7). X is used as given: the
    probe normalises, this function does not.
    """
    Xt = _features(X, device, dtype)
    return _fit_tensors(Xt, _labels(y, n_classes, len(Xt)), n_classes, C, init, tol, max_iter)


@dataclass
class LinearProbeResult:
    best_C: float
    val_curve: dict[float, float]  # C -> validation score (select_metric)
    select_metric: str
    model: LogisticModel  # refit on train + val at best_C
    test_proba: np.ndarray  # (N_test, K)
    test_pred: np.ndarray  # (N_test,)
    path: list[dict] = field(default_factory=list)  # per C: n_iter, objective, seconds


def linear_probe(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    X_test: np.ndarray,
    n_classes: int,
    *,
    Cs: Sequence[float] = DEFAULT_CS,
    select_metric: str = "mean_class_accuracy",
    device=None,
    tol: float = 1e-6,
    max_iter: int = 1000,
) -> LinearProbeResult:
    """Sweep C on the validation split, refit on train + val at the best C, predict test.

    Features are L2-normalised first. C is swept from small to large, each fit warm-started
    from the previous one. Selection sees validation labels only (this function never gets
    test labels). Ties go to the smaller C (the stronger regularisation).
    """
    import time

    if select_metric not in METRICS:
        raise ValueError(f"unknown select_metric {select_metric!r}; expected one of {METRICS}")
    Cs = sorted(float(c) for c in Cs)
    if not Cs:
        raise ValueError("Cs must hold at least one value")
    train = l2_normalize(X_train)
    val = l2_normalize(X_val)
    test = l2_normalize(X_test)
    y_train = _labels(y_train, n_classes, len(train))
    y_val = _labels(y_val, n_classes, len(val))
    dtype = torch.float32

    Xt = _features(train, device, dtype)
    models: dict[float, LogisticModel] = {}
    val_curve: dict[float, float] = {}
    path: list[dict] = []
    previous = None
    for C in Cs:
        started = time.perf_counter()
        previous = _fit_tensors(Xt, y_train, n_classes, C, previous, tol, max_iter)
        models[C] = previous
        scores = classification_metrics(y_val, previous.predict(val), n_classes)
        val_curve[C] = scores[select_metric]
        path.append(_path_entry("sweep", previous, time.perf_counter() - started))
    del Xt

    best_C = max(Cs, key=lambda c: (val_curve[c], -c))  # ties -> smaller C
    started = time.perf_counter()
    Xtv = _features(np.concatenate([train, val]), device, dtype)
    final = _fit_tensors(
        Xtv, np.concatenate([y_train, y_val]), n_classes, best_C, models[best_C], tol, max_iter
    )
    path.append(_path_entry("refit", final, time.perf_counter() - started))
    return LinearProbeResult(
        best_C=best_C,
        val_curve=val_curve,
        select_metric=select_metric,
        model=final,
        test_proba=final.predict_proba(test),
        test_pred=final.predict(test),
        path=path,
    )


def _path_entry(stage: str, model: LogisticModel, seconds: float) -> dict:
    return {
        "stage": stage,
        "C": model.C,
        "n_iter": model.n_iter,
        "objective": model.objective,
        "seconds": round(seconds, 4),
    }


def stratified_val_split(y, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split of ``y`` into (train_idx, val_idx), both sorted.

    Each class sends ``round(fraction * count)`` samples to validation, but at least one
    when it has two or more and never its last one, so every class with two samples is
    both trained on and validated. (scikit-learn's ``train_test_split(stratify=...)``
    rejects classes with one sample, which small lab datasets have.)
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    rng = np.random.default_rng(seed)
    val_parts = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n_val = min(max(math.floor(fraction * len(members) + 0.5), 1), len(members) - 1)
        val_parts.append(rng.permutation(members)[:n_val])
    val_idx = np.sort(np.concatenate(val_parts)) if val_parts else np.array([], dtype=np.int64)
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[val_idx] = False
    return np.flatnonzero(train_mask), val_idx.astype(np.int64)
