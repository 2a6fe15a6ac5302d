"""Plots beyond the bars and cross-dataset heatmaps of :mod:`fer_bench.plots`.

Each plot is a function of a pandas frame; the ``*_frame`` functions build those frames
from result records (and, for the embedding map, from cached features):

- :func:`recall_heatmap`: encoders x expressions, per-class recall of one protocol on
  one dataset (where classifiers fail, e.g. fear vs surprise, contempt);
- :func:`confusion_grid`: row-normalised confusion matrices, one panel per encoder;
- :func:`few_shot_curves`: score against shots per class, mean +- std over draws,
  one line per encoder and probe;
- :func:`embedding_map`: a 2-D PCA of one encoder's cached test features (L2-normalised,
  as the probes see them), subsampled, coloured by expression and by dataset.

:func:`write_extra_plots` writes all of them for a results folder.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.leaderboard import OVERLAP_MARK
from fer_bench.records.io import (
    find_record_files,
    read_predictions,
    read_record,
    safe_name,
    split_pair,
)
from fer_bench.records.schema import HEADLINE_METRIC, ResultRecord
from fer_bench.vocabulary import ALL_EXPRESSIONS

# Protocols whose records describe one dataset's whole class set (per-class recall and
# confusion matrices read well for them; few-shot and unseen targets are partial views).
CLASS_VIEW_PROTOCOLS = ("linear", "knn", "subject-folds", "linear-online")
EMBEDDING_PROTOCOLS = ("linear", "knn", "subject-folds")
POINTS_PER_DATASET = 400
_DPI = 110


def _label(record: ResultRecord) -> str:
    return f"{record.encoder['name']}@{record.encoder['revision']}"


def _dataset(record: ResultRecord) -> str:
    evals = [d.name for d in record.datasets if d.role == "eval"]
    return evals[0] if evals else record.target


# -- frames -------------------------------------------------------------------------------
def load_record_files(results_dir: str | Path) -> list[tuple[Path, ResultRecord]]:
    return [(p, read_record(p)) for p in find_record_files(results_dir)]


def class_view_frame(records: Sequence[tuple[Path, ResultRecord]]) -> pd.DataFrame:
    """One row per class-view record (not test-selected): encoder, protocol, target,
    class_set, per-class recall (dict) and confusion matrix (array)."""
    rows = []
    for path, r in records:
        if (r.protocol not in CLASS_VIEW_PROTOCOLS or r.flags.test_selected
                or split_pair(r.target)):
            continue
        rows.append({"encoder": _label(r), "protocol": f"{r.protocol}-v{r.protocol_version}",
                     "target": r.target, "class_set": tuple(r.class_set),
                     "recall": dict(r.per_class_recall),
                     "confusion": np.asarray(r.confusion, dtype=float), "record": path})
    return pd.DataFrame(rows, columns=["encoder", "protocol", "target", "class_set", "recall",
                                       "confusion", "record"])


def few_shot_frame(records: Sequence[tuple[Path, ResultRecord]],
                   metric: str = HEADLINE_METRIC) -> pd.DataFrame:
    """One row per few-shot record: encoder, dataset, probe, shots, mean and std of
    ``metric`` over draws, and whether the encoder was pre-trained on the dataset."""
    rows = []
    for _, r in records:
        if r.protocol != "few-shot":
            continue
        m = r.metrics[metric]
        rows.append({"encoder": _label(r), "dataset": _dataset(r), "probe": r.details["probe"],
                     "shots": int(r.details["shots"]), "mean": m.mean, "std": m.std,
                     "draws": len(m.values), "short": bool(r.details.get("short_classes")),
                     "overlap": bool(r.flags.pretraining_overlap)})
    return pd.DataFrame(rows, columns=["encoder", "dataset", "probe", "shots", "mean", "std",
                                       "draws", "short", "overlap"])


def embedding_frame(records: Sequence[tuple[Path, ResultRecord]], encoder: str,
                    store_root: str | Path, per_dataset: int = POINTS_PER_DATASET,
                    seed: int = 0) -> pd.DataFrame:
    """2-D PCA coordinates of ``encoder``'s cached test features: columns x, y,
    expression, dataset. Test rows and their labels come from each dataset's record
    predictions, features from the feature store entries the record names; at most
    ``per_dataset`` rows per dataset (seeded). Empty when nothing is cached."""
    from sklearn.decomposition import PCA

    from fer_bench.features.entry import InvalidEntry, read_entry
    from fer_bench.probes.normalize import l2_normalize

    chosen: dict[str, tuple[Path, ResultRecord]] = {}
    for path, r in sorted(records, key=lambda pr: EMBEDDING_PROTOCOLS.index(pr[1].protocol)
                          if pr[1].protocol in EMBEDDING_PROTOCOLS else 99):
        if _label(r) == encoder and r.protocol in EMBEDDING_PROTOCOLS and not split_pair(r.target):
            chosen.setdefault(_dataset(r), (path, r))
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
            entry_dir = Path(store_root) / key[:2] / key
            if not entry_dir.is_dir():
                continue
            try:
                feats = read_entry(entry_dir, key=key)
            except InvalidEntry:
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


# -- figures ------------------------------------------------------------------------------
def recall_heatmap(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """Encoders (rows) x expressions (columns) of per-class recall, in percent; the rows
    of ``frame`` share one protocol and target."""
    classes = list(frame["class_set"].iloc[0])
    encoders = sorted(frame["encoder"])
    table = np.array([[frame.set_index("encoder").at[e, "recall"].get(c, np.nan)
                       for c in classes] for e in encoders], dtype=float) * 100
    fig, ax = plt.subplots(figsize=(max(5.0, 0.75 * len(classes) + 3.0),
                                    0.45 * len(encoders) + 2.2))
    ax.set_facecolor("#e4e4e8")  # classes without test rows (no recall): hatched grey
    ax.add_patch(plt.Rectangle((-0.5, -0.5), len(classes), len(encoders), hatch="///",
                               fill=False, edgecolor="#b8b8c0", linewidth=0, zorder=0))
    image = ax.imshow(np.ma.masked_invalid(table), vmin=0, vmax=100, cmap="magma",
                      aspect="auto", zorder=1)
    for i in range(len(encoders)):
        for j in range(len(classes)):
            finite = np.isfinite(table[i, j])
            ax.text(j, i, f"{table[i, j]:.0f}" if finite else "n/a", ha="center",
                    va="center", fontsize=7, zorder=2,
                    color="dimgrey" if not finite else "white" if table[i, j] < 55 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(encoders)), encoders, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="recall (%)", fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def confusion_grid(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """Row-normalised confusion matrices (true rows, predicted columns), one panel per
    encoder; the rows of ``frame`` share one protocol and target."""
    frame = frame.sort_values("encoder")
    classes = list(frame["class_set"].iloc[0])
    n, k = len(frame), len(classes)
    cols = min(n, 3)
    rows = -(-n // cols)
    side = max(3.2, 0.42 * k + 1.6)
    fig, axes = plt.subplots(rows, cols, figsize=(side * cols, side * rows + 0.6),
                             squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (_, r) in zip(axes.flat, frame.iterrows()):
        cm = r["confusion"]
        totals = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, totals, out=np.full_like(cm, np.nan), where=totals > 0)
        ax.imshow(np.ma.masked_invalid(share), vmin=0, vmax=1, cmap="Blues")
        if k <= 10:
            for i in range(k):
                for j in range(k):
                    if np.isfinite(share[i, j]) and share[i, j] >= 0.005:
                        ax.text(j, i, f"{100 * share[i, j]:.0f}", ha="center", va="center",
                                fontsize=6, color="white" if share[i, j] > 0.6 else "black")
        ax.set_xticks(range(k), classes, rotation=60, ha="right", fontsize=6)
        ax.set_yticks(range(k), classes, fontsize=6)
        ax.set_title(r["encoder"], fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def few_shot_curves(frame: pd.DataFrame, title: str, path: Path,
                    metric: str = HEADLINE_METRIC) -> Path:
    """Score against shots per class (log x), one line per encoder and probe (colour:
    encoder, style: probe), band = +-1 std over draws; rows share one dataset."""
    encoders = sorted(frame["encoder"].unique())
    colours = {e: plt.get_cmap("tab10")(i % 10) for i, e in enumerate(encoders)}
    styles = {"knn": "--", "linear": "-"}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for (enc, probe), rows in frame.groupby(["encoder", "probe"]):
        rows = rows.sort_values("shots")
        x, m, s = rows["shots"].to_numpy(), 100 * rows["mean"].to_numpy(), 100 * rows["std"].to_numpy()
        stamp = OVERLAP_MARK if "overlap" in rows and rows["overlap"].any() else ""
        ax.plot(x, m, styles.get(probe, ":"), marker="o", ms=3, color=colours[enc],
                label=f"{enc}{stamp} · {probe}")
        ax.fill_between(x, m - s, m + s, color=colours[enc], alpha=0.15, linewidth=0)
    shots = sorted(frame["shots"].unique())
    ax.set_xscale("log")
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.minorticks_off()
    ax.set_xlabel("labelled rows per class (shots)")
    ax.set_ylabel(f"{metric.replace('_', ' ')} (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    # long handles, so that knn's dashes read apart from linear's solid line
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), handlelength=3.5)
    fig.tight_layout()
    if "overlap" in frame and frame["overlap"].any():
        fig.text(0.01, 0.01, f"{OVERLAP_MARK} encoder pre-trained on this data", fontsize=7,
                 color="dimgrey")
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def _categorical_colours(values: Sequence[str]) -> dict[str, tuple]:
    """tab10 up to 10 values; beyond, tab20's strong shades first, then its pale ones."""
    if len(values) <= 10:
        return {v: plt.get_cmap("tab10")(i) for i, v in enumerate(values)}
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return {v: plt.get_cmap("tab20")(order[i % 20]) for i, v in enumerate(values)}


def embedding_map(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """Two panels of the same 2-D points: coloured by expression, and by dataset."""
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 5.2))
    for ax, column in zip(axes, ("expression", "dataset")):
        values = sorted(frame[column].unique(), key=lambda v: (
            ALL_EXPRESSIONS.index(v) if v in ALL_EXPRESSIONS else len(ALL_EXPRESSIONS), v))
        colours = _categorical_colours(values)
        for v in values:
            pts = frame[frame[column] == v]
            ax.scatter(pts["x"], pts["y"], s=14, alpha=0.8, color=colours[v], label=v,
                       linewidths=0)
        ax.set_title(f"coloured by {column}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=6, markerscale=2, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  ncol=1 if len(values) <= 16 else 2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


# -- all of them ----------------------------------------------------------------------------
def write_extra_plots(results_dir: str | Path, out: str | Path,
                      metric: str = HEADLINE_METRIC,
                      store_root: str | Path | None = None,
                      records: Sequence[tuple[Path, ResultRecord]] | None = None
                      ) -> list[Path]:
    """Recall heatmaps and confusion grids per protocol and dataset, few-shot curves per
    dataset, an embedding map per encoder (when its features are still in the feature
    store under ``store_root``, default ``cache_dir()/features``); ``records``: (path,
    record) pairs read already (default: every record under ``results_dir``)."""
    from fer_bench.paths import cache_dir

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = load_record_files(results_dir) if records is None else list(records)
    written: list[Path] = []
    views = class_view_frame(records)
    for (protocol, target), rows in views.groupby(["protocol", "target"]):
        first = rows["class_set"].iloc[0]   # one class set per figure (the usual case)
        rows = rows[[c == first for c in rows["class_set"]]]
        tag = safe_name(f"{protocol}_{target}")
        written.append(recall_heatmap(rows, f"per-class recall · {protocol} · {target}",
                                      out / f"recall_{tag}.png"))
        written.append(confusion_grid(rows, f"confusion (row %) · {protocol} · {target}",
                                      out / f"confusion_{tag}.png"))
    shots = few_shot_frame(records, metric)
    for dataset, rows in shots.groupby("dataset"):
        written.append(few_shot_curves(rows, f"few-shot · {dataset} · mean ± std over draws",
                                       out / f"fewshot_{safe_name(dataset)}.png", metric))
    root = Path(store_root) if store_root else cache_dir() / "features"
    for encoder in sorted({_label(r) for _, r in records}):
        points = embedding_frame(records, encoder, root)
        if len(points):
            written.append(embedding_map(points, f"{encoder} · PCA of cached test features",
                                         out / f"embedding_{safe_name(encoder)}.png"))
    return written
