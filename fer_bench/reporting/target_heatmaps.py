"""Per-target views of the action-unit records: encoders x AUs heatmaps of one score
(F1 of occurrence, ICC of intensity), one per dataset: which AUs an encoder keeps and
which it loses (a model of categories often keeps AU12 and loses the brow AUs).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.records.schema import ResultRecord
from fer_bench.reporting.results import record_label
from fer_bench.reporting.style import MAX_WIDTH_IN, display_names, styled, text_inches
from fer_bench.target_metrics import format_score

# Protocols whose records hold per-target scores in details["per_target"].
TARGET_PROTOCOLS = ("au", "valence-arousal", "head-pose", "expression-intensity")


def per_target_frame(records: Sequence[tuple[Path, ResultRecord]],
                     protocol: str = "au") -> pd.DataFrame:
    """One row per (record, target, score) of ``protocol``'s records: encoder, dataset,
    target, score name, value."""
    rows = []
    for _, r in records:
        if r.protocol != protocol:
            continue
        for target, scores in r.details.get("per_target", {}).items():
            for score, value in scores.items():
                rows.append({"encoder": record_label(r), "dataset": r.target,
                             "target": target, "score": score, "value": value,
                             "order": r.class_set.index(target) if target in r.class_set
                             else len(r.class_set)})
    return pd.DataFrame(rows, columns=["encoder", "dataset", "target", "score", "value",
                                       "order"])


@styled
def target_heatmap(frame: pd.DataFrame, score: str, title: str):
    """Encoders (rows, best mean on top) x targets (columns, in record order) of one
    ``score`` on one dataset, each cell printed. Returns the figure."""
    rows = frame[frame["score"] == score]
    table = rows.pivot_table(index="encoder", columns="target", values="value")
    order = rows.drop_duplicates("target").sort_values("order")["target"].tolist()
    table = table.reindex(columns=order)
    table = table.loc[table.mean(axis=1).sort_values(ascending=False, kind="stable").index]
    names = display_names(table.index)
    label_in = max(text_inches(n) for n in names.values()) + 0.3
    width = min(MAX_WIDTH_IN, label_in + 0.5 * len(order) + 1.0)
    fig, ax = plt.subplots(figsize=(width, 1.0 + 0.32 * len(table)), layout="constrained")
    values = table.to_numpy(float)
    low = 0.0 if np.nanmin(values, initial=0.0) >= 0 else -1.0
    image = ax.imshow(values, cmap="viridis", vmin=low, vmax=1.0, aspect="auto")
    metric = f"mean_{score}"
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, format_score(metric, v), ha="center", va="center", fontsize=7,
                    color="white" if v < (low + 1) / 2 else "black")
    ax.set_xticks(range(len(order)), order, rotation=90, fontsize=8)
    ax.set_yticks(range(len(table)), [names[e] for e in table.index], fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, label=score)
    ax.set_title(title, fontsize=9)
    return fig
