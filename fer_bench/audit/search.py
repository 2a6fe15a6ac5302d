"""Candidate pairs: each image's nearest neighbours, found with FAISS, never all pairs.

Every image is a query against all images of the audit (all splits and datasets pooled):
its ``k`` nearest by correlation of thumbnails, by cosine of encoder features (both
inner-product searches of :func:`fer_bench.probes.knn.knn_search`: exact, or an IVF
index above ``IVF_ABOVE`` images), and by Hamming distance of hashes (FAISS binary flat
index). Byte-identical files are paired from their content digests. A pair is kept once,
as (i, j) with i < j.
"""
from __future__ import annotations

import faiss
import numpy as np

from fer_bench.datasets.file_digests import MISSING
from fer_bench.probes.knn import knn_search

IVF_ABOVE = 200_000    # exact search below: 36k FERPlus images take a minute on 2 cores


def unique_pairs(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(P, 2) int64 pairs, smaller index first, no self pairs, each once, sorted."""
    i, j = np.asarray(i, np.int64).ravel(), np.asarray(j, np.int64).ravel()
    keep = (i != j) & (i >= 0) & (j >= 0)
    pairs = np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)[keep]
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def _self_excluded(idx: np.ndarray) -> np.ndarray:
    rows = np.repeat(np.arange(len(idx)), idx.shape[1])
    return unique_pairs(rows, idx.ravel())


def inner_product_pairs(X: np.ndarray, k: int) -> np.ndarray:
    """Pairs of each row with its ``k`` nearest other rows by cosine similarity."""
    if len(X) < 2:
        return np.zeros((0, 2), np.int64)
    kind = "ivf" if len(X) > IVF_ABOVE else "flat"
    _, idx = knn_search(X, X, min(k + 1, len(X)), index_kind=kind)
    return _self_excluded(idx)


def hash_pairs(codes: np.ndarray, k: int) -> np.ndarray:
    """Pairs of each packed 64-bit hash with its ``k`` nearest others by Hamming distance."""
    if len(codes) < 2:
        return np.zeros((0, 2), np.int64)
    index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
    index.add(np.ascontiguousarray(codes, np.uint8))
    _, idx = index.search(np.ascontiguousarray(codes, np.uint8), min(k + 1, len(codes)))
    return _self_excluded(idx)


def same_bytes_pairs(digests: list[str], files: list[str], groups: list[str]) -> np.ndarray:
    """Pairs of rows whose files are different files with the same bytes.

    Rows reading one file (rows of a CSV, faces of one photo) are never paired by it. A
    file copied n times would give n^2 pairs; instead every copy is paired with the first
    copy in each ``groups`` value (dataset and split) and the first with the second of its
    own, which is enough to say of every copy which splits hold another.
    """
    by_digest: dict[str, list[int]] = {}
    for row, digest in enumerate(digests):
        if digest != MISSING:
            by_digest.setdefault(digest, []).append(row)
    i, j = [], []
    for rows in by_digest.values():
        if len({files[r] for r in rows}) < 2:
            continue
        firsts: dict[str, list[int]] = {}
        for r in rows:
            firsts.setdefault(groups[r], []).append(r)
        heads = [members[0] for members in firsts.values()]
        for r in rows:
            for head in heads:
                if files[r] != files[head]:
                    i.append(r)
                    j.append(head)
        for members in firsts.values():
            others = [r for r in members[1:] if files[r] != files[members[0]]]
            if others:
                i.append(members[0])
                j.append(others[0])
    return unique_pairs(np.array(i, np.int64), np.array(j, np.int64))
