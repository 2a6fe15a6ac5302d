"""Ridge probe for continuous targets (AU intensity, valence, arousal, head pose), one
penalty per target chosen on validation rows.

Each target is a ridge regression on standardised features (mean 0, variance 1 on the
training rows, :class:`fer_bench.probes.normalize.Standardizer`) with a free intercept,
scikit-learn's ``Ridge`` objective ``||y - X w - b||^2 + alpha ||w||^2`` over the rows
coded for it (tested against scikit-learn). Penalties are given per training row
(``alpha = r * n``), so one grid of ``r`` suits a lab set of hundreds and a video set of
tens of thousands of rows. All penalties of the grid come from one
eigendecomposition of the centred Gram matrix per set of coded rows (targets coded on the
same rows share it), so the sweep costs about one fit.

Selection: per target, the alpha with the lowest validation mean squared error (the
objective the ridge itself minimises; CCC and ICC are then read off the test rows), ties
to the larger alpha. With ``select="f1"`` the probe is a ridge classifier of 0/1 targets
(least squares on the labels, scikit-learn's ``RidgeClassifier`` per target), its penalty
the largest whose validation F1 (at its best threshold) is within ``select_tolerance`` of
the best: the
action-unit occurrence probe, where one decomposition serves every AU and every penalty.
No refit on train + validation, so a record's probes are all fitted on the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer_bench.probes.normalize import Standardizer
from fer_bench.target_metrics import best_f1_threshold

# Penalties per training row, half-decades. Standardised features put the Gram
# eigenvalues' mean at n (each feature has variance 1), so r = 1e-5 is nearly unpenalised
# and r = 1e3 shrinks every direction of a wide feature set to the mean.
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-5, 3, 17))


class RidgeBasis:
    """One eigendecomposition of a training set's centred Gram matrix, from which the
    ridge fits of any targets at any penalties follow in a few matrix products."""

    def __init__(self, X: np.ndarray):
        X = np.asarray(X, dtype=np.float64)
        self.x_mean = X.mean(axis=0)
        self.Xc = X - self.x_mean
        # D x D Gram when rows outnumber dims, else the n x n one (the dual form)
        self.primal = self.Xc.shape[0] >= self.Xc.shape[1]
        gram = self.Xc.T @ self.Xc if self.primal else self.Xc @ self.Xc.T
        eigvals, self.vectors = np.linalg.eigh(gram)
        self.eigvals = np.maximum(eigvals, 0)

    def path(self, Y: np.ndarray, alphas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Weights (A, D, T) and intercepts (A, T) of the ridge fits of targets ``Y``
        (n, T), one per alpha."""
        Y = np.asarray(Y, dtype=np.float64)
        y_mean = Y.mean(axis=0)
        Yc = Y - y_mean
        V = self.vectors
        projected = V.T @ (self.Xc.T @ Yc) if self.primal else V.T @ Yc
        weights = []
        for a in alphas:
            scaled = projected / (self.eigvals + a)[:, None]
            weights.append(V @ scaled if self.primal else self.Xc.T @ (V @ scaled))
        W = np.stack(weights)
        return W, y_mean - np.einsum("d,adt->at", self.x_mean, W)


def ridge_path(X: np.ndarray, y: np.ndarray, alphas: tuple[float, ...]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Weights (A, D) and intercepts (A,) of ridge fits of ``y`` (n,) on ``X`` (n, D), one
    per alpha, from one eigendecomposition (float64)."""
    W, b = RidgeBasis(X).path(np.asarray(y, dtype=np.float64)[:, None], alphas)
    return W[:, :, 0], b[:, 0]


def _select_mse(curve: dict[float, float], tolerance: float) -> float:
    """The lowest validation error, ties to the larger alpha."""
    return max(curve, key=lambda a: (-curve[a], a))


def _select_f1(curve: dict[float, float], tolerance: float) -> float:
    """The largest alpha (strongest regularisation) whose validation F1 is within
    ``tolerance`` of the best: the linear probe's tie rule, read for penalties."""
    best = max(curve.values())
    return max(a for a, v in curve.items() if v >= best - tolerance)


# How a target's penalty is chosen on validation rows: regression targets by squared
# error, occurrence targets (0/1, a ridge classifier) by F1 at each penalty's best
# threshold.
SELECTIONS = {"mse": _select_mse, "f1": _select_f1}


@dataclass
class RidgeProbe:
    """Per-target ridge regressions (see the module doc). ``select="f1"`` makes it a
    ridge classifier of 0/1 targets, its penalty chosen by validation F1."""
    alphas: tuple[float, ...] = DEFAULT_ALPHAS   # per training row
    select: str = "mse"
    select_tolerance: float = 0.005
    chosen_alpha: np.ndarray | None = None       # (T,) per row, NaN where a target had no rows
    val_curves: list[dict[float, float]] = field(default_factory=list)  # alpha -> val score
    unfit: tuple[int, ...] = ()
    _W: np.ndarray | None = None
    _b: np.ndarray | None = None
    _scaler: Standardizer | None = None

    def fit(self, X: np.ndarray, Y: np.ndarray, X_val: np.ndarray, Y_val: np.ndarray,
            bases: dict | None = None) -> RidgeProbe:
        """Fit on (X, Y), choose on (X_val, Y_val); ``bases``: a dict to share the
        decompositions with other probes fitted on the same X (keyed by coded rows)."""
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {sorted(SELECTIONS)}, got {self.select!r}")
        self._scaler = Standardizer.fit(X)
        X, X_val = self._scaler(X), self._scaler(X_val)
        Y, Y_val = np.asarray(Y, np.float64), np.asarray(Y_val, np.float64)
        n_targets = Y.shape[1]
        self._W, self._b = np.zeros((X.shape[1], n_targets)), np.zeros(n_targets)
        self.chosen_alpha = np.full(n_targets, np.nan)
        self.val_curves = [{} for _ in range(n_targets)]
        coded = ~np.isnan(Y)
        fittable = [j for j in range(n_targets) if self._fittable(Y[coded[:, j], j],
                                                                  Y_val[:, j])]
        self.unfit = tuple(j for j in range(n_targets) if j not in fittable)
        # targets coded on the same rows share one decomposition
        bases = {} if bases is None else bases
        groups: dict[bytes, list[int]] = {}
        for j in fittable:
            groups.setdefault(np.packbits(coded[:, j]).tobytes(), []).append(j)
        for key, columns in groups.items():
            rows = coded[:, columns[0]]
            if key not in bases:
                bases[key] = RidgeBasis(X[rows])
            penalties = tuple(a * int(rows.sum()) for a in self.alphas)
            W, b = bases[key].path(Y[rows][:, columns], penalties)
            for k, j in enumerate(columns):
                self._choose(j, W[:, :, k], b[:, k], X_val, Y_val[:, j])
        return self

    def _fittable(self, y: np.ndarray, y_val: np.ndarray) -> bool:
        y_val = y_val[~np.isnan(y_val)]
        if self.select == "f1":     # both classes on both sides, or nothing to rank
            return len(set(y)) == 2 and len(set(y_val)) == 2
        return len(y) >= 2 and len(y_val) >= 1

    def _choose(self, j: int, W: np.ndarray, b: np.ndarray, X_val: np.ndarray,
                y_val: np.ndarray) -> None:
        rows = ~np.isnan(y_val)
        pred = X_val[rows] @ W.T + b                                   # (n_val, A)
        if self.select == "f1":
            scores = [best_f1_threshold(y_val[rows], pred[:, i])[1] for i in range(len(W))]
        else:
            scores = ((pred - y_val[rows][:, None]) ** 2).mean(axis=0)
        self.val_curves[j] = {a: float(v) for a, v in zip(self.alphas, scores)}
        alpha = SELECTIONS[self.select](self.val_curves[j], self.select_tolerance)
        best = self.alphas.index(alpha)
        self.chosen_alpha[j] = alpha
        self._W[:, j], self._b[j] = W[best], b[best]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """(n, T) predictions (for a ridge classifier: decision values); unfit targets'
        columns are NaN."""
        out = self._scaler(X) @ self._W + self._b
        out[:, list(self.unfit)] = np.nan
        return out

    predict = decision_function
