"""The hand-crafted descriptors of the ``lbp`` and ``hog`` encoders, as plain numpy over
grey uint8 images (scikit-image, extra ``classic``). Kept free of torch so that the worker
processes that compute them (:mod:`fer_bench.encoder_pool`) start in a moment."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

_EXTRA = "classic"


def skimage_feature():
    try:
        from skimage import feature
    except ImportError:
        raise ImportError(f"the lbp and hog encoders need scikit-image: "
                          f"pip install 'fer-bench[{_EXTRA}]'") from None
    return feature


def lbp_histograms(image: np.ndarray, points: int = 8, radius: float = 2,
                   grid: int = 7) -> np.ndarray:
    """Concatenated L1-normalised non-rotation-invariant uniform LBP histograms of the
    ``grid`` x ``grid`` cells (``np.array_split`` sizes when the side does not divide)."""
    codes = skimage_feature().local_binary_pattern(image, points, radius, method="nri_uniform")
    bins = points * (points - 1) + 3  # uniform patterns + one bin for the rest
    hists = []
    for band in np.array_split(codes, grid, axis=0):
        for cell in np.array_split(band, grid, axis=1):
            h = np.bincount(cell.astype(np.int64).ravel(), minlength=bins)[:bins]
            hists.append(h / max(cell.size, 1))
    return np.concatenate(hists)


def hog_descriptor(image: np.ndarray, orientations: int = 9, cell: int = 8,
                   block: int = 2) -> np.ndarray:
    return skimage_feature().hog(image, orientations=orientations, pixels_per_cell=(cell, cell),
                                  cells_per_block=(block, block), block_norm="L2-Hys",
                                  feature_vector=True)


def describe_images(kind: str, params: tuple) -> Callable[[np.ndarray], np.ndarray]:
    """The per-chunk function of descriptor ``kind`` (built in each worker process)."""
    describe = {"lbp": lbp_histograms, "hog": hog_descriptor}[kind]
    return lambda images: np.stack([describe(img, *params) for img in images]).astype(
        np.float32)
