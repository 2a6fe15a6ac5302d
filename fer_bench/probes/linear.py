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

The solver (:mod:`fer_bench.probes.logistic_solver`) is a full-batch L-BFGS in torch, on
the run's device (``device``: CPU or CUDA, IEEE float32 products even where TF32 is on,
:mod:`fer_bench.probes.fp32`), float32 by default (float64 for references), specialised to
linear models: line searches cost O(n K) instead of a pass over the features, it fits in
the principal axes of the training rows (:mod:`fer_bench.probes.principal_axes`: an exact
reparametrisation where the covariance preconditioner is diagonal; the refit on train +
validation keeps the sweep's axes where they are a rotation, and a protocol fitting
subsets of one pool shares the pool's), a regularisation sweep keeps its curvature memory
from one C to the next and starts each C from a linear extrapolation of the path, and with
clearly fewer rows than dimensions the axes span only the rows' row space (the same
optimum at a fraction of the cost). Every fit runs
until the gradient of scikit-learn's objective is below ``tol`` (the same distance to the
optimum at every C), and its sums are taken in an order that does not depend on the thread count, so
on one machine the same inputs give the same probe, bit for bit, whatever the number of
threads (across machines, BLAS kernels differ in the last bits and the stopping rule keeps
the answer the optimum's).

Selecting C: the validation curve of a good encoder is often flat over a decade or more,
where the best point is noise. The sweep picks the *smallest* C (the strongest
regularisation) whose validation score is within ``select_tolerance`` (0.005, half a
point) of the best score, and flags a choice at either end of the grid (``grid_edge``):
there the best C may lie outside the grid. The sweep stops climbing once two decades of C
have all scored below that band (``sweep_patience``).

Which Cs are fitted (``search``, :func:`search_C`): ``"full"``, the default, fits every C
of the grid in turn, as above. ``"coarse-fine"`` climbs the decades first (every other C:
the same warm-started path, its patience counted in decades), then fits the half-decade
neighbours of the coarse choice and of the coarse best (each warm-started by interpolating
between the two fitted Cs around it), again while the choice or the best moves to a C
with an unfitted neighbour, and applies the same rule (:func:`select_C`) to every C
evaluated; the result lists them (``val_curve``) and counts the fits (``n_fits``).
Measured on the reference's 16 cases of pixels, random-resnet18, crs-cont and facemesh
(seed 0, ``scripts/bench_probe_search.py``) it ran 36% fewer fits but only 10% fewer L-BFGS
iterations and 17% less CPU time (0.58-1.13 of the full sweep's per case): a warm-started
fit costs more the further it steps along the path, and at large C, where the fits end at
float32's precision after hundreds of iterations, one decade step costs about what the two
half-decade steps it replaces do. Two choices differed: crs-cont on synth-wild, whose best
score is a lone half-decade (3.16e5) the decades never see (C 100 for 1e3, test mean class
accuracy 2.5 points lower), and crs-cont on synth-lab, whose fits at 1e6 end at float32's
precision by different paths and score one validation item apart (3.16e5 for 1e6, same
test score). Too little gain for that: the full sweep stays the default.

As probe objects (:mod:`fer_bench.probes.base`): :class:`LinearProbe` (``linear``, the C
sweep of :func:`linear_probe`) and :class:`SupportLinearProbe` (``support-linear``: no
validation split, a fixed C or C cross-validated on the training rows; few-shot's linear).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fer_bench.metrics import METRICS, classification_metrics
from fer_bench.probes.base import DEFAULT_VAL_FRACTION, Probe, register_probe
from fer_bench.probes.fp32 import full_fp32
from fer_bench.probes.logistic_solver import LogisticSolver
from fer_bench.probes.normalize import l2_normalize
from fer_bench.probes.principal_axes import PrincipalAxes, principal_axes
from fer_bench.splits import stratified_val_split

# 19 half-decade steps from 1e-3 to 1e6. Features are L2-normalised, so the scale of C
# depends only on the number of samples n (the per-sample penalty is ||W||^2 / (2 C n)):
# at C=1e-3 and the few hundred samples of the small lab datasets the model is regularised
# down to the class priors. The top was 1e4 until the reference leaderboard's 262
# validation curves showed 131 choosing it, and in 56 of them 1e4 still beat every smaller
# C by more than 2 points (rising, not flat, curves: encoders whose features vary in a
# narrow cone need large weights); no curve ever chose 1e-3. Beyond 1e6 the penalty per
# sample (below 1e-9 |W|^2 for n >= 1000) is under what a float32 loss resolves, so larger
# Cs would all be the same unregularised fit. (CLIP's probes swept 1e-6..1e6.)
DEFAULT_CS: tuple[float, ...] = tuple(float(c) for c in np.logspace(-3, 6, 19))

# The C selection's tie rule: validation scores within this much of the best one are ties,
# won by the smallest C. Half a point is below what a validation set can tell apart (one
# item of a 16-item class moves a FERPlus mean class accuracy by 0.8 points) and well inside
# every test interval, so it cannot move a headline by a distinguishable amount.
DEFAULT_SELECT_TOLERANCE = 0.005

# The sweep stops climbing C once this many consecutive Cs (two decades) have all scored
# more than the tie tolerance below the best: the selection could then only change for a
# curve that climbs back by more than it fell. Weakly regularised fits are the slowest,
# and most curves peak well inside the grid.
DEFAULT_SWEEP_PATIENCE = 4

# How the Cs to fit are chosen (see the module doc): "full" climbs the whole grid (every
# value of Cs, up to where sweep_patience stops it); "coarse-fine" climbs every other value
# first, then fits the grid neighbours of its choice and of its best C.
SEARCHES = ("full", "coarse-fine")

# Stopping rule of every fit: largest gradient component of scikit-learn's objective
# C * sum(loss) + 0.5 ||W||^2 (which bounds ||W - W*||, see logistic_solver).
DEFAULT_TOL = 1e-3


@dataclass
class LogisticModel:
    """A fitted multinomial logistic regression over the declared classes."""

    coef: np.ndarray  # (K, D) float32
    intercept: np.ndarray  # (K,) float32; -inf for classes absent from training
    C: float
    n_iter: int
    objective: float  # scikit-learn's scale: C * sum CE + 0.5 ||W||^2, at the returned fit
    grad_max: float = 0.0  # largest gradient component of that objective, at the returned fit
    stop: str = "tol"  # "tol", "precision" (float arithmetic's limit) or "max_iter"

    @property
    def converged(self) -> bool:
        """Whether the fit stopped on the gradient tolerance or at float precision (as
        close to the optimum as the arithmetic allows), not at the iteration limit."""
        return self.stop != "max_iter"

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


def _initial_params(init: LogisticModel | None, present: np.ndarray, dim: int) -> np.ndarray:
    """Flat float64 parameters [W.ravel(), b] for the present classes, from ``init`` if given.

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
    return np.concatenate([W.ravel(), b])


class _Fitter:
    """One training set on its device, fitted at one or more C (sharing L-BFGS memory).

    The solver runs in the principal axes of the rows
    (:mod:`fer_bench.probes.principal_axes`: centred, rotated so the preconditioner is
    diagonal; with clearly fewer rows than dimensions, only their row space, the same
    optimum at a fraction of the cost): starting points are mapped into them and fitted
    weights back. ``axes`` (computed on these rows, on a superset of them or, for a
    rotation, on nearly the same data) stand in for the rows' own when they cover them."""

    def __init__(self, X: torch.Tensor, y: np.ndarray, n_classes: int,
                 axes: PrincipalAxes | None = None):
        self.n_classes = n_classes
        self.n, self.dim = X.shape
        self.present = np.unique(y)
        self.solver = None
        self.axes = None
        if len(self.present) >= 2:
            position = np.searchsorted(self.present, y)
            rows = 1 if len(self.present) == 2 else len(self.present)
            if rows == 1:
                target = torch.as_tensor(position == 1, dtype=X.dtype, device=X.device)
            else:
                target = torch.as_tensor(position, dtype=torch.long, device=X.device)
            Z = None if axes is None else axes.coordinates(X)
            if Z is None:
                axes = principal_axes(X)
                Z = axes.coordinates(X)
            self.axes = axes
            self.solver = LogisticSolver(Z, target, rows, variances=axes.variances,
                                         feature_gradient=axes.feature_gradient)

    def initial(self, init: LogisticModel | None) -> np.ndarray:
        return _initial_params(init, self.present, self.dim)

    def fit(self, C: float, theta0: np.ndarray, tol: float, max_iter: int) -> LogisticModel:
        if not C > 0:
            raise ValueError(f"C must be positive, got {C}")
        if self.solver is None:  # nothing to separate: always predict the one class seen
            coef = np.zeros((self.n_classes, self.dim), dtype=np.float32)
            intercept = np.full(self.n_classes, -np.inf, dtype=np.float32)
            intercept[self.present] = 0.0
            return LogisticModel(coef, intercept, float(C), 0, 0.0)
        X = self.solver.X
        theta = self._to_solver(torch.as_tensor(theta0, dtype=torch.float64, device=X.device))
        theta, f, n_iter, grad_max, stop = self.solver.fit(theta.to(X.dtype), C, tol, max_iter)
        params = self._from_solver(theta.to(torch.float64)).cpu().numpy()
        model = self._model(params, C, n_iter, f * C * self.n)
        model.grad_max, model.stop = grad_max, stop
        return model

    def _to_solver(self, theta: torch.Tensor) -> torch.Tensor:
        """Parameters in the feature coordinates -> the principal axes' (a row space
        drops the part of W outside it, which only adds to the penalty: projecting it
        away is what the fit would do)."""
        rows = self.solver.rows
        V, b = self.axes.to_axes(theta[: rows * self.dim].view(rows, self.dim),
                                 theta[rows * self.dim :])
        return torch.cat([V.ravel(), b])

    def _from_solver(self, theta: torch.Tensor) -> torch.Tensor:
        """The principal axes' parameters -> the feature coordinates."""
        rows, rank = self.solver.rows, self.solver.dim
        W, b = self.axes.from_axes(theta[: rows * rank].view(rows, rank), theta[rows * rank :])
        return torch.cat([W.ravel(), b])

    def _model(self, params: np.ndarray, C: float, n_iter: int, objective: float) -> LogisticModel:
        rows = self.solver.rows
        W = params[: rows * self.dim].reshape(rows, self.dim)
        b = params[rows * self.dim :]
        if rows == 1:  # softmax rows whose difference is the binary log-odds
            W = np.stack([-W[0] / 2, W[0] / 2])
            b = np.array([-b[0] / 2, b[0] / 2])
        coef = np.zeros((self.n_classes, self.dim), dtype=np.float32)
        intercept = np.full(self.n_classes, -np.inf, dtype=np.float32)
        coef[self.present] = W
        intercept[self.present] = b
        return LogisticModel(coef, intercept, float(C), n_iter, objective)


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


@full_fp32()
def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    C: float,
    *,
    init: LogisticModel | None = None,
    device=None,
    tol: float = DEFAULT_TOL,
    max_iter: int = 1000,
    dtype: torch.dtype = torch.float32,
) -> LogisticModel:
    """Fit L2-regularised multinomial logistic regression (scikit-learn's objective).

    ``init`` warm-starts from another fit on the same classes (typically the previous C
    of a sweep). The fit stops when no gradient component of scikit-learn's objective
    ``C * sum CE + 0.5 ||W||^2`` exceeds ``tol`` in absolute value, which bounds the
    distance to the optimum, ``||W - W*||``, by the same amount at every C (see
    :mod:`fer_bench.probes.logistic_solver`), or when float arithmetic cannot lower that
    gradient any more (``stop == "precision"``; weakly regularised float32 fits end there).
    X is used as given: the probe normalises, this function does not.
    """
    Xt = _features(X, device, dtype)
    fitter = _Fitter(Xt, _labels(y, n_classes, len(Xt)), n_classes)
    return fitter.fit(C, fitter.initial(init), tol, max_iter)


@dataclass
class LinearProbeResult:
    best_C: float
    val_curve: dict[float, float]  # C -> validation score (select_metric)
    select_metric: str
    model: LogisticModel  # refit on train + val at best_C
    test_proba: np.ndarray | None  # (N_test, K); None when no test rows were given
    test_pred: np.ndarray | None  # (N_test,)
    path: list[dict] = field(default_factory=list)  # per fit: C, n_iter, objective, grad_max, ...
    select_tolerance: float = DEFAULT_SELECT_TOLERANCE
    grid_edge: str | None = None  # "smallest" / "largest" when best_C is an end of a grid of >= 2
    sweep_models: dict[float, LogisticModel] = field(default_factory=dict)  # train-only fit per C
    grid: tuple[float, float] = (0.0, 0.0)  # smallest and largest C asked for
    stopped_early: bool = False  # the sweep ended before the largest C (see DEFAULT_SWEEP_PATIENCE)
    search: str = "full"  # how the Cs were chosen (SEARCHES); val_curve holds those evaluated
    n_fits: int = 0  # fits run: one per C of val_curve, plus the refit on train + val

    def selection(self) -> dict:
        """How C was chosen, JSON-ready (what a result record keeps of the sweep)."""
        swept = sorted(self.val_curve)
        return {
            "rule": "smallest C whose validation score is within tolerance of the best",
            "metric": self.select_metric,
            "tolerance": self.select_tolerance,
            "best_score": max(self.val_curve.values()),
            "grid": list(self.grid),
            "swept": [swept[0], swept[-1]],
            "stopped_early": self.stopped_early,
            "grid_edge": self.grid_edge,
            "iteration_limit_hit": [e["C"] for e in self.path if e["stop"] == "max_iter"],
            # only off the default, so a full sweep's record reads as before
            **({} if self.search == "full" else {"search": self.search, "fits": self.n_fits}),
        }


def select_C(val_curve: dict[float, float], tolerance: float = DEFAULT_SELECT_TOLERANCE) -> float:
    """The smallest C (the strongest regularisation) whose validation score is at least the
    best score minus ``tolerance``: on a flat curve the choice no longer follows noise."""
    if not val_curve:
        raise ValueError("empty validation curve")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    best = max(val_curve.values())
    return min(c for c, score in val_curve.items() if score >= best - tolerance)


def grid_edge(best_C: float, Cs: Sequence[float]) -> str | None:
    """"smallest" or "largest" when ``best_C`` is that end of a grid of two or more Cs."""
    if len(Cs) < 2:
        return None
    return "smallest" if best_C == min(Cs) else "largest" if best_C == max(Cs) else None


def search_C(
    Cs: Sequence[float],
    score: Callable[[float], float],
    *,
    search: str = "full",
    select_tolerance: float = DEFAULT_SELECT_TOLERANCE,
    sweep_patience: int | None = DEFAULT_SWEEP_PATIENCE,
) -> tuple[dict[float, float], bool]:
    """Which Cs of the grid ``Cs`` to evaluate, ``score(C)`` giving each one's validation
    score (the probe fits there). Returns the validation curve, in the order evaluated, and
    whether the climb stopped before the top of its grid; :func:`select_C` of that curve is
    the choice.

    ``"full"``: every C from small to large, until ``sweep_patience`` consecutive Cs have
    all scored more than ``select_tolerance`` below the best (None: the whole grid).
    ``"coarse-fine"``: the same climb over every other C of the grid (the decades of
    DEFAULT_CS), its patience counted in those steps (half of ``sweep_patience``, rounded
    up: the same two decades); then, for as long as some are new, the grid neighbours of
    the current choice and of the current best C (smallest C of the best score)."""
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; expected one of {SEARCHES}")
    Cs = sorted(float(c) for c in Cs)
    curve: dict[float, float] = {}
    if search == "full":
        return curve, _climb(Cs, score, curve, select_tolerance, sweep_patience)
    patience = math.ceil(sweep_patience / 2) if sweep_patience else None
    stopped_early = _climb(Cs[::2], score, curve, select_tolerance, patience)
    while True:
        best_score = max(curve.values())
        best = min(c for c, s in curve.items() if s == best_score)
        around = {Cs[j] for c in {select_C(curve, select_tolerance), best}
                  for j in (Cs.index(c) - 1, Cs.index(c) + 1) if 0 <= j < len(Cs)}
        new = sorted(around - set(curve))
        if not new:
            return curve, stopped_early
        for C in new:
            curve[C] = score(C)


def _climb(Cs: list[float], score: Callable[[float], float], curve: dict[float, float],
           select_tolerance: float, patience: int | None) -> bool:
    """Score ``Cs`` in order into ``curve`` until ``patience`` consecutive ones have all
    scored more than ``select_tolerance`` below the best; whether it stopped early."""
    for i, C in enumerate(Cs):
        curve[C] = score(C)
        floor = max(curve.values()) - select_tolerance
        recent = [curve[c] for c in Cs[max(0, i + 1 - (patience or 0)) : i + 1]]
        if patience and len(recent) == patience and max(recent) < floor and i + 1 < len(Cs):
            return True
    return False


@full_fp32()
def linear_probe(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    X_test: np.ndarray | None,
    n_classes: int,
    *,
    Cs: Sequence[float] = DEFAULT_CS,
    select_metric: str = "mean_class_accuracy",
    select_tolerance: float = DEFAULT_SELECT_TOLERANCE,
    sweep_patience: int | None = DEFAULT_SWEEP_PATIENCE,
    search: str = "full",
    device=None,
    tol: float = DEFAULT_TOL,
    max_iter: int = 1000,
    axes: PrincipalAxes | None = None,
) -> LinearProbeResult:
    """Sweep C on the validation split, refit on train + val at the chosen C, predict test
    (``X_test`` None: no test predictions; :class:`LinearProbe` predicts later).

    Features are L2-normalised first. ``search`` picks the Cs fitted (:func:`search_C`):
    ``"full"`` sweeps C from small to large until the largest C or until
    ``sweep_patience`` consecutive Cs have all scored more than ``select_tolerance`` below
    the best (None: the whole grid); ``"coarse-fine"`` sweeps every other C that way, then
    the grid neighbours of its choice and of its best. Each fit is warm-started from the
    path (extrapolated past the largest C fitted so far, interpolated between the two
    fitted Cs around it). Selection sees validation labels only (this function never gets
    test labels): the smallest C whose validation score is within ``select_tolerance`` of
    the best (:func:`select_C`); a choice at an end of the grid is flagged in
    ``grid_edge``.

    ``axes``: principal axes of L2-normalised rows that include these (a pool's,
    :meth:`LinearProbe.share_pool`), used by the sweep and the refit instead of their own
    wherever they cover the rows.
    """
    import time

    if select_metric not in METRICS:
        raise ValueError(f"unknown select_metric {select_metric!r}; expected one of {METRICS}")
    if search not in SEARCHES:
        raise ValueError(f"unknown search {search!r}; expected one of {SEARCHES}")
    Cs = sorted(float(c) for c in Cs)
    if not Cs:
        raise ValueError("Cs must hold at least one value")
    train = l2_normalize(X_train)
    val = l2_normalize(X_val)
    test = None if X_test is None else l2_normalize(X_test)
    y_train = _labels(y_train, n_classes, len(train))
    y_val = _labels(y_val, n_classes, len(val))
    dtype = torch.float32

    fitter = _Fitter(_features(train, device, dtype), y_train, n_classes, axes=axes)
    models: dict[float, LogisticModel] = {}
    path: list[dict] = []
    solutions: dict[float, np.ndarray] = {}  # parameters along the path, for the predictor

    def score(C: float) -> float:
        started = time.perf_counter()
        model = fitter.fit(C, _predict_start(fitter, C, solutions), tol, max_iter)
        models[C] = model
        solutions[C] = fitter.initial(model)
        path.append(_path_entry("sweep", model, time.perf_counter() - started))
        return classification_metrics(y_val, model.predict(val), n_classes)[select_metric]

    val_curve, stopped_early = search_C(Cs, score, search=search,
                                        select_tolerance=select_tolerance,
                                        sweep_patience=sweep_patience)
    best_C = select_C(val_curve, select_tolerance)
    started = time.perf_counter()
    # The refit's axes: the pool's, else train's where they are a rotation (exact for
    # any rows; train's variances precondition train + val about as well as its own)
    if axes is None and fitter.axes is not None and fitter.axes.is_rotation:
        axes = fitter.axes
    fitter = None  # free the training tensors before the refit's are made
    refitter = _Fitter(
        _features(np.concatenate([train, val]), device, dtype),
        np.concatenate([y_train, y_val]),
        n_classes,
        axes=axes,
    )
    final = refitter.fit(best_C, refitter.initial(models[best_C]), tol, max_iter)
    path.append(_path_entry("refit", final, time.perf_counter() - started))
    return LinearProbeResult(
        best_C=best_C,
        val_curve=val_curve,
        select_metric=select_metric,
        model=final,
        test_proba=None if test is None else final.predict_proba(test),
        test_pred=None if test is None else final.predict(test),
        path=path,
        select_tolerance=select_tolerance,
        grid_edge=grid_edge(best_C, Cs),
        sweep_models=models,
        grid=(Cs[0], Cs[-1]),
        stopped_early=stopped_early,
        search=search,
        n_fits=len(path),
    )


def _predict_start(fitter: _Fitter, C: float, solutions: dict[float, np.ndarray]) -> np.ndarray:
    """Starting point for a fit at ``C`` from the solutions fitted so far: the solution path
    is smooth in log C, so past the largest C fitted, extrapolate linearly from the two
    largest (the largest alone while there is one); between two fitted Cs, interpolate
    linearly between them; below every fitted C, start from the nearest."""
    if not solutions:
        return fitter.initial(None)
    below = sorted(c for c in solutions if c < C)
    above = sorted(c for c in solutions if c > C)
    if below and above:
        lo, hi = below[-1], above[0]
        weight = math.log(C / lo) / math.log(hi / lo)
        return solutions[lo] + weight * (solutions[hi] - solutions[lo])
    if not below:
        return solutions[above[0]]
    if len(below) == 1:
        return solutions[below[-1]]
    last, before = below[-1], below[-2]
    ratio = math.log(C / last) / math.log(last / before)
    return solutions[last] + ratio * (solutions[last] - solutions[before])


def _path_entry(stage: str, model: LogisticModel, seconds: float) -> dict:
    return {
        "stage": stage,
        "C": model.C,
        "n_iter": model.n_iter,
        "objective": model.objective,
        "grad_max": model.grad_max,
        "stop": model.stop,
        "seconds": round(seconds, 4),
    }


def support_cv_C(X: np.ndarray, y: np.ndarray, n_classes: int, Cs: Sequence[float],
                 folds: int, seed: int, device=None) -> tuple[float, dict[float, float]]:
    """C by mean-class-accuracy over stratified folds of the training rows themselves
    (a few-shot support has no validation split), with the probe's tie rule (the smallest
    C within 0.005 of the best, :func:`select_C`); ``X`` already L2-normalised."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = {float(C): [] for C in Cs}
    for train, val in splitter.split(X, y):
        for C, fold_scores in scores.items():
            model = fit_logistic(X[train], y[train], n_classes, C, device=device)
            m = classification_metrics(y[val], model.predict(X[val]), n_classes)
            fold_scores.append(m["mean_class_accuracy"])
    curve = {C: float(np.mean(v)) for C, v in scores.items()}
    return select_C(curve), curve


@register_probe
@dataclass
class LinearProbe(Probe):
    """``linear``: :func:`linear_probe` as a probe object. C is swept on the validation
    rows given to :meth:`fit` (else on a seeded stratified ``val_fraction`` of the
    training rows), the model refit on train + validation at the chosen C."""

    name = "linear"
    uses_validation = True
    selected = ("C",)
    fit_dependent = ("C",)

    Cs: tuple[float, ...] = DEFAULT_CS
    select_metric: str = "mean_class_accuracy"   # what the C sweep maximises on validation
    val_fraction: float = DEFAULT_VAL_FRACTION   # carved from train when no validation given
    search: str = "full"                         # which Cs are fitted (SEARCHES, search_C)
    device: Any = None
    result: LinearProbeResult | None = field(default=None, init=False, repr=False)
    pool_axes: PrincipalAxes | None = field(default=None, init=False, repr=False)

    def share_pool(self, X) -> PrincipalAxes:
        """The principal axes of the pool's L2-normalised rows: fits on its subsets skip
        computing their own (a QR and an eigendecomposition of their size each)."""
        return principal_axes(_features(l2_normalize(X), self.device, torch.float32))

    def use_pool(self, shared: PrincipalAxes | None) -> LinearProbe:
        self.pool_axes = shared
        return self

    def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0) -> LinearProbe:
        if X_val is None:
            X, y = np.asarray(X), np.asarray(y)
            train, val = stratified_val_split(y, self.val_fraction, seed)
            if len(val) == 0:
                raise ValueError(f"{len(y)} training rows are too few to carve a validation "
                                 "part")
            X, y, X_val, y_val = X[train], y[train], X[val], y[val]
        self.result = linear_probe(X, y, X_val, y_val, None, n_classes, Cs=self.Cs,
                                   select_metric=self.select_metric, search=self.search,
                                   device=self.device, axes=self.pool_axes)
        return self

    def scores(self, X) -> np.ndarray:
        return self._require_fitted("result").model.predict_proba(l2_normalize(X))

    def predict(self, X) -> np.ndarray:
        return self._require_fitted("result").model.predict(l2_normalize(X))

    def hyperparameters(self) -> dict:
        return {"C": self._require_fitted("result").best_C}

    def fit_details(self) -> dict:
        """The validation curve that chose C, and how (tie rule, a choice at an end of the
        grid, fits that hit the iteration limit)."""
        result = self._require_fitted("result")
        return {"val_curve": [[c, s] for c, s in sorted(result.val_curve.items())],
                "selection": result.selection()}

    def fit_summary(self) -> dict:
        return {"C_grid_edge": self._require_fitted("result").grid_edge}

    def fitted_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The refit model and the sweep's account (not the train-only models per C)."""
        result = self._require_fitted("result")
        model = result.model
        arrays = {"coef": model.coef, "intercept": model.intercept}
        meta = {
            "best_C": result.best_C, "val_curve": [[c, v] for c, v in result.val_curve.items()],
            "select_metric": result.select_metric, "path": result.path,
            "select_tolerance": result.select_tolerance, "grid_edge": result.grid_edge,
            "grid": list(result.grid), "stopped_early": result.stopped_early,
            "search": result.search, "n_fits": result.n_fits,
            "model": {"C": model.C, "n_iter": model.n_iter, "objective": model.objective,
                      "grad_max": model.grad_max, "stop": model.stop},
        }
        return arrays, meta

    def restore_fitted_state(self, arrays: dict[str, np.ndarray], meta: dict) -> LinearProbe:
        model = LogisticModel(np.asarray(arrays["coef"], dtype=np.float32),
                              np.asarray(arrays["intercept"], dtype=np.float32),
                              **meta["model"])
        self.result = LinearProbeResult(
            best_C=meta["best_C"], val_curve={c: v for c, v in meta["val_curve"]},
            select_metric=meta["select_metric"], model=model, test_proba=None,
            test_pred=None, path=meta["path"], select_tolerance=meta["select_tolerance"],
            grid_edge=meta["grid_edge"], grid=tuple(meta["grid"]),
            stopped_early=meta["stopped_early"], search=meta["search"],
            n_fits=meta["n_fits"])
        return self

    @classmethod
    def summarize(cls, summaries: list[dict]) -> dict:
        """The ends of the C grid chosen by any fit ("smallest", "largest"): there the best
        C may lie outside the grid. Empty when every choice is inside it."""
        return {"C_at_grid_edge": sorted({s["C_grid_edge"] for s in summaries} - {None})}


@register_probe
@dataclass
class SupportLinearProbe(Probe):
    """``support-linear``: logistic regression fitted on the training rows alone, with no
    validation split (few-shot supports): at a fixed ``C`` (scikit-learn's default 1.0),
    or, with ``Cs`` given, at the C chosen by stratified cross-validation on the training
    rows (:func:`support_cv_C`, at most ``cv_folds`` folds, one row per class per fold at
    least; with fewer than two rows in some class the fixed C is kept)."""

    name = "support-linear"
    fit_dependent = ("C",)

    C: float = 1.0
    Cs: tuple[float, ...] = ()
    cv_folds: int = 5
    device: Any = None
    model: LogisticModel | None = field(default=None, init=False, repr=False)
    chosen_C: float | None = field(default=None, init=False, repr=False)
    details: dict = field(default_factory=dict, init=False, repr=False)

    def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0) -> SupportLinearProbe:
        X, y = l2_normalize(X), np.asarray(y)
        C, details = self.C, {}
        if self.Cs:
            smallest = int(np.bincount(y)[np.unique(y)].min())
            folds = min(self.cv_folds, smallest)
            if folds >= 2:
                C, curve = support_cv_C(X, y, n_classes, self.Cs, folds, seed, self.device)
                details["cv_curve"] = [[c, s] for c, s in sorted(curve.items())]
            else:
                details["cv"] = f"skipped: {smallest} row(s) in the smallest support class"
        self.model = fit_logistic(X, y, n_classes, C, device=self.device)
        self.chosen_C, self.details = C, details
        return self

    def scores(self, X) -> np.ndarray:
        return self._require_fitted("model").predict_proba(l2_normalize(X))

    def predict(self, X) -> np.ndarray:
        return self._require_fitted("model").predict(l2_normalize(X))

    def hyperparameters(self) -> dict:
        self._require_fitted("model")
        return {"C": self.chosen_C}

    def fit_details(self) -> dict:
        return dict(self.details)
