"""Aligned correlation of two grey thumbnails: how well one, cropped, rescaled and
shifted, matches the other.

A global correlation of two thumbnails drops fast under a crop or a shift (a 10% crop of
a generated face takes it from 1.0 to about 0.5), while a re-encoding or a brightness
change leaves it near 1. So a crop is found by template matching: the central
``CENTRE`` square of thumbnail ``a`` is rescaled by each of ``SCALES`` and its normalised
cross-correlation (Pearson correlation) with ``b`` is taken at every position where it
fits; the best one is the pair's aligned correlation.

Two passes keep this cheap on tens of thousands of candidate pairs:
:func:`aligned_correlation` at the thumbnails' own resolution (whole-pixel shifts) for
every pair, then, for the pairs above ``refine_above``, again on thumbnails upsampled
``upsample`` times (half-pixel shifts) in both directions (``a`` in ``b`` and ``b`` in
``a``); the pair keeps the larger value. Half-pixel steps matter: at 24 px, a one-pixel
shift of a 48 px face is half a pixel, and matching it whole-pixel only costs sharp
faces up to 0.2 of correlation.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CENTRE = 0.75
SCALES = (0.85, 0.9, 0.95, 1.0, 1.05, 1.11, 1.18)
BATCH = 4096


def _integral(x: torch.Tensor) -> torch.Tensor:
    """Summed-area tables of (n, H, W), zero first row and column."""
    return F.pad(x.cumsum(1).cumsum(2), (1, 0, 1, 0))


def _box_sums(table: torch.Tensor, t: int) -> torch.Tensor:
    """Sums of every t x t window, from a summed-area table."""
    return table[:, t:, t:] - table[:, :-t, t:] - table[:, t:, :-t] + table[:, :-t, :-t]


def _templates(images: torch.Tensor, scales: tuple[float, ...], centre: float
               ) -> dict[int, torch.Tensor]:
    """Side -> zero-mean unit-norm templates (n, 1, t, t): each image's centre, rescaled."""
    side = images.shape[-1]
    m = int(round(centre * side))
    o = (side - m) // 2
    middle = images[:, None, o:o + m, o:o + m]
    out = {}
    for scale in scales:
        t = int(round(m * scale))
        if t > side or t in out:
            continue
        x = middle if t == m else F.interpolate(middle, size=(t, t), mode="bilinear",
                                                antialias=True, align_corners=False)
        x = x - x.mean((2, 3), keepdim=True)
        out[t] = x / x.flatten(1).norm(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)
    return out


def _best_match(templates: dict[int, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """Best normalised cross-correlation of each template set anywhere in its image."""
    n = len(images)
    # Window sums in float64: the variance is a difference of two large sums.
    b64 = images.double()
    b64 = b64 - b64.mean((1, 2), keepdim=True)
    sums, squares = _integral(b64), _integral(b64 * b64)
    stacked = b64.float()[None]                      # (1, n, H, W): one group per pair
    best = torch.full((n,), -1.0)
    for t, template in templates.items():
        dot = F.conv2d(stacked, template, groups=n)[0]         # (n, positions, positions)
        s1, s2 = _box_sums(sums, t), _box_sums(squares, t)
        spread = (s2 - s1 * s1 / (t * t)).clamp_min(1e-9).sqrt().float()
        best = torch.maximum(best, (dot / spread).flatten(1).max(1).values)
    return best


def _one_way(images: torch.Tensor, i: np.ndarray, j: np.ndarray, scales: tuple[float, ...],
             centre: float) -> np.ndarray:
    """Best match of image i's centre in image j, per pair; pairs are taken in order of i
    so that each batch rescales the centres of few distinct images."""
    out = np.empty(len(i), np.float32)
    order = np.argsort(i, kind="stable")
    for start in range(0, len(order), BATCH):
        at = order[start:start + BATCH]
        distinct, which = np.unique(i[at], return_inverse=True)
        templates = {t: x[torch.as_tensor(which)]
                     for t, x in _templates(images[torch.as_tensor(distinct)], scales,
                                            centre).items()}
        out[at] = _best_match(templates, images[torch.as_tensor(j[at])]).numpy()
    return out


def aligned_correlation(images: np.ndarray, i: np.ndarray, j: np.ndarray, *,
                        scales: tuple[float, ...] = SCALES, centre: float = CENTRE,
                        upsample: int = 1, both_ways: bool = False) -> np.ndarray:
    """Aligned correlation of each pair (images[i[k]], images[j[k]]) of grey thumbnails
    (N, S, S), in [-1, 1]. ``upsample`` > 1 matches bicubic enlargements (sub-pixel
    shifts); ``both_ways`` also matches j's centre in i and keeps the smaller of the two,
    so that a pair counts as aligned only when each image is found in the other."""
    stack = torch.as_tensor(np.asarray(images, np.float32))
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"expected square thumbnails (N, S, S), got {tuple(stack.shape)}")
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    if upsample > 1:
        used = np.unique(np.concatenate([i, j]))
        side = stack.shape[-1] * upsample
        stack = stack[torch.as_tensor(used)]
        stack = F.interpolate(stack[:, None], size=(side, side), mode="bicubic",
                              align_corners=False)[:, 0]
        i, j = np.searchsorted(used, i), np.searchsorted(used, j)
    value = _one_way(stack, i, j, scales, centre)
    if both_ways:
        value = np.minimum(value, _one_way(stack, j, i, scales, centre))
    return value


def refined_aligned_correlation(images: np.ndarray, i: np.ndarray, j: np.ndarray,
                                refine_above: float, upsample: int = 2) -> np.ndarray:
    """The two passes (module doc): whole-pixel, one way, for every pair; for those at or
    above ``refine_above``, half-pixel steps both ways, which decides."""
    value = aligned_correlation(images, i, j)
    close = np.flatnonzero(value >= refine_above)
    if len(close):
        value[close] = aligned_correlation(images, i[close], j[close], upsample=upsample,
                                           both_ways=True)
    return value
