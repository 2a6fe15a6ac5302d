"""Scores of per-target predictions: action-unit occurrence (binary) and continuous targets
(AU intensity, valence, arousal, head pose), each with bootstrap intervals.

Every function takes optional row ``weights``: one vector (n,) or a batch (B, n) of
non-negative counts; a bootstrap resample *is* a weight vector (how many times each test
row was drawn), so a thousand resamples are scored as one (B, n) array. Without weights
every row counts once and the result is a float.

Definitions (the field's, and tested against scikit-learn or the written-out formula):

- ``f1``: binary F1 of the positive class, ``2 TP / (2 TP + FP + FN)``; 0 when there is
  no positive in truth or prediction (scikit-learn's ``zero_division=0``).
- ``auc``: area under the ROC curve of a real-valued score (ties count one half), as
  ``sklearn.metrics.roc_auc_score``; NaN when one class is absent.
- ``ccc``: Lin's concordance correlation coefficient,
  ``2 s_ab / (s_a^2 + s_b^2 + (mean_a - mean_b)^2)`` with population moments: agreement,
  so a biased or mis-scaled prediction loses even when it correlates.
- ``icc``: ICC(3,1), two-way mixed, consistency, single rater, between truth and
  prediction (Shrout & Fleiss 1979): ``(BMS - EMS) / (BMS + (k - 1) EMS)`` with k = 2
  raters, which reduces to ``2 s_ab / (s_a^2 + s_b^2)``: like CCC without the mean-shift
  term (a constant offset costs nothing, a scale error does).
- ``pearson_r``: Pearson correlation; 0 where either side is constant (no linear
  association can be measured: a probe that predicts one value found nothing).
- ``rmse``, ``mae``: root mean squared and mean absolute error, in the target's units.
"""
from __future__ import annotations

import numpy as np

# What each score measures, for tables: a fraction shown in percent, an agreement or
# correlation coefficient shown as is, or an error (lower is better) in target units.
FRACTION, COEFFICIENT, ERROR = "fraction", "coefficient", "error"
SCORE_KIND = {"f1": FRACTION, "auc": FRACTION, "icc": COEFFICIENT, "ccc": COEFFICIENT,
              "pearson_r": COEFFICIENT, "rmse": ERROR, "mae": ERROR}
BINARY_SCORES = ("f1", "auc")
# Record metrics that get a leaderboard table of their own beside their record's headline
# (the AU intensity score next to the occurrence headline).
TABLE_METRICS = ("mean_icc",)
CONTINUOUS_SCORES = ("ccc", "icc", "pearson_r", "rmse", "mae")

# Working memory for one block of bootstrap resamples.
_BOOTSTRAP_MEMORY_BYTES = 64 * 2**20


def metric_kind(metric: str) -> str:
    """What a record metric measures (:data:`SCORE_KIND` of its per-target score, e.g.
    ``mean_ccc`` -> coefficient); the expression metrics are fractions."""
    return SCORE_KIND.get(metric.removeprefix("mean_"), FRACTION)


def format_score(metric: str, value: float) -> str:
    """A score as tables print it: fractions in percent with one decimal (``71.2``),
    coefficients and errors with two (``0.63``)."""
    if value != value:          # NaN
        return "-"
    if metric_kind(metric) == FRACTION:
        return f"{100 * value:.1f}"
    return f"{value:.2f}"


def _weights(weights, n: int) -> tuple[np.ndarray, bool]:
    """(B, n) float weights and whether the caller gave a batch."""
    if weights is None:
        return np.ones((1, n)), False
    w = np.asarray(weights, dtype=np.float64)
    if w.shape[-1] != n:
        raise ValueError(f"weights cover {w.shape[-1]} rows, expected {n}")
    if (w < 0).any():
        raise ValueError("weights must be non-negative counts")
    return (w[None, :], False) if w.ndim == 1 else (w, True)


def _out(values: np.ndarray, batched: bool):
    return values if batched else float(values[0])


def _binary(y, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {y.shape}")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"{what} must hold 0/1 or booleans")
        y = y.astype(bool)
    return y


def f1(y_true, y_pred, weights=None):
    """Binary F1 of the positive class (see the module doc)."""
    t, p = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in length")
    w, batched = _weights(weights, len(t))
    tp = w @ (t & p)
    fp = w @ (~t & p)
    fn = w @ (t & ~p)
    denominator = 2 * tp + fp + fn
    return _out(np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1),
                         0.0), batched)


def auc(y_true, score, weights=None):
    """ROC AUC of ``score`` for the positive class, ties one half (see the module doc)."""
    t = _binary(y_true, "y_true")
    s = np.asarray(score, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"y_true {t.shape} and score {s.shape} differ in length")
    w, batched = _weights(weights, len(t))
    order = np.argsort(s, kind="stable")
    s, t, w = s[order], t[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])     # groups of tied scores
    pos = np.add.reduceat(w * t, starts, axis=1)
    neg = np.add.reduceat(w * ~t, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg                          # negatives scored lower
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    area = (pos * (below + 0.5 * neg)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(np.where((n_pos > 0) & (n_neg > 0), area / (n_pos * n_neg), np.nan),
                    batched)


def best_f1_threshold(y_true, score) -> tuple[float, float]:
    """(threshold, F1): the cut on ``score`` (positive when score > threshold) with the best
    F1 on (``y_true``, ``score``), midway between two consecutive scores; ties go to the
    highest threshold. With no positive at all: above every score, F1 0."""
    y = _binary(y_true, "y_true")
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    cut = np.flatnonzero(np.r_[s[1:] != s[:-1], True])      # last row of each tie group
    tp = np.cumsum(t)[cut]
    f1s = 2 * tp / (cut + 1 + t.sum())
    if not len(s) or f1s.max() <= 0:
        return (float(s[0]) if len(s) else 0.0), 0.0
    best = int(np.argmax(f1s))                               # first = highest threshold
    below = s[cut[best] + 1] if cut[best] + 1 < len(s) else s[cut[best]] - 1.0
    return float((s[cut[best]] + below) / 2), float(f1s[best])


def continuous_scores(y_true, y_pred, weights=None) -> dict:
    """``ccc``, ``icc``, ``pearson_r``, ``rmse`` and ``mae`` of one continuous target."""
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"y_true {a.shape} and y_pred {b.shape} must be 1-D of equal length")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("continuous scores need finite values (drop uncoded rows first)")
    w, batched = _weights(weights, len(a))
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a, mean_b = (w @ a) / total, (w @ b) / total
        da, db = a[None, :] - mean_a[:, None], b[None, :] - mean_b[:, None]
        var_a, var_b = (w * da * da).sum(axis=1) / total, (w * db * db).sum(axis=1) / total
        cov = (w * da * db).sum(axis=1) / total
        both = var_a * var_b > 0
        spread = var_a + var_b
        scores = {
            "ccc": np.where(spread + (mean_a - mean_b) ** 2 > 0,
                            2 * cov / (spread + (mean_a - mean_b) ** 2), np.nan),
            "icc": np.where(spread > 0, 2 * cov / spread, np.nan),
            "pearson_r": np.where(both, cov / np.sqrt(np.where(both, var_a * var_b, 1)), 0.0),
            "rmse": np.sqrt((w @ (a - b) ** 2) / total),
            "mae": (w @ np.abs(a - b)) / total,
        }
    return {name: _out(v, batched) for name, v in scores.items()}


def resample_weights(n: int, n_boot: int, seed: int) -> list[np.ndarray]:
    """``n_boot`` bootstrap resamples of ``n`` rows as (b, n) count arrays, in blocks sized
    from a fixed memory budget (the same draws whatever the block size: one generator)."""
    rng = np.random.default_rng(seed)
    block = max(1, min(n_boot, _BOOTSTRAP_MEMORY_BYTES // max(1, 24 * n)))
    out = []
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        picks = rng.integers(0, n, size=(b, n))
        offsets = (np.arange(b) * n)[:, None]
        out.append(np.bincount((picks + offsets).ravel(), minlength=b * n)
                   .reshape(b, n).astype(np.float64))
    return out


def interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    """Percentile interval of bootstrap ``values`` (NaNs, from resamples that lost a class,
    left out)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
