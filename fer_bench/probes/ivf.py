"""Inverted-file (IVF) inner-product index searched one cell at a time.

FAISS's CPU ``IndexIVFFlat`` scans each query's lists separately: every probed vector is
read from memory for one query, so search is bound by memory bandwidth and at a few
hundred thousand vectors it is barely faster than exact search (which reuses each bank
vector across a block of queries inside one matrix product). Here the cells are the same
(FAISS spherical k-means), but the queries are grouped by the cells they probe and each
cell is scored against its whole group with one matrix product, so approximate search runs
at matrix-product speed too. The neighbours found are exactly the nearest among the
probed cells, like FAISS's.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np
from threadpoolctl import threadpool_limits


def default_nlist(n: int) -> int:
    """sqrt(n) cells of about sqrt(n) rows: balances centroid scoring against cell scans."""
    return max(1, min(int(math.sqrt(n)), n // 39))  # FAISS k-means wants >= 39 points a cell


def default_nprobe(nlist: int) -> int:
    """Visit 1/64 of the cells, at least 8: >= 0.99 recall@20 on the clustered benchmark
    data (scripts/bench_probes.py); tune it on your own features when recall matters."""
    return min(nlist, max(8, math.ceil(nlist / 64)))


class BatchedIVF:
    """IVF over L2-normalised float32 rows; ``nprobe`` cells are visited per query."""

    def __init__(self, bank: np.ndarray, nlist: int, *, seed: int = 1234, niter: int = 10):
        bank = np.ascontiguousarray(bank, dtype=np.float32)
        n, d = bank.shape
        kmeans = faiss.Kmeans(d, nlist, niter=niter, spherical=True, seed=seed,
                              max_points_per_centroid=64)
        kmeans.train(bank)
        # Unit queries: the largest inner product with a unit centroid is the nearest cell.
        self.quantizer = faiss.IndexFlatIP(d)
        self.quantizer.add(kmeans.centroids)
        cell = self._assign(bank, 1)[:, 0]
        self.order = np.argsort(cell, kind="stable")  # bank rows grouped by cell
        self.vectors = bank[self.order]  # its own copy, like FAISS's inverted lists
        self.offsets = np.searchsorted(cell[self.order], np.arange(nlist + 1))
        self.nlist, self.ntotal, self.d = nlist, n, d
        self.nprobe = default_nprobe(nlist)
        self.threads = faiss.omp_get_max_threads()  # the same thread budget as FAISS

    def _assign(self, X: np.ndarray, n_cells: int) -> np.ndarray:
        return self.quantizer.search(X, n_cells)[1]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(sims, ids)`` of the k best bank rows among each query's ``nprobe`` nearest
        cells, in decreasing similarity; ``-inf`` / ``-1`` fill slots when those cells hold
        fewer than k rows."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        nq, nprobe = len(queries), min(self.nprobe, self.nlist)
        probes = self._assign(queries, nprobe)  # (nq, nprobe)
        cand_sims = np.full((nq, nprobe * k), -np.inf, dtype=np.float32)
        cand_ids = np.full((nq, nprobe * k), -1, dtype=np.int64)
        # Every (query, probe rank) pair, grouped by cell.
        flat = probes.ravel()
        by_cell = np.argsort(flat, kind="stable")
        bounds = np.searchsorted(flat[by_cell], np.arange(self.nlist + 1))

        def score_cell(cell: int) -> None:
            lo, hi = self.offsets[cell], self.offsets[cell + 1]
            if hi == lo:
                return
            pairs = by_cell[bounds[cell] : bounds[cell + 1]]
            rows, rank = pairs // nprobe, pairs % nprobe
            sims = queries[rows] @ self.vectors[lo:hi].T
            kk = min(k, hi - lo)
            if kk < hi - lo:
                top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
            else:
                top = np.broadcast_to(np.arange(kk), (len(rows), kk))
            cols = rank[:, None] * k + np.arange(kk)  # each (query, rank) owns its slots
            cand_sims[rows[:, None], cols] = np.take_along_axis(sims, top, axis=1)
            cand_ids[rows[:, None], cols] = self.order[lo + top]

        # The products are small, so parallelise over cells with single-threaded BLAS:
        # multi-threaded BLAS on many small products mostly waits at its barriers.
        cells = np.flatnonzero(np.diff(bounds))
        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(score_cell, cells))
        if cand_sims.shape[1] > k:
            keep = np.argpartition(-cand_sims, k - 1, axis=1)[:, :k]
            cand_sims = np.take_along_axis(cand_sims, keep, axis=1)
            cand_ids = np.take_along_axis(cand_ids, keep, axis=1)
        best = np.argsort(-cand_sims, axis=1, kind="stable")
        return (np.take_along_axis(cand_sims, best, axis=1),
                np.take_along_axis(cand_ids, best, axis=1))
