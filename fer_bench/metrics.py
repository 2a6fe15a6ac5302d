"""Classification metrics, bootstrap intervals and seed summaries.

Every score is computed from a confusion matrix (rows = true class, columns = predicted
class), batched so that a thousand bootstrap resamples cost one ``np.bincount``. The class
count always comes from the declared label set (``n_classes``), never from the labels that
happen to occur, so a class missing from a small test fold still has its row and column.

Conventions (identical to scikit-learn's, and tested against it):

- ``mean_class_accuracy`` (balanced accuracy) averages recall over the classes present
  in ``y_true``; a class with no test sample has no recall and is left out, as in
  ``sklearn.metrics.balanced_accuracy_score``.
- ``macro_f1`` averages F1 over the classes present in ``y_true`` or ``y_pred`` (what
  ``sklearn.metrics.f1_score(average="macro")`` does without ``labels=``); a class that is
  predicted but absent from the truth scores F1 = 0.
- ``per_class_recall`` has one entry per declared class, NaN where the class has no
  test sample.

Intervals (:func:`bootstrap_interval`) resample the whole test set for accuracy and
within each true class for the class-averaged metrics, so no resample loses a class.
"""

from __future__ import annotations

import math

import numpy as np

# Every score a record holds, the headline first (the one list: records, tables, CLI).
METRICS = ("mean_class_accuracy", "accuracy", "macro_f1")
HEADLINE_METRIC = METRICS[0]
# Metrics that average over classes: their bootstrap resamples within each true class.
CLASS_AVERAGED = ("mean_class_accuracy", "macro_f1")

# Working memory for one block of bootstrap resamples (index array + codes).
_BOOTSTRAP_MEMORY_BYTES = 64 * 2**20


def _check_labels(y_true, y_pred, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}"
        )
    if len(y_true) == 0:
        raise ValueError("no predictions to score (empty y_true)")
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class indices, got dtype {y.dtype}")
        if y.min() < 0 or y.max() >= n_classes:
            raise ValueError(
                f"{name} has class indices outside [0, {n_classes}): "
                f"min {int(y.min())}, max {int(y.max())}"
            )
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def confusion_counts(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(K, K) int64 confusion matrix: ``[i, j]`` counts samples of class i predicted as j."""
    y_true, y_pred = _check_labels(y_true, y_pred, n_classes)
    codes = y_true * n_classes + y_pred
    return np.bincount(codes, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def scores_from_confusion(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, mean class accuracy and macro-F1 of one (K, K) or a batch (B, K, K) of
    confusion matrices; each value has the batch shape."""
    cm = np.asarray(confusion, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)  # true count per class
    predicted = cm.sum(axis=-2)
    total = support.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, tp / support, np.nan)
        present = support > 0
        mca = np.nansum(recall, axis=-1) / present.sum(axis=-1)
        f1_denominator = support + predicted  # = 2 tp + fp + fn
        f1_classes = f1_denominator > 0
        f1 = np.where(f1_classes, 2 * tp / np.where(f1_classes, f1_denominator, 1), 0.0)
        macro_f1 = f1.sum(axis=-1) / f1_classes.sum(axis=-1)
    return {
        "accuracy": tp.sum(axis=-1) / total,
        "mean_class_accuracy": mca,
        "macro_f1": macro_f1,
        "recall": recall,
    }


def classification_metrics(y_true, y_pred, n_classes: int) -> dict:
    """Accuracy, mean class accuracy, macro-F1, per-class recall and the confusion matrix
    (all JSON-ready: floats and lists) of integer predictions over ``n_classes`` classes."""
    cm = confusion_counts(y_true, y_pred, n_classes)
    scores = scores_from_confusion(cm)
    return {
        "accuracy": float(scores["accuracy"]),
        "mean_class_accuracy": float(scores["mean_class_accuracy"]),
        "macro_f1": float(scores["macro_f1"]),
        "per_class_recall": [float(r) for r in scores["recall"]],
        "confusion": cm.tolist(),
    }


def bootstrap_interval(
    y_true,
    y_pred,
    metric: str = "accuracy",
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    n_classes: int | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap ``(1 - alpha)`` interval of ``metric`` over test predictions.

    Resamples the test predictions ``n_boot`` times (seeded, so the interval is
    reproducible) and returns the ``alpha/2`` and ``1 - alpha/2`` quantiles of the metric.
    This covers the sampling noise of the *test set* only, not seed-to-seed training noise
    (reported separately as a std over seeds). ``n_classes`` defaults to
    ``max(label) + 1``; pass the declared count when the label set is known.

    - ``accuracy``: the whole test set is resampled with replacement.
    - ``mean_class_accuracy`` and ``macro_f1`` average over classes, so they are resampled
      *within each true class* (stratified): every resample keeps every class with its
      test count. Resampling the whole set instead drops a class with 3 test items from
      ~5% of resamples, whose score is then averaged over the other classes, which skews
      the interval (upward when the rare class is the hard one). Each class draws
      ``n_c - 1`` of its ``n_c`` items (counts scaled back by ``n_c / (n_c - 1)``): the
      spread of a class's recall is then the unbiased ``p (1 - p) / (n_c - 1)`` rather
      than ``p (1 - p) / n_c``, which matters for the few-item classes that dominate the
      interval of a class average (about two points more coverage of a 95% interval with
      a 3-item class, in simulation). A class whose few items are all right or all wrong
      still has no spread in any resample, so with such classes coverage stays a few
      points under nominal.

    Resamples are scored in blocks sized from a fixed memory budget, so 5 or 300k
    predictions both work.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    y_true_arr, y_pred_arr = np.asarray(y_true), np.asarray(y_pred)
    if n_classes is None:
        n_classes = int(max(y_true_arr.max(initial=0), y_pred_arr.max(initial=0))) + 1
    y_true_arr, y_pred_arr = _check_labels(y_true_arr, y_pred_arr, n_classes)
    rng = np.random.default_rng(seed)
    if metric in CLASS_AVERAGED:
        values = _within_class_resamples(confusion_counts(y_true_arr, y_pred_arr, n_classes),
                                         metric, n_boot, rng)
    else:
        values = _whole_set_resamples(y_true_arr * n_classes + y_pred_arr, n_classes, metric,
                                      n_boot, rng)
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _whole_set_resamples(codes: np.ndarray, n_classes: int, metric: str, n_boot: int,
                         rng: np.random.Generator) -> np.ndarray:
    n = len(codes)
    cells = n_classes * n_classes
    per_resample_bytes = n * 16 + cells * 8  # indices + codes + one confusion matrix
    block = max(1, min(n_boot, _BOOTSTRAP_MEMORY_BYTES // per_resample_bytes))
    values = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        picks = codes[rng.integers(0, n, size=(b, n))]
        picks += (np.arange(b) * cells)[:, None]
        cms = np.bincount(picks.ravel(), minlength=b * cells).reshape(b, n_classes, n_classes)
        values[start : start + b] = scores_from_confusion(cms)[metric]
    return values


def _within_class_resamples(confusion: np.ndarray, metric: str, n_boot: int,
                            rng: np.random.Generator) -> np.ndarray:
    """Scores of ``n_boot`` confusion matrices whose rows (true classes) are resampled
    separately: resampling a class's items with replacement draws its row of the confusion
    matrix from a multinomial with that row's proportions (``n_c - 1`` draws, rescaled)."""
    k = len(confusion)
    support = confusion.sum(axis=1)
    present = np.flatnonzero(support)
    block = max(1, min(n_boot, _BOOTSTRAP_MEMORY_BYTES // (k * k * 16)))
    values = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        cms = np.zeros((b, k, k), dtype=np.float64)
        for c in present:
            n_c = int(support[c])
            draws = max(n_c - 1, 1)
            cms[:, c, :] = rng.multinomial(draws, confusion[c] / n_c, size=b) * (n_c / draws)
        values[start : start + b] = scores_from_confusion(cms)[metric]
    return values


def summarize_seeds(values: list[float]) -> dict:
    """Mean, sample standard deviation (ddof=1; 0 for a single seed) and the values."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("summarize_seeds needs at least one value")
    arr = np.asarray(vals)
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    mean = float(arr.mean())
    if not math.isfinite(mean):
        raise ValueError(f"non-finite seed scores: {vals}")
    return {"mean": mean, "std": std, "n": len(vals), "values": vals}
