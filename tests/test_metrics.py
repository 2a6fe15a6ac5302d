"""Metrics against hand computation and scikit-learn; bootstrap coverage and seeding."""

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             recall_score)

from fer_bench.metrics import bootstrap_interval, classification_metrics, summarize_seeds


def test_hand_computed_case():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 2]
    m = classification_metrics(y_true, y_pred, n_classes=4)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # recall: class 0 1/2, class 1 2/3, class 2 1/1; class 3 has no sample -> NaN, excluded
    assert m["per_class_recall"][:3] == pytest.approx([0.5, 2 / 3, 1.0])
    assert np.isnan(m["per_class_recall"][3])
    assert m["mean_class_accuracy"] == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    # F1 = 2tp / (2tp + fp + fn): class 0 2/(2+1+1) = 0.5, class 1 4/(4+1+1) = 2/3, class 2 1
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    assert m["confusion"] == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_with_absent_classes(seed):
    rng = np.random.default_rng(seed)
    n_classes = 6
    y_true = rng.choice([0, 1, 2, 4], size=300)  # class 3 and 5 never true
    y_pred = np.where(rng.random(300) < 0.6, y_true,
                      rng.choice([0, 1, 2, 3], size=300))  # 3 predicted
    m = classification_metrics(y_true, y_pred, n_classes)
    assert m["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    with pytest.warns(UserWarning):  # sklearn warns about the class predicted but never true
        assert m["mean_class_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro",
                                                   zero_division=0))
    present = [0, 1, 2, 4]
    recall = recall_score(y_true, y_pred, labels=present, average=None)
    assert np.array(m["per_class_recall"])[present] == pytest.approx(recall)
    assert np.isnan(np.array(m["per_class_recall"])[[3, 5]]).all()
    np.testing.assert_array_equal(
        m["confusion"], confusion_matrix(y_true, y_pred, labels=range(n_classes))
    )


def test_labels_outside_the_declared_set_are_refused():
    with pytest.raises(ValueError, match=r"y_pred has class indices outside \[0, 3\)"):
        classification_metrics([0, 1], [0, 3], n_classes=3)
    with pytest.raises(ValueError, match="equal length"):
        classification_metrics([0, 1], [0], n_classes=3)


def test_bootstrap_covers_the_true_accuracy_about_95_percent_of_the_time():
    rng = np.random.default_rng(123)
    p, n, n_datasets = 0.7, 400, 200
    covered = 0
    for i in range(n_datasets):
        y_true = rng.integers(0, 3, size=n)
        correct = rng.random(n) < p
        y_pred = np.where(correct, y_true, (y_true + 1) % 3)
        low, high = bootstrap_interval(y_true, y_pred, "accuracy", n_boot=500, seed=i)
        covered += low <= p <= high
    # 200 trials at 0.95: sd of the rate is 1.5 points; [0.90, 0.99] is > 3 sd wide each way.
    assert 0.90 <= covered / n_datasets <= 0.99


@pytest.mark.parametrize("metric", ["accuracy", "mean_class_accuracy", "macro_f1"])
def test_bootstrap_is_seeded_and_brackets_the_point_estimate(metric):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=250)
    y_pred = np.where(rng.random(250) < 0.6, y_true, rng.integers(0, 4, size=250))
    point = classification_metrics(y_true, y_pred, 4)[metric]
    a = bootstrap_interval(y_true, y_pred, metric, seed=7, n_classes=4)
    assert a == bootstrap_interval(y_true, y_pred, metric, seed=7, n_classes=4)
    assert a != bootstrap_interval(y_true, y_pred, metric, seed=8, n_classes=4)
    assert a[0] < point < a[1]
    assert 0.05 < a[1] - a[0] < 0.2  # ~ 4 standard errors of a proportion at n = 250


@pytest.mark.parametrize("metric", ["mean_class_accuracy", "macro_f1"])
def test_class_averaged_intervals_never_lose_a_class(metric):
    # 49 items of six classes all right, one item of a seventh class wrong. Resampling the
    # whole set drops that item from ~36% of resamples, whose score is then averaged over
    # the six perfect classes alone (1.0); resampling within each class keeps every class
    # in every resample, so every resample scores exactly what the test set scores.
    y_true = np.r_[np.repeat(np.arange(6), [9, 8, 8, 8, 8, 8]), 6]
    y_pred = np.r_[y_true[:-1], 0]
    point = classification_metrics(y_true, y_pred, 7)[metric]
    low, high = bootstrap_interval(y_true, y_pred, metric, n_boot=400, seed=0, n_classes=7)
    assert high < 1.0
    if metric == "mean_class_accuracy":  # recall is 1 six times and 0 once, in every resample
        assert low == pytest.approx(6 / 7) and high == pytest.approx(6 / 7)
        assert point == pytest.approx(6 / 7)


def _simulated_intervals(counts, accuracy, n_sets, seed=5):
    """Intervals of mean class accuracy over ``n_sets`` test sets drawn with known per-class
    accuracies: (true mean class accuracy, point estimates, (n_sets, 2) intervals)."""
    counts, accuracy = np.asarray(counts), np.asarray(accuracy)
    k = len(counts)
    rng = np.random.default_rng(seed)
    y_true = np.repeat(np.arange(k), counts)
    points, intervals = [], []
    for i in range(n_sets):
        correct = rng.random(len(y_true)) < accuracy[y_true]
        wrong = (y_true + rng.integers(1, k, size=len(y_true))) % k
        y_pred = np.where(correct, y_true, wrong)
        points.append(classification_metrics(y_true, y_pred, k)["mean_class_accuracy"])
        intervals.append(bootstrap_interval(y_true, y_pred, "mean_class_accuracy", n_boot=500,
                                            seed=i, n_classes=k))
    return accuracy.mean(), np.array(points), np.array(intervals)


def test_mean_class_accuracy_interval_with_a_rare_class_is_not_pushed_upward():
    # Like CK+48's contempt in a subject hold-out: 3 test items, never recognised. A whole-set
    # resample loses all three ~5% of the time and then scores the other classes only, which
    # pushes the upper bound up by about (their mean accuracy) / 7 ~ 0.1; stratified
    # resampling cannot lose the class, so both arms stay ~2 sampling sd (~0.04) long.
    truth, points, intervals = _simulated_intervals([120, 90, 70, 60, 50, 40, 3],
                                                    [0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.0], 200)
    covered = np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1]))
    upper, lower = intervals[:, 1] - points, points - intervals[:, 0]
    # 200 sets at 0.95: sd of the rate 1.5 points
    assert 0.90 <= covered <= 0.99
    assert abs(upper.mean() - lower.mean()) < 0.006  # whole-set resampling: ~0.05
    assert upper.mean() < 0.06  # whole-set resampling: ~0.09


def test_mean_class_accuracy_interval_covers_at_about_the_nominal_rate():
    # A CK+48-like subject hold-out: 8 classes, one of 3 items and one of 5. The recall of
    # 3 items is coarse (0, 1/3, 2/3, 1) and a class seen 0/3 or 3/3 has no spread in any
    # resample, so coverage sits a few points under 95% (0.907 here; whole-set resampling
    # is a little higher only because lost classes widen its intervals).
    truth, points, intervals = _simulated_intervals([40, 3, 12, 5, 16, 6, 20, 9],
                                                    [0.6, 0.33, 0.7, 0.4, 0.9, 0.5, 0.8, 0.5], 300)
    covered = np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1]))
    assert 0.88 <= covered <= 0.99  # 300 sets: sd of the rate 1.5 points
    upper, lower = intervals[:, 1] - points, points - intervals[:, 0]
    assert abs(upper.mean() - lower.mean()) < 0.01


def test_bootstrap_works_for_five_predictions():
    low, high = bootstrap_interval([0, 1, 1, 0, 2], [0, 1, 0, 0, 2], "macro_f1", n_boot=200)
    assert 0.0 <= low <= high <= 1.0


def test_summarize_seeds():
    s = summarize_seeds([0.5, 0.7, 0.6])
    assert s["mean"] == pytest.approx(0.6)
    assert s["std"] == pytest.approx(0.1)  # ddof = 1
    assert s["n"] == 3 and s["values"] == [0.5, 0.7, 0.6]
    assert summarize_seeds([0.42]) == {"mean": 0.42, "std": 0.0, "n": 1, "values": [0.42]}
    with pytest.raises(ValueError):
        summarize_seeds([])
