"""Multi-label linear probes of action-unit occurrence: one binary linear model per AU,
each with its own regularisation and decision threshold chosen on validation rows.

Two models, the same selection (:class:`OccurrenceProbe`):

- ``ridge`` (the default): a ridge classifier per AU (least squares on the 0/1 codes,
  :class:`fer_bench.probes.ridge.RidgeProbe` with ``select="f1"``). One eigendecomposition
  of the training features serves every AU and every penalty, so a record costs about one
  fit whatever the number of AUs;
- ``logistic``: scikit-learn's binary logistic regression per AU (this module's
  :class:`MultiLabelLogisticProbe`), the textbook probe, at one L-BFGS sweep per AU.

Why one binary model per AU rather than one shared model: AUs co-occur but are coded
independently, and their base rates differ by an order of magnitude (AU12 on most happy
faces, AU9 on a few disgusted ones), so each gets its own regularisation and its own
threshold; a shared threshold would trade the rare AUs' F1 away for the common ones'.
Each AU is fitted with the linear probe's solver (:func:`fer_bench.probes.linear.fit_logistic`:
scikit-learn's objective, L-BFGS warm-started along the C path).

Each model minimises scikit-learn's binary ``LogisticRegression`` objective on
standardised features (as the ridge probes: :class:`fer_bench.probes.normalize.Standardizer`;
L2 penalty on the weights, intercept free)::

    C * sum_i BCE(w . x_i + b, y_i) + 0.5 * ||w||^2

over the rows coded for that AU (uncoded rows, NaN, are left out), tested against
scikit-learn. Selection, on the validation rows only:

- C: per AU, the smallest C whose validation F1 (each C at its own best threshold) is
  within ``select_tolerance`` of the best: F1 is the score the record reports, and a
  threshold-free criterion (ROC AUC) picked over-regularised models whose ranking was
  right overall but loose around the threshold (on the generated faces' own AU values,
  mean F1 0.93 by AUC against 0.99 by F1);
- threshold: per AU, the decision value that maximises validation F1 for that C (midway
  between two consecutive validation scores; ties go to the higher threshold).

There is no refit on train + validation: the threshold belongs to the model it was chosen
on. An AU with a single class among its coded training rows cannot be fitted: it is left
out (``unfit``) and the protocol reports it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from fer_bench.probes.linear import LogisticModel, fit_logistic
from fer_bench.probes.normalize import Standardizer
from fer_bench.probes.ridge import DEFAULT_ALPHAS, RidgeProbe
from fer_bench.target_metrics import best_f1_threshold

# Decades: a per-AU sweep over 20 AUs costs 20x a multiclass one on the half-decade grid.
# On standardised features the per-row penalty ||w||^2 / (2 C n) is already strong at
# C = 1e-4 and negligible at 1e3.
DEFAULT_AU_CS: tuple[float, ...] = tuple(float(c) for c in np.logspace(-4, 3, 8))
DEFAULT_F1_TOLERANCE = 0.005


def fit_binary_logistic(X: np.ndarray, y: np.ndarray, C: float,
                        init: LogisticModel | None = None,
                        dtype: torch.dtype = torch.float32) -> LogisticModel:
    """scikit-learn's binary logistic regression of 0/1 labels ``y`` on ``X`` (used as
    given) at ``C``; ``init`` warm-starts (the previous C of a sweep)."""
    return fit_logistic(X, np.asarray(y, dtype=np.int64), 2, C, init=init, dtype=dtype)


def log_odds(model: LogisticModel, X: np.ndarray) -> np.ndarray:
    """The binary model's decision value (log-odds of the positive class)."""
    w = model.coef[1].astype(np.float64) - model.coef[0]
    return np.asarray(X, dtype=np.float64) @ w + (float(model.intercept[1]) - model.intercept[0])


@dataclass
class MultiLabelLogisticProbe:
    """Per-target binary logistic probes (see the module doc)."""
    Cs: tuple[float, ...] = DEFAULT_AU_CS
    select_tolerance: float = DEFAULT_F1_TOLERANCE
    chosen_C: np.ndarray | None = None          # (T,), NaN for unfit targets
    thresholds: np.ndarray | None = None        # (T,)
    unfit: tuple[int, ...] = ()                 # targets with one class in training
    val_curves: list[dict[float, float]] = field(default_factory=list)
    _W: np.ndarray | None = None
    _b: np.ndarray | None = None
    _scaler: Standardizer | None = None

    @property
    def chosen(self) -> np.ndarray:
        return self.chosen_C

    def fit(self, X: np.ndarray, Y: np.ndarray, X_val: np.ndarray, Y_val: np.ndarray,
            bases: dict | None = None) -> MultiLabelLogisticProbe:
        self._scaler = Standardizer.fit(X)
        X, X_val = self._scaler(X).astype(np.float32), self._scaler(X_val)
        Y, Y_val = np.asarray(Y, np.float64), np.asarray(Y_val, np.float64)
        n_targets = Y.shape[1]
        ok = np.array([_two_classes(Y[:, j]) and _two_classes(Y_val[:, j])
                       for j in range(n_targets)])
        self.unfit = tuple(int(j) for j in np.flatnonzero(~ok))
        fit_cols = np.flatnonzero(ok)
        self._W = np.zeros((X.shape[1], n_targets))
        self._b = np.zeros(n_targets)
        self.chosen_C = np.full(n_targets, np.nan)
        self.thresholds = np.full(n_targets, np.nan)
        self.val_curves = [{} for _ in range(n_targets)]
        if len(fit_cols) == 0:
            return self
        for j in fit_cols:
            coded, val_coded = ~np.isnan(Y[:, j]), ~np.isnan(Y_val[:, j])
            models, init = {}, None
            cuts = {}
            for C in self.Cs:
                init = models[C] = fit_binary_logistic(X[coded], Y[coded, j], C, init)
                cuts[C], self.val_curves[j][C] = best_f1_threshold(
                    Y_val[val_coded, j], log_odds(init, X_val[val_coded]))
            curve = self.val_curves[j]
            best = max(curve.values())
            C = min(c for c, v in curve.items() if v >= best - self.select_tolerance)
            model = models[C]
            self.chosen_C[j], self.thresholds[j] = C, cuts[C]
            self._W[:, j] = model.coef[1].astype(np.float64) - model.coef[0]
            self._b[j] = float(model.intercept[1]) - model.intercept[0]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """(n, T) decision values (log-odds); unfit targets' columns are NaN."""
        scores = self._scaler(X) @ self._W + self._b
        scores[:, list(self.unfit)] = np.nan
        return scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n, T) 0/1 predictions at the chosen thresholds (NaN for unfit targets)."""
        scores = self.decision_function(X)
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(scores), np.nan, scores > self.thresholds)


def _two_classes(y: np.ndarray) -> bool:
    coded = y[~np.isnan(y)]
    return bool(len(coded) and coded.min() == 0 and coded.max() == 1)


@dataclass
class RidgeOccurrenceProbe:
    """Per-AU ridge classifiers: penalty by validation F1 at its best threshold (the
    largest within the tolerance of the best), threshold by validation F1, as the
    logistic probe."""
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    select_tolerance: float = DEFAULT_F1_TOLERANCE
    thresholds: np.ndarray | None = None
    ridge: RidgeProbe | None = None

    @property
    def unfit(self) -> tuple[int, ...]:
        return self.ridge.unfit

    @property
    def chosen(self) -> np.ndarray:
        return self.ridge.chosen_alpha

    def fit(self, X: np.ndarray, Y: np.ndarray, X_val: np.ndarray, Y_val: np.ndarray,
            bases: dict | None = None) -> RidgeOccurrenceProbe:
        Y_val = np.asarray(Y_val, np.float64)
        self.ridge = RidgeProbe(self.alphas, select="f1",
                                select_tolerance=self.select_tolerance).fit(X, Y, X_val, Y_val,
                                                                            bases)
        val = self.ridge.decision_function(X_val)
        self.thresholds = np.full(Y_val.shape[1], np.nan)
        for j in range(Y_val.shape[1]):
            coded = ~np.isnan(Y_val[:, j])
            if j not in self.ridge.unfit:
                self.thresholds[j] = best_f1_threshold(Y_val[coded, j], val[coded, j])[0]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.ridge.decision_function(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(scores), np.nan, scores > self.thresholds)


# The occurrence probes a protocol can name, and what each calls its regularisation.
OCCURRENCE_PROBES = {"ridge": RidgeOccurrenceProbe, "logistic": MultiLabelLogisticProbe}
