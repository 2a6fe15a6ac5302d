"""A seeded stratified validation part, carved from training rows."""
from __future__ import annotations

import math

import numpy as np


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
