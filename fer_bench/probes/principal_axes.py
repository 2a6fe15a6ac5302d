"""Principal axes of feature rows: the coordinates the logistic solver fits in.

Centring the rows on a mean ``m`` and expressing them in an orthonormal basis ``B``,
``z = (x - m) B``, reparametrises a linear model exactly: with ``V = W B`` and
``b' = b + W m`` the logits ``x W^T + b = z V^T + b'`` and the penalty ``||W|| = ||V||``
are unchanged, so the optimum is the same one (``W = V B^T``, ``b = b' - W m``). Taking
``B`` as the eigenvectors of the rows' covariance makes their second-moment matrix
``[Z 1]^T [Z 1] / n`` diagonal, ``diag(variances, 1)``: the solver's Gauss-Newton
preconditioner is then a scaling per coordinate, applied in O(parameters) instead of two
products with a dense eigenvector matrix every iteration.

Two kinds of axes (:func:`principal_axes`):

- **a rotation** (``d`` axes): exact for any rows whatever, so a refit on train +
  validation and fits on other rows may share the axes of their training rows (the
  variances, a preconditioner only, need only be close).
- **the row space** (``n`` axes, with clearly fewer rows than dimensions): the centred rows'
  span. The optimum lies in it (at the optimum the residuals sum to zero, so the loss's
  gradient ``R^T X = R^T (X - 1 m^T)`` is spanned by the centred rows, and so is ``W*``),
  so fitting there is exact and a pass over the data costs ``n^2`` instead of ``n d``.
  Such axes cover only the rows they were computed on and subsets of them, which
  :meth:`PrincipalAxes.coordinates` finds by their bytes: a protocol fitting many subsets
  of one pool (the folds of ``subject-folds``) computes the pool's axes once.

Everything is computed on one CPU thread (sums in float64), so the same rows give the
same axes, bit for bit, whatever the thread count.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch

from fer_bench.probes.logistic_solver import one_thread, rows_product

# Row-space axes when the rows are at most this fraction of the dimension (at n close to
# d the QR and the eigendecomposition of size n cost what the smaller passes save).
ROW_SPACE_FRACTION = 0.8


def row_space_pays(n: int, dim: int) -> bool:
    """Whether ``(n, dim)`` rows are fitted in their row space (clearly fewer rows than
    dimensions)."""
    return n <= ROW_SPACE_FRACTION * dim


def _row_keys(X: torch.Tensor) -> list[bytes]:
    rows = X.detach().cpu().contiguous().numpy()
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]


@dataclass(frozen=True, eq=False)  # tensors: compared and hashed by identity
class PrincipalAxes:
    """Mean, orthonormal basis and per-axis variances of a set of feature rows."""

    mean: torch.Tensor  # (d,) in the rows' dtype
    basis: torch.Tensor  # (d, r) orthonormal columns; r == d for a rotation
    variances: torch.Tensor  # (r,) mean square of the coordinates over the rows (>= 0)
    # row-space axes: each computed row's bytes -> its coordinates' row in ``_coordinates``
    _index: dict[bytes, int] | None = field(default=None, repr=False)
    _coordinates: torch.Tensor | None = field(default=None, repr=False)
    _float64: dict = field(default_factory=dict, repr=False)

    @property
    def is_rotation(self) -> bool:
        """Whether the axes span the whole feature space (exact for any rows)."""
        return self.basis.shape[1] == self.basis.shape[0]

    def coordinates(self, X: torch.Tensor) -> torch.Tensor | None:
        """``X``'s rows in these axes, ``(X - mean) @ basis``; None when the axes are a row
        space and ``X`` holds a row they were not computed on (it may lie outside it)."""
        if self.is_rotation:
            with one_thread(X.device):
                return (X - self.mean) @ self.basis
        if self._index is None:
            return None
        positions = [self._index.get(key) for key in _row_keys(X)]
        if any(p is None for p in positions):
            return None
        return self._coordinates[torch.as_tensor(positions, device=self._coordinates.device)]

    def _in_float64(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(basis, mean) in float64, converted once (parameters are mapped in float64)."""
        if not self._float64:
            self._float64["basis"] = self.basis.to(torch.float64)
            self._float64["mean"] = self.mean.to(torch.float64)
        return self._float64["basis"], self._float64["mean"]

    def to_axes(self, W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights and intercepts of the features -> of these axes (``V = W B``,
        ``b' = b + W m``; the part of W off a row space is dropped, as the fit would)."""
        basis, mean = self._in_float64()
        with one_thread(W.device):
            W = W.to(torch.float64)
            return W @ basis, b + W @ mean

    def from_axes(self, V: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights and intercepts of these axes -> of the features (``W = V B^T``,
        ``b = b' - W m``)."""
        basis, mean = self._in_float64()
        with one_thread(V.device):
            W = V.to(torch.float64) @ basis.T
            return W, b - W @ mean

    def feature_gradient(self, g_V: torch.Tensor, g_b: torch.Tensor) -> torch.Tensor:
        """The objective's gradient in the features' weights from its gradient in the
        axes' (``g_W = g_V B^T + g_b m^T``, the chain rule through ``b' = b + W m``)."""
        with one_thread(g_V.device):
            return g_V @ self.basis.T + g_b.unsqueeze(1) * self.mean


def principal_axes(X: torch.Tensor, row_space: bool | None = None) -> PrincipalAxes:
    """The principal axes of ``X``'s rows (float32 or float64; see the module doc):
    the row space when ``row_space`` (default: :func:`row_space_pays`), else a rotation."""
    n, dim = X.shape
    if row_space is None:
        row_space = row_space_pays(n, dim)
    with one_thread(X.device):
        mean64 = X.sum(dim=0, dtype=torch.float64) / n
        if row_space:
            # Thin QR of the centred rows (orthonormal to working precision whatever their
            # rank), then the eigenvectors of their coordinates' second moments, R R^T / n.
            q, r = torch.linalg.qr((X.to(torch.float64) - mean64).T)
            variances, vectors = torch.linalg.eigh(r @ r.T / n)
            basis = q @ vectors
            coordinates = (r.T @ vectors).to(X.dtype)
            index = {key: i for i, key in enumerate(_row_keys(X))}
            return PrincipalAxes(mean64.to(X.dtype), basis.to(X.dtype),
                                 variances.clamp_(min=0).to(X.dtype), index, coordinates)
        covariance = rows_product(X, X).div_(n).sub_(torch.outer(mean64, mean64))
        variances, vectors = torch.linalg.eigh(covariance)
    return PrincipalAxes(mean64.to(X.dtype), vectors.to(X.dtype),
                         variances.clamp_(min=0).to(X.dtype))
