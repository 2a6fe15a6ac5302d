"""Exact kNN search on a torch device (a GPU; the CPU for tests) giving FAISS's neighbours.

The headline kNN search is FAISS's CPU ``IndexFlatIP`` (:mod:`fer_bench.probes.knn`): it
ranks bank rows by float32 inner products and lists equal similarities by decreasing
id. A GPU rounds its products otherwise and ``torch.topk`` leaves ties in no set order,
so a plain matmul + top-k returns other neighbours wherever similarities tie (duplicate
images make exact ties common) or nearly tie. Here, per block of queries:

1. **Candidates** in float32 on the device: the ``k + margin`` best rows of each query
   (a torch matmul + top-k, or faiss-gpu's flat index), widened for a query until they
   hold every row whose float32 similarity is within ``2 delta`` of its k-th best, where
   ``delta`` bounds the float32 error of an inner product of unit vectors (Higham's
   ``gamma_d = d u / (1 - d u)``, ``u = 2^-24``, any summation order). So the true k
   nearest are candidates whatever either side's rounding.
2. **Rerank** the candidates by their similarity in float64 (products of float32 numbers
   are exact in float64; the sum's error is far below float32's resolution), equal ones
   by decreasing id: FAISS's order. Equal rows give bit-equal float64 similarities (one
   element-wise product and row sum per candidate, the same operations for every row).
3. **Ties across the cut**: when the k-th and (k+1)-th candidates tie exactly, which rows
   of the tied group FAISS keeps follows its heap or reservoir (k >= 100) bookkeeping, not
   a rule worth copying; such a query is searched by FAISS on the CPU instead.

What cannot be identical: two *different* rows whose similarities differ by less than
float32 rounding (about 1e-7). FAISS orders them by its own rounding, which even changes
with how FAISS blocks the queries (a query searched alone or among 5,000 can swap such a
pair); here float64 decides, i.e. the true order. Returned similarities are the float64
values rounded to float32 (FAISS's own differ from them by a few float32 units).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import torch

from fer_bench.probes.fp32 import full_fp32

_U = 2.0**-24  # float32 unit roundoff


def float32_dot_error(dim: int) -> float:
    """Bound on |float32 inner product - exact| of two unit rows of ``dim`` numbers, with
    room for rows whose float32 norm is 1 only to a few units of rounding."""
    du = dim * _U
    return 1.01 * du / (1.0 - du) + 8 * _U


def candidate_margin(k: int) -> int:
    """Candidates fetched beyond k per query before any widening (ties, near-ties)."""
    return 8 + k // 8


class TorchCandidates:
    """Top candidates by a float32 matmul with the bank on the device."""

    name = "torch"

    def __init__(self, bank_t: torch.Tensor):
        self.bank_t = bank_t

    def top(self, q: torch.Tensor, q_np: np.ndarray, width: int):
        scores = q @ self.bank_t.T
        vals, ids = torch.topk(scores, width, dim=1)
        return vals, ids, scores


class FaissCandidates:
    """Top candidates from a FAISS inner-product index over the same bank rows (faiss-gpu's
    ``GpuIndexFlatIP`` on a GPU; any flat index works, which is how the CPU tests run it)."""

    name = "faiss"

    def __init__(self, index, device: torch.device, max_k: int = 2048):
        self.index, self.device, self.max_k = index, device, max_k

    def top(self, q: torch.Tensor, q_np: np.ndarray, width: int):
        vals, ids = self.index.search(q_np, width)
        return (torch.from_numpy(vals).to(self.device), torch.from_numpy(ids).to(self.device),
                None)


def exact_search_blocks(bank: np.ndarray, queries: np.ndarray, k: int, device, *,
                        memory_bytes: int, candidates: FaissCandidates | None = None
                        ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(start, sims, idx)`` for blocks of queries: FAISS's exact neighbours (see the
    module doc). ``bank`` and ``queries`` are L2-normalised float32, ``1 <= k <= len(bank)``;
    ``memory_bytes`` bounds each block's similarity matrix on the device; ``candidates``
    (default: torch) proposes the float32 candidates."""
    device = torch.device(device)
    n, dim = bank.shape
    with full_fp32():
        bank_t = torch.from_numpy(np.ascontiguousarray(bank)).to(device)
        search = _Search(bank, bank_t, k, float32_dot_error(dim), memory_bytes,
                         candidates or TorchCandidates(bank_t))
        # Per query: its similarity row and top-k's workspace of the same size.
        block = max(1, min(len(queries), memory_bytes // (8 * n)))
        for start in range(0, len(queries), block):
            q_np = np.ascontiguousarray(queries[start : start + block])
            sims, idx = search.block(q_np)
            yield start, sims, idx


class _Search:
    def __init__(self, bank: np.ndarray, bank_t: torch.Tensor, k: int, delta: float,
                 memory_bytes: int, candidates):
        self.bank, self.bank_t, self.k, self.delta = bank, bank_t, k, delta
        self.memory_bytes = memory_bytes
        self.candidates = candidates
        self.width = min(len(bank), k + candidate_margin(k))
        self._faiss_cpu = None

    def block(self, q_np: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = torch.from_numpy(q_np).to(self.bank_t.device)
        source = self.candidates
        if isinstance(source, FaissCandidates) and self.width > source.max_k:
            source = TorchCandidates(self.bank_t)  # beyond faiss-gpu's selection limit
        vals, ids, scores = source.top(q, q_np, self.width)
        try:
            sims, idx, tied = self._rerank(q, ids, vals)
        except _RoundingError as e:
            if source.name == "torch":
                raise RuntimeError(f"kNN search: {e}; float32 products on "
                                   f"{self.bank_t.device} are not IEEE float32") from None
            warnings.warn(f"kNN search: {e} from {source.name}'s candidates (reduced-precision "
                          "products?); searching with torch instead", RuntimeWarning,
                          stacklevel=4)
            self.candidates = source = TorchCandidates(self.bank_t)
            vals, ids, scores = source.top(q, q_np, self.width)
            sims, idx, tied = self._rerank(q, ids, vals)
        self._widen(q, vals, scores, sims, idx, tied)
        sims, idx = sims.cpu().numpy(), idx.cpu().numpy().astype(np.int64)
        rows = np.flatnonzero(tied.cpu().numpy())
        if len(rows):
            sims[rows], idx[rows] = self._faiss_on_cpu(q_np[rows])
        return sims, idx

    def _widen(self, q, vals, scores, sims, idx, tied) -> None:
        """Rerank again, from every row within 2 delta of the k-th, the queries whose
        last candidate is still that close (many equal or nearly equal rows)."""
        if self.width >= len(self.bank):
            return
        floor = vals[:, self.k - 1] - 2 * self.delta
        rows = torch.nonzero(vals[:, -1] >= floor).flatten()
        if rows.numel() == 0:
            return
        row_scores = scores[rows] if scores is not None else q[rows] @ self.bank_t.T
        width = int((row_scores >= floor[rows, None]).sum(dim=1).max())
        more_vals, more_ids = torch.topk(row_scores, width, dim=1)
        sims[rows], idx[rows], tied[rows] = self._rerank(q[rows], more_ids, more_vals)

    def _rerank(self, q, cand, vals):
        """float32 sims (b, k), ids (b, k) and whether the k-th ties with the next, from
        the candidates ``cand`` (b, w) ordered by float64 similarity, then id descending."""
        b, w = cand.shape
        exact = torch.empty(b, w, dtype=torch.float64, device=q.device)
        # gather + product + sum: about 20 bytes per candidate coordinate
        chunk = max(1, self.memory_bytes // (20 * w * q.shape[1]))
        for s in range(0, b, chunk):
            rows = self.bank_t[cand[s : s + chunk]].double()
            exact[s : s + chunk] = (rows * q[s : s + chunk, None, :].double()).sum(dim=-1)
        error = float((vals.double() - exact).abs().max())
        if error > self.delta:
            raise _RoundingError(f"float32 similarities off by {error:.3g} (bound "
                                 f"{self.delta:.3g})")
        by_id = torch.sort(cand, dim=1, descending=True, stable=True).indices
        cand, exact = cand.gather(1, by_id), exact.gather(1, by_id)
        by_sim = torch.sort(exact, dim=1, descending=True, stable=True).indices
        cand, exact = cand.gather(1, by_sim), exact.gather(1, by_sim)
        k = self.k
        tied = (exact[:, k - 1] == exact[:, k] if w > k
                else torch.zeros(b, dtype=torch.bool, device=q.device))
        return exact[:, :k].float(), cand[:, :k], tied

    def _faiss_on_cpu(self, q_np: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's own answer for queries whose k-th neighbour ties with the next."""
        import faiss

        if self._faiss_cpu is None:
            self._faiss_cpu = faiss.IndexFlatIP(self.bank.shape[1])
            self._faiss_cpu.add(np.ascontiguousarray(self.bank, dtype=np.float32))
        return self._faiss_cpu.search(np.ascontiguousarray(q_np), self.k)


class _RoundingError(ValueError):
    pass
