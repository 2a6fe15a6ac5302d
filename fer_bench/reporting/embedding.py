"""Embedding maps: a 2-D PCA of one encoder's cached test features (L2-normalised, as
the probes see them), subsampled per dataset, coloured by expression and by dataset.

The features are read through the feature store (:class:`fer_bench.features.store.
FeatureStore`), by the keys the records name; nothing is computed.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.records.io import read_predictions, split_pair
from fer_bench.records.schema import ResultRecord
from fer_bench.reporting.results import eval_dataset, record_label
from fer_bench.reporting.style import MAX_WIDTH_IN, categorical_colours, styled
from fer_bench.vocabulary import ALL_EXPRESSIONS

if TYPE_CHECKING:  # pragma: no cover
    from fer_bench.features.store import FeatureStore

EMBEDDING_PROTOCOLS = ("linear", "knn", "subject-folds")
POINTS_PER_DATASET = 400


def embedding_frame(records: Sequence[tuple[Path, ResultRecord]], encoder: str,
                    store: FeatureStore, per_dataset: int = POINTS_PER_DATASET,
                    seed: int = 0) -> pd.DataFrame:
    """2-D PCA coordinates of ``encoder``'s cached test features: columns x, y,
    expression, dataset. Test rows and their labels come from each dataset's record
    predictions, features from the entries of ``store`` that the record names
    (:meth:`FeatureStore.entry`: validated, never computed); at most ``per_dataset`` rows
    per dataset (seeded). Empty when nothing is cached."""
    from sklearn.decomposition import PCA

    from fer_bench.probes.normalize import l2_normalize

    chosen: dict[str, tuple[Path, ResultRecord]] = {}
    for path, r in sorted(records, key=lambda pr: EMBEDDING_PROTOCOLS.index(pr[1].protocol)
                          if pr[1].protocol in EMBEDDING_PROTOCOLS else 99):
        if (record_label(r) == encoder and r.protocol in EMBEDDING_PROTOCOLS
                and not split_pair(r.target)):
            chosen.setdefault(eval_dataset(r), (path, r))
    rng = np.random.default_rng(seed)
    blocks, labels, names = [], [], []
    for dataset, (path, r) in sorted(chosen.items()):
        try:
            pred = read_predictions(path)
        except (OSError, EOFError, ValueError):   # missing, truncated or not a CSV
            continue
        if pred.empty or not {"seed", "id", "y_true"} <= set(pred.columns):
            continue
        truth = pred[pred["seed"] == pred["seed"].iloc[0]].set_index("id")["y_true"]
        for key in r.feature_keys:
            feats = store.entry(key)
            if feats is None:             # not cached (any more), or invalid
                continue
            ids = np.asarray(feats.ids).astype(str)
            rows = np.flatnonzero(pd.Index(truth.index).get_indexer(ids) >= 0)
            if len(rows) == 0:
                continue
            rows = np.sort(rng.permutation(rows)[:per_dataset])
            blocks.append(l2_normalize(np.asarray(feats.X[rows])))
            labels += truth.loc[ids[rows]].tolist()
            names += [dataset] * len(rows)
            break
    if not blocks or sum(len(b) for b in blocks) < 3:
        return pd.DataFrame(columns=["x", "y", "expression", "dataset"])
    X = np.concatenate(blocks)
    xy = PCA(n_components=2, random_state=seed).fit_transform(X)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "expression": labels, "dataset": names})


@styled
def embedding_figure(frame: pd.DataFrame, title: str):
    """Two panels of the same 2-D points: coloured by expression, and by dataset."""
    fig, axes = plt.subplots(1, 2, figsize=(MAX_WIDTH_IN, 4.6), layout="constrained")
    for ax, column in zip(axes, ("expression", "dataset")):
        values = sorted(frame[column].unique(), key=lambda v: (
            ALL_EXPRESSIONS.index(v) if v in ALL_EXPRESSIONS else len(ALL_EXPRESSIONS), v))
        colours = categorical_colours(values)
        for v in values:
            pts = frame[frame[column] == v]
            ax.scatter(pts["x"], pts["y"], s=12, alpha=0.8, color=colours[v], label=v,
                       linewidths=0)
        ax.set_title(f"coloured by {column}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, markerscale=2, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  ncol=1 if len(values) <= 16 else 2)
    fig.suptitle(title)
    return fig
