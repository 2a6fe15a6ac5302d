"""Candidate pairs -> the pairs table: every similarity measure of each pair, and the
stage that calls it a duplicate.

Stages, strongest first (a pair is named by the first it passes):

- ``exact``: two different files with the same bytes (their sha256 content digests);
- ``perceptual``: thumbnail correlation >= ``settings.correlation`` (copies re-encoded,
  brightened, turned grey, ...);
- ``aligned``: aligned correlation >= ``settings.aligned`` (crops and shifts; the pair
  found by the thumbnail, hash or encoder-feature search).

Pairs that pass none keep an empty stage; only those with a measure at or above
``REPORT_FLOOR`` are kept, so that counts can be read at lower levels too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fer_bench.audit.align import refined_aligned_correlation
from fer_bench.audit.items import AuditItems, split_rank
from fer_bench.audit.settings import REPORT_FLOOR, AuditSettings
from fer_bench.audit.thumbnails import hamming

STAGES = ("exact", "perceptual", "aligned")
COLUMNS = ["id_a", "dataset_a", "split_a", "id_b", "dataset_b", "split_b", "stage",
           "correlation", "aligned_correlation", "hamming", "cosine", "same_bytes",
           "found_by"]


def _rowwise_dot(X: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 65536
                 ) -> np.ndarray:
    out = np.empty(len(i), np.float32)
    for s in range(0, len(i), chunk):
        out[s:s + chunk] = np.einsum("nd,nd->n", X[i[s:s + chunk]], X[j[s:s + chunk]])
    return out


def stage_of(same_bytes: np.ndarray, correlation: np.ndarray, aligned: np.ndarray,
             settings: AuditSettings) -> np.ndarray:
    """The stage naming each pair ("" for none)."""
    return np.select([same_bytes, correlation >= settings.correlation,
                      aligned >= settings.aligned], list(STAGES), default="")


def order_rank(table: pd.DataFrame) -> np.ndarray:
    """Each item's place in (split, dataset, row) order: its group's place times
    len(table) plus its row, so ``// len(table)`` gives the group."""
    groups = list(dict.fromkeys(zip(table["split"], table["dataset"])))
    groups.sort(key=lambda g: split_rank(g[0]))      # stable: datasets keep their order
    group_of = {g: n for n, g in enumerate(groups)}
    group = np.array([group_of[g] for g in zip(table["split"], table["dataset"])], np.int64)
    return group * len(table) + np.arange(len(table))


def measure_pairs(items: AuditItems, candidates: dict[str, np.ndarray], *,
                  correlation_vectors: np.ndarray, squares: np.ndarray, codes: np.ndarray,
                  unit_features: np.ndarray, settings: AuditSettings) -> pd.DataFrame:
    """The pairs table of ``candidates`` (search name -> (P, 2) pairs), oriented so that
    side a comes first in (split, dataset, row) order ("train" before "test"), the
    closest pairs first within each split pair."""
    found: dict[tuple[int, int], set[str]] = {}
    for name, pairs in candidates.items():
        for i, j in pairs.tolist():
            found.setdefault((i, j), set()).add(name)
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    ij = np.array(list(found), np.int64)
    i, j = ij[:, 0], ij[:, 1]
    correlation = _rowwise_dot(correlation_vectors, i, j)
    aligned = refined_aligned_correlation(squares, i, j, settings.refine_above)
    digests = np.asarray(items.digests, object)
    files = np.asarray(items.files, object)
    same_bytes = (digests[i] == digests[j]) & (files[i] != files[j])
    keep = same_bytes | (correlation >= REPORT_FLOOR) | (aligned >= REPORT_FLOOR)
    i, j = i[keep], j[keep]
    rank = order_rank(items.table)
    first = rank[i] <= rank[j]
    a, b = np.where(first, i, j), np.where(first, j, i)
    t = items.table
    frame = pd.DataFrame({
        "id_a": t["id"].to_numpy()[a], "dataset_a": t["dataset"].to_numpy()[a],
        "split_a": t["split"].to_numpy()[a],
        "id_b": t["id"].to_numpy()[b], "dataset_b": t["dataset"].to_numpy()[b],
        "split_b": t["split"].to_numpy()[b],
        "stage": stage_of(same_bytes[keep], correlation[keep], aligned[keep], settings),
        # float64 rounded: the same values after a CSV round trip (the cache)
        "correlation": correlation[keep].astype(np.float64).round(5),
        "aligned_correlation": aligned[keep].astype(np.float64).round(5),
        "hamming": hamming(codes[i], codes[j]),
        "cosine": _rowwise_dot(unit_features, i, j).astype(np.float64).round(5),
        "same_bytes": same_bytes[keep],
        "found_by": [";".join(sorted(found[(x, y)])) for x, y in zip(i.tolist(), j.tolist())]})
    n = len(t)
    order = np.lexsort((-frame["aligned_correlation"].to_numpy(),
                        -frame["correlation"].to_numpy(), rank[b] // n, rank[a] // n))
    return frame.iloc[order].reset_index(drop=True)
