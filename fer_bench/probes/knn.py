"""Weighted k-nearest-neighbour probe on L2-normalised features.

Defaults follow the instance-discrimination kNN monitor of Wu et al. 2018 ("Unsupervised
Feature Learning via Non-Parametric Instance Discrimination", CVPR, sec. 3.4: k=200 there)
as adopted by DINO (Caron et al. 2021, "Emerging Properties in Self-Supervised Vision
Transformers", eval_knn.py): cosine similarity, the k=20 nearest bank samples each vote
for their class with weight ``exp(sim / T)``, T=0.07.

Search is exact by default (FAISS ``IndexFlatIP``, the headline number); IVF and HNSW
indexes are offered for banks of millions, where exact search becomes the bottleneck.
Queries are processed in blocks whose size comes from a memory budget, never from a fixed
number of blocks, so a 5-image fold and a 300k-image test set both work.

On a GPU (``device`` a CUDA device) exact search runs there, with faiss-gpu's flat index
when installed and a torch matmul otherwise, and returns FAISS's CPU neighbours: the same
ids in the same order, ties included (:mod:`fer_bench.probes.knn_device` says how, and
the one case it cannot match: different rows within float32 rounding of each other).
IVF and HNSW always run on the CPU.

As a probe object (:mod:`fer_bench.probes.base`): :class:`KnnProbe` (``knn``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from fer_bench.probes.base import Probe, register_probe
from fer_bench.probes.ivf import BatchedIVF, default_nlist
from fer_bench.probes.normalize import l2_normalize

DEFAULT_K = 20
DEFAULT_T = 0.07
DEFAULT_KS = (1, 10, 20, 100, 200)
INDEX_KINDS = ("flat", "ivf", "hnsw")
BACKENDS = ("auto", "faiss", "torch", "faiss-gpu")  # see search_engine()
DEFAULT_MEMORY_BYTES = 256 * 2**20

# exp(sim / T) with sim <= 1 must stay finite in float64 (exp(709) is the limit).
_MIN_T = 1.0 / 700.0


def clamp_k(k: int, bank_size: int) -> int:
    """The number of neighbours actually used: ``k`` capped at the bank size."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if bank_size < 1:
        raise ValueError("the kNN bank is empty")
    return min(int(k), int(bank_size))


def build_index(
    bank_X: np.ndarray,
    index_kind: str = "flat",
    *,
    nlist: int | None = None,
    hnsw_m: int = 32,
    seed: int = 1234,
) -> faiss.Index | BatchedIVF:
    """A FAISS inner-product index over ``bank_X`` (already L2-normalised, float32).

    ``ivf``: :class:`~fer_bench.probes.ivf.BatchedIVF`, ``nlist`` spherical k-means cells
    (default ``sqrt(n)``) searched a cell at a time with matrix products.
    ``hnsw``: ``IndexHNSWFlat`` with ``hnsw_m`` links per node.
    """
    if index_kind not in INDEX_KINDS:
        raise ValueError(f"unknown index_kind {index_kind!r}; expected one of {INDEX_KINDS}")
    bank = np.ascontiguousarray(bank_X, dtype=np.float32)
    n, d = bank.shape
    if index_kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif index_kind == "ivf":
        return BatchedIVF(bank, nlist or default_nlist(n), seed=seed)
    else:
        index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.add(bank)
    return index


def _query_block_size(n_queries: int, bytes_per_query: int, memory_bytes: int) -> int:
    if memory_bytes <= 0:
        raise ValueError(f"memory_bytes must be positive, got {memory_bytes}")
    return max(1, min(n_queries, memory_bytes // max(1, bytes_per_query)))


def search_index(
    index,
    query_X: np.ndarray,
    k: int,
    *,
    nprobe: int | None = None,
    ef_search: int | None = None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
):
    """Yield ``(start, sims, idx)`` for blocks of queries searched against ``index``.

    The block size bounds the per-query results and the query copy to ``memory_bytes``
    (FAISS's own similarity tile is a fixed 4096 x 1024 floats). ``nprobe`` (IVF cells
    visited) and ``ef_search`` (HNSW beam width) trade recall for speed.
    """
    queries = np.asarray(query_X, dtype=np.float32)
    k = clamp_k(k, index.ntotal)
    if nprobe is not None and hasattr(index, "nprobe"):
        index.nprobe = int(nprobe)
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = int(ef_search if ef_search is not None else max(2 * k, 64))
    # Per query: its float32 copy, the k float32 sims + int64 ids, the ~4 float64 arrays
    # of length k that the vote computation makes from them, and for IVF the nprobe * k
    # candidates gathered before the final selection.
    per_query = queries.shape[1] * 4 + k * (12 + 32) + getattr(index, "nprobe", 0) * k * 12
    block = _query_block_size(len(queries), per_query, memory_bytes)
    for start in range(0, len(queries), block):
        chunk = np.ascontiguousarray(queries[start : start + block])
        sims, idx = index.search(chunk, k)
        yield start, sims, idx


def _on_cpu(device) -> bool:
    return device is None or str(device).split(":")[0] == "cpu"


def search_engine(backend: str, index_kind: str, device) -> str:
    """Which search runs: "faiss" (CPU), "torch" or "faiss-gpu" (exact, on ``device``).

    ``backend`` "auto": FAISS on the CPU when ``device`` is None or the CPU (and for IVF
    and HNSW on any device), else faiss-gpu when it is installed, else torch. "torch" on
    the CPU runs the GPU code path there (tests, comparisons)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown kNN backend {backend!r}; expected one of {BACKENDS}")
    if index_kind not in INDEX_KINDS:
        raise ValueError(f"unknown index_kind {index_kind!r}; expected one of {INDEX_KINDS}")
    if index_kind != "flat":
        if backend not in ("auto", "faiss"):
            raise ValueError(f"index_kind {index_kind!r} is searched by FAISS on the CPU; "
                             f"backend {backend!r} offers exact (flat) search only")
        return "faiss"
    if backend == "auto":
        if _on_cpu(device):
            return "faiss"
        from fer_bench.probes import gpu_faiss
        return "faiss-gpu" if gpu_faiss.available() else "torch"
    if backend == "faiss-gpu":
        from fer_bench.probes import gpu_faiss
        if _on_cpu(device) or not gpu_faiss.available():
            raise ValueError("backend 'faiss-gpu' needs a CUDA device and faiss with GPU "
                             "support (pip install -e \".[gpu]\")")
    return backend


def _search_blocks(bank, queries, k, index_kind, device, memory_bytes, backend="auto",
                   **search_options):
    k = clamp_k(k, len(bank))
    engine = search_engine(backend, index_kind, device)
    if engine == "faiss":
        index = build_index(bank, index_kind)
        yield from search_index(index, queries, k, memory_bytes=memory_bytes, **search_options)
        return
    from fer_bench.probes import knn_device

    device = "cpu" if device is None else device
    candidates = None
    if engine == "faiss-gpu":
        import torch

        from fer_bench.probes import gpu_faiss
        candidates = knn_device.FaissCandidates(gpu_faiss.gpu_flat_index(bank, device),
                                                torch.device(device), gpu_faiss.MAX_K)
    yield from knn_device.exact_search_blocks(bank, queries, k, device,
                                              memory_bytes=memory_bytes, candidates=candidates)


def knn_search(
    bank_X: np.ndarray,
    query_X: np.ndarray,
    k: int,
    *,
    index_kind: str = "flat",
    device=None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    backend: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities and bank indices of the ``k`` nearest bank rows of each query.

    Both sides are L2-normalised here, so the inner product is the cosine similarity.
    Returns ``sims`` (Nq, k') float32 in decreasing order and ``idx`` (Nq, k') int64, with
    ``k' = min(k, bank size)``. ``device`` set to a CUDA device runs exact search there
    with FAISS's CPU answer (module doc); ``backend`` picks the engine (:func:`search_engine`).
    """
    bank = l2_normalize(bank_X)
    queries = l2_normalize(query_X)
    _check_same_dim(bank, queries)
    k = clamp_k(k, len(bank))
    sims = np.empty((len(queries), k), dtype=np.float32)
    idx = np.empty((len(queries), k), dtype=np.int64)
    for start, s, i in _search_blocks(bank, queries, k, index_kind, device, memory_bytes,
                                      backend):
        sims[start : start + len(s)] = s
        idx[start : start + len(i)] = i
    return sims, idx


def weighted_knn_scores(
    sims: np.ndarray,
    idx: np.ndarray,
    bank_y: np.ndarray,
    n_classes: int,
    T: float = DEFAULT_T,
) -> np.ndarray:
    """Class scores (Nq, n_classes): each neighbour adds ``exp(sim / T)`` to its class.

    The column count is the declared ``n_classes``, so a class with no bank sample (or
    no neighbour) still has a zero column. Neighbour slots marked ``-1`` (an approximate
    index that found fewer than k) vote for nothing.
    """
    if not T >= _MIN_T:
        raise ValueError(f"temperature T must be >= {_MIN_T:.4g} (exp(1/T) overflows), got {T}")
    sims = np.asarray(sims, dtype=np.float64)
    idx = np.asarray(idx)
    bank_y = _check_bank_labels(bank_y, n_classes)
    if sims.shape != idx.shape or sims.ndim != 2:
        raise ValueError(f"sims and idx must be 2-D of one shape, got {sims.shape}, {idx.shape}")
    valid = idx >= 0
    weights = np.where(valid, np.exp(sims / T), 0.0)
    labels = bank_y[np.where(valid, idx, 0)]
    rows = np.arange(len(idx))[:, None] * n_classes
    scores = np.bincount(
        (rows + labels).ravel(), weights=weights.ravel(), minlength=len(idx) * n_classes
    )
    return scores.reshape(len(idx), n_classes)


def knn_probe(
    bank_X: np.ndarray,
    bank_y: np.ndarray,
    query_X: np.ndarray,
    n_classes: int,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    T: float = DEFAULT_T,
    index_kind: str = "flat",
    device=None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    backend: str = "auto",
) -> dict[int, np.ndarray]:
    """Weighted-kNN predictions of every query for each k in ``ks``.

    One search with the largest k (clamped to the bank size) serves every k: the first k
    columns of the sorted neighbour list are the k nearest. Keys are the requested k;
    a k above the bank size uses the whole bank (see :func:`clamp_k`). Ties between class
    scores go to the lowest class index. ``device`` and ``backend``: see :func:`knn_search`.
    """
    if not ks:
        raise ValueError("ks must name at least one k")
    bank = l2_normalize(bank_X)
    queries = l2_normalize(query_X)
    _check_same_dim(bank, queries)
    bank_y = _check_bank_labels(bank_y, n_classes)
    if len(bank_y) != len(bank):
        raise ValueError(f"bank has {len(bank)} rows but {len(bank_y)} labels")
    k_max = clamp_k(max(ks), len(bank))
    predictions = {k: np.empty(len(queries), dtype=np.int64) for k in ks}
    for start, sims, idx in _search_blocks(bank, queries, k_max, index_kind, device, memory_bytes,
                                           backend):
        for k in ks:
            kk = clamp_k(k, len(bank))
            scores = weighted_knn_scores(sims[:, :kk], idx[:, :kk], bank_y, n_classes, T)
            predictions[k][start : start + len(sims)] = scores.argmax(axis=1)
    return predictions


def _check_same_dim(bank: np.ndarray, queries: np.ndarray) -> None:
    if bank.shape[1] != queries.shape[1]:
        raise ValueError(
            f"bank features have dimension {bank.shape[1]} but queries have {queries.shape[1]}"
        )
    if len(bank) == 0:
        raise ValueError("the kNN bank is empty")


def _check_bank_labels(bank_y, n_classes: int) -> np.ndarray:
    bank_y = np.asarray(bank_y)
    if bank_y.ndim != 1 or not np.issubdtype(bank_y.dtype, np.integer):
        raise ValueError(f"bank labels must be a 1-D integer array, got {bank_y.dtype} "
                         f"{bank_y.shape}")
    if len(bank_y) and (bank_y.min() < 0 or bank_y.max() >= n_classes):
        raise ValueError(
            f"bank labels must lie in [0, {n_classes}), got min {bank_y.min()} max {bank_y.max()}"
        )
    return bank_y.astype(np.int64)


@register_probe
@dataclass
class KnnProbe(Probe):
    """``knn``: :func:`knn_probe` as a probe object. Fitting keeps the training rows as
    the bank (no validation, nothing tuned, no seed: deterministic); predictions are at the
    headline ``k``, and every k of ``ks`` is logged beside it (:meth:`variant_predictions`,
    one search serves them all)."""

    name = "knn"
    fit_dependent = ("k_effective",)
    variants_key = "by_k"

    k: int = DEFAULT_K
    T: float = DEFAULT_T
    ks: tuple[int, ...] = ()                 # other k logged (never chosen among)
    index_kind: str = "flat"
    device: Any = None
    bank: tuple | None = field(default=None, init=False, repr=False)   # (X, y, n_classes)
    _last: tuple | None = field(default=None, init=False, repr=False)  # (queries, by k)

    @property
    def all_ks(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.ks) | {self.k}))

    def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0) -> KnnProbe:
        clamp_k(self.k, len(X))
        self.bank, self._last = (X, np.asarray(y), int(n_classes)), None
        return self

    def _by_k(self, X) -> dict[int, np.ndarray]:
        """Predictions at every k of :attr:`all_ks` (the last queries' are kept)."""
        bank_X, bank_y, n_classes = self._require_fitted("bank")
        if self._last is None or self._last[0] is not X:
            predictions = knn_probe(bank_X, bank_y, X, n_classes, ks=self.all_ks, T=self.T,
                                    index_kind=self.index_kind, device=self.device)
            self._last = (X, predictions)
        return self._last[1]

    def predict(self, X) -> np.ndarray:
        return self._by_k(X)[self.k]

    def scores(self, X) -> np.ndarray:
        """Weighted votes (N, n_classes) of the headline k nearest bank rows."""
        bank_X, bank_y, n_classes = self._require_fitted("bank")
        sims, idx = knn_search(bank_X, X, self.k, index_kind=self.index_kind,
                               device=self.device)
        return weighted_knn_scores(sims, idx, bank_y, n_classes, self.T)

    def hyperparameters(self) -> dict:
        bank_X = self._require_fitted("bank")[0]
        return {"k": self.k, "k_effective": clamp_k(self.k, len(bank_X)), "T": self.T}

    def variant_predictions(self, X) -> dict[str, tuple[np.ndarray, dict]]:
        n_bank = len(self._require_fitted("bank")[0])
        return {str(k): (predictions, {"k_effective": clamp_k(k, n_bank)})
                for k, predictions in self._by_k(X).items()}
