"""Health signals of a pre-training run, measured on a fixed held-aside set.

A contrastive run can look fine in its loss while its features collapse onto a few
directions (the coarse-label objective pulls all views of a group together). So every
so often the trainer embeds a fixed set of faces that training never sees and logs:

- ``effective_rank``: the effective rank of the centred 512-d features: exp of the
  entropy of the variance shares of their principal directions (Roy & Vetterli's
  effective rank of the covariance matrix); 1 when all variance lies on one line, d
  when it spreads evenly over d directions. A collapsed encoder sits near the number
  of coarse groups or below;
- ``top_share``: the share of the variance held by the top principal direction;
- ``knn_mca`` / ``knn_accuracy``: leave-one-out weighted kNN (cosine, k=20, T=0.07, the
  kNN probe's own defaults) over the set's fine labels, mean class accuracy and accuracy.

The first measurement (step 0) is the randomly initialised network: the floor that a
learning encoder's rank must pass after its first epoch (:func:`collapse_warning`).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from fer_bench.images.preprocess import IMAGENET_MEAN, IMAGENET_STD
from fer_bench.metrics import classification_metrics
from fer_bench.probes.knn import DEFAULT_K, DEFAULT_T, knn_search, weighted_knn_scores

DEFAULT_HEALTH_N = 2000
_BATCH = 256


# -- the measures ------------------------------------------------------------------------
def _singular_values(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need a (n >= 2, d) feature matrix, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("features hold NaN or infinite values")
    return np.linalg.svd(x - x.mean(0), compute_uv=False)


def effective_rank(features: np.ndarray) -> float:
    """exp(H(p)), p = the covariance eigenvalues (squared singular values of the centred
    features) over their sum; 1.0 for features on a line, d for features spread evenly
    over d directions, 0 for constant features."""
    var = _singular_values(features) ** 2
    if var.sum() <= 0:
        return 0.0
    p = var[var > 0] / var.sum()
    return float(math.exp(-(p * np.log(p)).sum()))


def top_direction_share(features: np.ndarray) -> float:
    """Variance share of the top principal direction (largest eigenvalue over the sum)."""
    var = _singular_values(features) ** 2
    return float(var[0] / var.sum()) if var.sum() > 0 else 1.0


def leave_one_out_knn(features: np.ndarray, labels: np.ndarray, n_classes: int,
                      k: int = DEFAULT_K, T: float = DEFAULT_T) -> dict:
    """Weighted kNN of every row against all the others (itself left out)."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(features) or len(labels) < 2:
        raise ValueError(f"{len(features)} features but {len(labels)} labels (need >= 2)")
    kk = min(k, len(labels) - 1)
    sims, idx = knn_search(features, features, kk + 1)
    own = idx == np.arange(len(idx))[:, None]
    # drop each row's own slot (or, when exact duplicates tie it out, the last slot)
    drop = np.where(own.any(1), own.argmax(1), kk)
    keep = np.ones_like(own)
    keep[np.arange(len(idx)), drop] = False
    sims, idx = sims[keep].reshape(len(idx), kk), idx[keep].reshape(len(idx), kk)
    pred = weighted_knn_scores(sims, idx, labels, n_classes, T).argmax(1)
    m = classification_metrics(labels, pred, n_classes)
    return {"knn_mca": m["mean_class_accuracy"], "knn_accuracy": m["accuracy"]}


def feature_health(features: np.ndarray, labels: np.ndarray, n_classes: int) -> dict:
    return {"effective_rank": effective_rank(features),
            "top_share": top_direction_share(features),
            **leave_one_out_knn(features, labels, n_classes)}


# kNN mean class accuracy a run must gain over the random network before a low rank is
# read as concentrated variance rather than collapse (5 points: far outside the noise of
# 2,000 held-aside faces).
KNN_GAIN_NOT_COLLAPSED = 0.05


def collapse_warning(current: dict, initial: dict, epoch: float) -> str | None:
    """After the first epoch, a message when the features' effective rank has not risen
    past the random network's; None otherwise. It starts "COLLAPSE" unless the kNN score
    has risen clearly (:data:`KNN_GAIN_NOT_COLLAPSED`): then the classes separate and the
    message starts "LOW RANK" (coarse-label objectives pull the variance into a few
    directions by design)."""
    if epoch < 1 or current["effective_rank"] > initial["effective_rank"]:
        return None
    rank = (f"after {epoch:.2f} epochs the features' effective rank is "
            f"{current['effective_rank']:.2f}, not above the random network's "
            f"{initial['effective_rank']:.2f} (top direction holds "
            f"{100 * current['top_share']:.0f}% of the variance)")
    knn, knn0 = current.get("knn_mca"), initial.get("knn_mca")
    if knn is None or knn0 is None:
        return f"COLLAPSE: {rank}"
    progress = f"kNN mean class accuracy {100 * knn0:.1f} -> {100 * knn:.1f}"
    if knn - knn0 >= KNN_GAIN_NOT_COLLAPSED:
        return f"LOW RANK: {rank}; not a collapse: {progress}"
    return f"COLLAPSE: {rank}; {progress}"


# -- the held-aside set -----------------------------------------------------------------
@dataclass
class HealthSet:
    images: torch.Tensor        # uint8 (N, 1|3, S, S) at the training input size
    labels: np.ndarray          # int64 (N,) into classes
    classes: tuple[str, ...]
    source: str                 # what it is, for the log

    @classmethod
    def from_images(cls, images: torch.Tensor, names: list[str], source: str,
                    n: int = DEFAULT_HEALTH_N, seed: int = 0) -> HealthSet:
        """A fixed random subset of ``n`` labelled images (all of them if fewer)."""
        if len(names) != len(images):
            raise ValueError(f"{len(images)} images but {len(names)} labels")
        rows = np.arange(len(names))
        if len(rows) > n:
            rows = np.sort(np.random.default_rng(seed).choice(rows, n, replace=False))
        classes = tuple(sorted({names[i] for i in rows}))
        lookup = {c: i for i, c in enumerate(classes)}
        labels = np.array([lookup[names[i]] for i in rows], dtype=np.int64)
        return cls(images[torch.from_numpy(rows)].contiguous(), labels, classes,
                   f"{source} ({len(rows)} faces)")

    def embed(self, trunk: torch.nn.Module, device: torch.device, autocast=None,
              channels_last: bool = False) -> np.ndarray:
        """The trunk's features of every image (eval mode, resized to the input size
        already, ImageNet-normalised), float32 on the host; the trunk's mode is restored."""
        was_training = trunk.training
        trunk.eval()
        mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
        out = []
        try:
            with torch.no_grad():
                for start in range(0, len(self.images), _BATCH):
                    x = self.images[start:start + _BATCH].to(device).float().div_(255.0)
                    x = (x.expand(-1, 3, -1, -1) - mean) / std
                    if channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    with autocast() if autocast is not None else contextlib.nullcontext():
                        f = trunk(x)
                    out.append(f.float().cpu())
        finally:
            trunk.train(was_training)
        return torch.cat(out).numpy()

    def measure(self, trunk, device, autocast=None, channels_last: bool = False) -> dict:
        feats = self.embed(trunk, device, autocast, channels_last)
        return feature_health(feats, self.labels, len(self.classes))
