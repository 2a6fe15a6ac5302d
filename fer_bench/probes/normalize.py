"""Row-wise L2 normalisation shared by the probes.

Both probes work on the unit sphere: the kNN probe ranks by cosine similarity (inner
product of unit rows) and the linear probe sees features of one scale whatever the
encoder, so one grid of regularisation strengths suits every encoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def l2_normalize(X: np.ndarray) -> np.ndarray:
    """Return ``X`` as float32 with every row scaled to unit L2 norm.

    Rows that are entirely zero stay zero (they have no direction; dividing would make
    NaNs). Non-finite input is refused rather than propagated, because a single NaN row
    silently poisons a FAISS index or an L-BFGS fit.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D feature matrix (N, D), got shape {X.shape}")
    X = X.astype(np.float32, copy=False)
    check_finite(X)
    norms = np.linalg.norm(X, axis=1)  # numpy's pairwise summation keeps float32 exact enough
    norms[norms == 0] = 1.0
    return X / norms[:, None]


def check_finite(X: np.ndarray) -> None:
    """Refuse feature rows with NaN or inf, naming how many and the first."""
    finite_rows = np.isfinite(X).all(axis=1)
    if not finite_rows.all():
        bad = int((~finite_rows).sum())
        first = int(np.flatnonzero(~finite_rows)[0])
        raise ValueError(
            f"{bad} of {len(X)} feature rows contain NaN or inf (first at row {first}); "
            "features must be finite before probing"
        )


@dataclass(frozen=True)
class Standardizer:
    """Per-feature standardisation fitted on training rows (float64): the probes of
    action units and continuous targets use it instead of the unit sphere, because a
    feature's magnitude can carry what they predict (how strong an expression is) and
    L2 normalisation would fold every other feature into each one; a constant feature
    keeps scale 1."""
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"expected a 2-D feature matrix (N, D), got shape {X.shape}")
        check_finite(X)
        scale = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        check_finite(X)
        return (X - self.mean) / self.scale
