"""Health signals: hand-computed effective rank and top share, leave-one-out kNN against a
brute-force loop, the collapse alarm, and the held-aside set's embedding."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fer_bench.pretrain.health import (KNN_GAIN_NOT_COLLAPSED, HealthSet, collapse_warning,
                                       effective_rank, leave_one_out_knn, top_direction_share)


def test_effective_rank_and_top_share_by_hand():
    # points on one line: one direction, rank 1, all variance on top
    line = np.outer(np.arange(5.0), [1.0, 2.0, 0.0])
    assert effective_rank(line) == pytest.approx(1.0)
    assert top_direction_share(line) == pytest.approx(1.0)
    # +-a on x, +-b on y (centred, uncorrelated): variances a^2/2 and b^2/2
    a, b = 3.0, 1.0
    pts = np.array([[a, 0], [-a, 0], [0, b], [0, -b]], dtype=float)
    p = np.array([a * a, b * b]) / (a * a + b * b)
    assert effective_rank(pts) == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert top_direction_share(pts) == pytest.approx(0.9)
    # equal spread over 4 orthogonal directions -> rank 4, top share 1/4
    cross = np.concatenate([np.eye(4), -np.eye(4)])
    assert effective_rank(cross) == pytest.approx(4.0)
    assert top_direction_share(cross) == pytest.approx(0.25)
    assert effective_rank(np.ones((6, 3))) == 0.0


def test_nan_features_are_refused():
    x = np.random.default_rng(0).normal(size=(10, 4))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        effective_rank(x)


def _brute_force_loo(x, y, n_classes, k, T):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    pred = []
    for i in range(len(x)):
        sims = x @ x[i]
        sims[i] = -np.inf
        nn = np.argsort(-sims, kind="stable")[:k]
        votes = np.zeros(n_classes)
        for j in nn:
            votes[y[j]] += np.exp(sims[j] / T)
        pred.append(votes.argmax())
    pred = np.array(pred)
    recalls = [np.mean(pred[y == c] == c) for c in range(n_classes) if (y == c).any()]
    return np.mean(recalls), np.mean(pred == y)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_leave_one_out_knn_matches_a_brute_force_loop(k):
    rng = np.random.default_rng(k)
    y = rng.integers(0, 4, size=120)
    x = rng.normal(size=(120, 16)) + 1.5 * np.eye(16)[y]     # classes partly separable
    got = leave_one_out_knn(x.astype(np.float32), y, 4, k=k, T=0.07)
    mca, acc = _brute_force_loo(x, y, 4, k, 0.07)
    assert got["knn_mca"] == pytest.approx(mca) and got["knn_accuracy"] == pytest.approx(acc)


def test_leave_one_out_never_counts_the_query_itself():
    # two far-apart points per class, classes interleaved: with itself counted, 1-NN
    # would be perfect; left out, every nearest neighbour has the other label
    x = np.array([[1, 0], [0.99, 0.14], [-1, 0], [-0.99, -0.14]], dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    assert leave_one_out_knn(x, y, 2, k=1)["knn_accuracy"] == 0.0


def test_collapse_alarm_after_the_first_epoch_only():
    random_net = {"effective_rank": 11.0, "top_share": 0.56, "knn_mca": 0.20}
    collapsed = {"effective_rank": 2.2, "top_share": 0.8, "knn_mca": 0.22}
    assert collapse_warning(collapsed, random_net, epoch=0.5) is None
    message = collapse_warning(collapsed, random_net, epoch=1.0)
    assert message.startswith("COLLAPSE")
    assert "2.20" in message and "11.00" in message and "80%" in message
    assert "20.0 -> 22.0" in message
    assert collapse_warning({"effective_rank": 14.0, "top_share": 0.3}, random_net, 3) is None


def test_a_low_rank_with_a_clear_knn_gain_is_not_called_a_collapse():
    random_net = {"effective_rank": 12.4, "top_share": 0.57, "knn_mca": 0.177}
    concentrated = {"effective_rank": 4.8, "top_share": 0.40, "knn_mca": 0.454}
    message = collapse_warning(concentrated, random_net, epoch=30)
    assert message.startswith("LOW RANK") and "17.7 -> 45.4" in message
    # a gain just under the threshold is still a collapse
    barely = {**concentrated, "knn_mca": 0.177 + KNN_GAIN_NOT_COLLAPSED - 0.001}
    assert collapse_warning(barely, random_net, epoch=30).startswith("COLLAPSE")
    # without kNN numbers (no labels) the rank alone decides
    assert collapse_warning({"effective_rank": 4.8, "top_share": 0.4},
                            {"effective_rank": 12.4, "top_share": 0.57}, 2).startswith(
        "COLLAPSE")


def test_held_aside_set_is_a_fixed_subset_and_embedding_restores_the_mode():
    images = torch.randint(0, 256, (30, 1, 8, 8), dtype=torch.uint8)
    names = ["happiness", "sadness", "neutral"] * 10
    a = HealthSet.from_images(images, names, "toy", n=12, seed=3)
    b = HealthSet.from_images(images, names, "toy", n=12, seed=3)
    assert torch.equal(a.images, b.images) and len(a.labels) == 12
    assert a.classes == tuple(sorted(set(names)))
    trunk = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    trunk.train()
    before = trunk[1].running_mean.clone()
    feats = a.embed(trunk, torch.device("cpu"))
    assert feats.shape == (12, 4) and feats.dtype == np.float32
    assert trunk.training and torch.equal(trunk[1].running_mean, before)   # eval mode inside
