"""What an audit says: per pair of splits, how many items have a duplicate at each level,
and which test items to drop for a score on a deduplicated test set.

Pairs are oriented (side a before side b in split order), so "train-test" counts the
*test* items that have a partner in train, out of all test items; within one split
("train-train") both sides count.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from fer_bench.audit.items import split_rank
from fer_bench.audit.run import AuditResult
from fer_bench.audit.settings import NEAR_EXACT, AuditSettings

NEAR_DUPLICATE = "near-duplicate"     # any stage: what near_duplicate_test_items uses


def levels(pairs: pd.DataFrame, settings: AuditSettings) -> dict[str, np.ndarray]:
    """Level name -> which pairs reach it; the last is any stage."""
    corr = pairs["correlation"].to_numpy(float)
    aligned = pairs["aligned_correlation"].to_numpy(float)
    return {"same bytes": pairs["same_bytes"].to_numpy(bool),
            f"corr>={NEAR_EXACT:g}": corr >= NEAR_EXACT,
            f"corr>={settings.correlation:g}": corr >= settings.correlation,
            f"aligned>={settings.aligned:g}": aligned >= settings.aligned,
            NEAR_DUPLICATE: (pairs["stage"] != "").to_numpy()}


def _groups(sizes: pd.DataFrame) -> list[tuple[str, str, int]]:
    rows = sorted(enumerate(sizes.itertuples(index=False)),
                  key=lambda r: (split_rank(r[1].split), r[0]))
    return [(r.dataset, r.split, int(r.n)) for _, r in rows]


def split_pair_counts(result: AuditResult) -> pd.DataFrame:
    """One row per pair of (dataset, split) groups, in split order: ``dataset_a,
    split_a, dataset_b, split_b, items`` (side b's images) and, per level, the number of
    side-b items (both sides within one group) with a partner at that level."""
    pairs = result.pairs
    hits = levels(pairs, result.settings)
    groups = _groups(result.sizes)
    rows = []
    for x, (da, sa, _) in enumerate(groups):
        for db, sb, nb in groups[x:]:
            sel = ((pairs["dataset_a"] == da) & (pairs["split_a"] == sa)
                   & (pairs["dataset_b"] == db) & (pairs["split_b"] == sb)).to_numpy()
            row = {"dataset_a": da, "split_a": sa, "dataset_b": db, "split_b": sb, "items": nb}
            for name, hit in hits.items():
                chosen = pairs[sel & hit]
                ids = set(chosen["id_b"])
                if (da, sa) == (db, sb):
                    ids |= set(chosen["id_a"])
                row[name] = len(ids)
            rows.append(row)
    return pd.DataFrame(rows)


def _label(row, one_dataset: bool) -> tuple[str, str]:
    if one_dataset:
        return row["split_a"], row["split_b"]
    return f"{row['dataset_a']}/{row['split_a']}", f"{row['dataset_b']}/{row['split_b']}"


def summary_lines(result: AuditResult) -> list[str]:
    """The counts as people read them: a table of every level, then one sentence per
    pair of splits (near-duplicates: any stage)."""
    counts = split_pair_counts(result)
    one = result.sizes["dataset"].nunique() == 1
    names = list(levels(result.pairs.head(0), result.settings))
    table = []
    for _, row in counts.iterrows():
        a, b = _label(row, one)
        cells = {"pair": f"{a}-{b}", "items": f"{row['items']:,}"}
        for name in names:
            share = row[name] / row["items"] if row["items"] else 0.0
            cells[name] = f"{row[name]:,} ({share:.1%})"
        table.append(cells)
    widths = {c: max(len(c), *(len(r[c]) for r in table)) for c in table[0]}
    lines = ["  ".join(c.ljust(widths[c]) for c in widths).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in widths).rstrip() for r in table]
    lines.append("")
    for _, row in counts.iterrows():
        a, b = _label(row, one)
        n, items = row[NEAR_DUPLICATE], row["items"]
        other = "another near-duplicate" if a == b else "a near-duplicate"
        lines.append(f"{a}-{b}: {n:,} {row['split_b']} items have {other} in {a} "
                     f"({n / items if items else 0:.1%})")
    return lines


def near_duplicate_test_items(result: AuditResult | pd.DataFrame, dataset: str, *,
                              test_split: str = "test",
                              against: Iterable[str] = ("train", "val"),
                              against_datasets: Iterable[str] | None = None) -> set[str]:
    """Ids of ``dataset``'s ``test_split`` items that have a near-duplicate (any stage)
    among the ``against`` splits of ``against_datasets`` (default: ``dataset`` alone).
    ``result``: an :class:`AuditResult` or its ``duplicates`` table."""
    pairs = result.duplicates if isinstance(result, AuditResult) else result
    pairs = pairs[pairs["stage"] != ""]
    against = set(against)
    others = {dataset} if against_datasets is None else set(against_datasets)
    found: set[str] = set()
    for mine, theirs in (("b", "a"), ("a", "b")):
        is_test = (pairs[f"dataset_{mine}"] == dataset) & (pairs[f"split_{mine}"] == test_split)
        is_against = (pairs[f"dataset_{theirs}"].isin(others)
                      & pairs[f"split_{theirs}"].isin(against))
        found |= set(pairs.loc[is_test & is_against, f"id_{mine}"])
    return found
