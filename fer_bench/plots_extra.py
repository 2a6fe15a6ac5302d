"""Plots beyond the bars and cross-dataset heatmaps of :mod:`fer_bench.plots`.

Each plot is a function of a pandas frame; the ``*_frame`` functions build those frames
from result records (and, for the embedding map, from cached features):

- :func:`recall_heatmap`: encoders x expressions, per-class recall of one protocol on
  one dataset (where classifiers fail, e.g. fear vs surprise, contempt), encoders by
  mean recall (the mean class accuracy), best on top;
- :func:`confusion_grid`: row-normalised confusion matrices, one panel per encoder in
  the same order, sized so the report shows them at full size;
- :func:`few_shot_curves`: score against shots per class, mean +- std over draws,
  one line per encoder and probe;
- :func:`embedding_map`: a 2-D PCA of one encoder's cached test features (L2-normalised,
  as the probes see them), subsampled, coloured by expression and by dataset.

Encoders keep one colour (:func:`fer_bench.figure_style.encoder_colours`) in every
figure: curves, panel titles, tick labels. :func:`write_extra_plots` writes all of them
for a results folder.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.figure_style import (MAX_WIDTH_IN, categorical_colours, check_format, display_names,
                                    encoder_colours, ranked, save, styled, text_inches)
from fer_bench.leaderboard import OVERLAP_MARK
from fer_bench.records.io import (find_record_files, read_predictions, read_record, safe_name,
                                  split_pair)
from fer_bench.records.schema import HEADLINE_METRIC, ResultRecord
from fer_bench.vocabulary import ALL_EXPRESSIONS

# Protocols whose records describe one dataset's whole class set (per-class recall and
# confusion matrices read well for them; few-shot and unseen targets are partial views).
CLASS_VIEW_PROTOCOLS = ("linear", "knn", "subject-folds", "linear-online")
EMBEDDING_PROTOCOLS = ("linear", "knn", "subject-folds")
POINTS_PER_DATASET = 400


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
def _by_mean_recall(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``score`` column (mean per-class recall: the mean class accuracy
    over the classes with test rows), best first, ties by encoder."""
    score = [np.nanmean(list(r.values())) if r else np.nan for r in frame["recall"]]
    return (frame.assign(score=score)
            .sort_values(["score", "encoder"], ascending=[False, True], na_position="last",
                         kind="stable"))


@styled
def recall_figure(frame: pd.DataFrame, title: str,
                  colours: dict[str, tuple] | None = None):
    """Encoders (rows, best mean recall on top, names in their colour) x expressions
    (columns) of per-class recall, in percent; the rows of ``frame`` share one protocol
    and target. Returns the figure."""
    frame = _by_mean_recall(frame)
    classes = list(frame["class_set"].iloc[0])
    encoders = list(frame["encoder"])
    colours = colours or encoder_colours(encoders)
    names = display_names(encoders)
    table = np.array([[r.get(c, np.nan) for c in classes] for r in frame["recall"]],
                     dtype=float) * 100
    label_in = max(text_inches(names[e], 8) for e in encoders) + 0.3
    cell_in = min(0.6, (MAX_WIDTH_IN - label_in - 1.2) / len(classes))
    class_in = max(text_inches(c, 8) for c in classes) * 0.65 + 0.2    # ticks at 40°
    fig, ax = plt.subplots(layout="constrained", figsize=(
        label_in + 1.2 + cell_in * len(classes), 0.9 + class_in + 0.3 * len(encoders)))
    ax.set_facecolor("#e4e4e8")  # classes without test rows (no recall): hatched grey
    ax.add_patch(plt.Rectangle((-0.5, -0.5), len(classes), len(encoders), hatch="///",
                               fill=False, edgecolor="#b8b8c0", linewidth=0, zorder=0))
    image = ax.imshow(np.ma.masked_invalid(table), vmin=0, vmax=100, cmap="magma",
                      aspect="auto", zorder=1)
    for i in range(len(encoders)):
        for j in range(len(classes)):
            finite = np.isfinite(table[i, j])
            ax.text(j, i, f"{table[i, j]:.0f}" if finite else "n/a", ha="center",
                    va="center", fontsize=8, zorder=2,
                    color="dimgrey" if not finite else "white" if table[i, j] < 55 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=40, ha="right")
    ax.set_yticks(range(len(encoders)), [names[e] for e in encoders])
    for tick, encoder in zip(ax.get_yticklabels(), encoders):
        tick.set_color(colours[encoder])
        tick.set_fontweight("bold")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="recall (%)", fraction=0.04)
    return fig


def recall_heatmap(frame: pd.DataFrame, title: str, path: Path,
                   colours: dict[str, tuple] | None = None) -> Path:
    """:func:`recall_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(recall_figure(frame, title, colours), path)


@styled
def confusion_figure(frame: pd.DataFrame, title: str,
                     colours: dict[str, tuple] | None = None):
    """Row-normalised confusion matrices (true rows, predicted columns, in percent), one
    panel per encoder, best mean recall first, the title in the encoder's colour; the
    rows of ``frame`` share one protocol and target. Cells are large enough for their
    numbers at the report's size; class names stand once per row and column of panels.
    Returns the figure."""
    frame = _by_mean_recall(frame)
    classes = list(frame["class_set"].iloc[0])
    n, k = len(frame), len(classes)
    colours = colours or encoder_colours(frame["encoder"])
    names = display_names(frame["encoder"])
    cell_in = 0.34 if k <= 10 else 0.25       # room for "100" at the digits' size
    digits = 8 if k <= 10 else 7
    class_in = max(text_inches(c, 8) for c in classes) + 0.15
    panel_in = cell_in * k + 0.25
    cols = max(1, min(n, int((MAX_WIDTH_IN - class_in - 0.4) // panel_in)))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained", figsize=(
        class_in + 0.4 + panel_in * cols, 0.8 + class_in * 0.75 + rows * (cell_in * k + 0.45)))
    for ax in axes.flat[n:]:
        ax.axis("off")
    for index, (ax, (_, r)) in enumerate(zip(axes.flat, frame.iterrows())):
        cm = r["confusion"]
        totals = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, totals, out=np.full_like(cm, np.nan), where=totals > 0)
        ax.imshow(np.ma.masked_invalid(share), vmin=0, vmax=1, cmap="Blues")
        for i in range(k):
            for j in range(k):
                if np.isfinite(share[i, j]) and share[i, j] >= 0.005:
                    ax.text(j, i, f"{100 * share[i, j]:.0f}", ha="center", va="center",
                            fontsize=digits, color="white" if share[i, j] > 0.6 else "black")
        ax.set_xticks(range(k), classes, rotation=50, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(k), classes)
        # names once: true classes on the first column, predicted on the lowest panel
        ax.tick_params(labelleft=index % cols == 0, labelbottom=index + cols >= n)
        score = "" if np.isnan(r["score"]) else f" · {100 * r['score']:.1f}"
        ax.set_title(names[r["encoder"]] + score, color=colours[r["encoder"]],
                     fontweight="bold", fontsize=9)
    fig.suptitle(title)
    fig.supxlabel("predicted", fontsize=9)
    fig.supylabel("true", fontsize=9)
    return fig


def confusion_grid(frame: pd.DataFrame, title: str, path: Path,
                   colours: dict[str, tuple] | None = None) -> Path:
    """:func:`confusion_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(confusion_figure(frame, title, colours), path)


@styled
def few_shot_figure(frame: pd.DataFrame, title: str, metric: str = HEADLINE_METRIC,
                    colours: dict[str, tuple] | None = None):
    """Score against shots per class (log x), one line per encoder and probe (colour:
    the encoder's, style: probe), band = +-1 std over draws; rows share one dataset.
    The legend lists the lines from the best score at the most shots down. Returns the
    figure."""
    colours = colours or encoder_colours(frame["encoder"])
    names = display_names(frame["encoder"])
    styles = {"knn": "--", "linear": "-"}
    fig, ax = plt.subplots(figsize=(7.2, 4.2), layout="constrained")
    last = frame.sort_values("shots").groupby(["encoder", "probe"])["mean"].last()
    for enc, probe in ranked(last):
        rows = frame[(frame["encoder"] == enc) & (frame["probe"] == probe)].sort_values("shots")
        x = rows["shots"].to_numpy()
        m, s = 100 * rows["mean"].to_numpy(), 100 * rows["std"].to_numpy()
        stamp = OVERLAP_MARK if "overlap" in rows and rows["overlap"].any() else ""
        ax.plot(x, m, styles.get(probe, ":"), marker="o", ms=3, color=colours[enc],
                label=f"{names[enc]}{stamp} · {probe}")
        ax.fill_between(x, m - s, m + s, color=colours[enc], alpha=0.15, linewidth=0)
    shots = sorted(frame["shots"].unique())
    ax.set_xscale("log")
    ax.set_xticks(shots, [str(s) for s in shots])
    ax.minorticks_off()
    ax.set_xlabel("labelled rows per class (shots)")
    ax.set_ylabel(f"{metric.replace('_', ' ')} (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    # long handles, so that knn's dashes read apart from linear's solid line
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), handlelength=3.5)
    if "overlap" in frame and frame["overlap"].any():
        fig.supxlabel(f"{OVERLAP_MARK} encoder pre-trained on this data", fontsize=8,
                      color="dimgrey")
    return fig


def few_shot_curves(frame: pd.DataFrame, title: str, path: Path,
                    metric: str = HEADLINE_METRIC,
                    colours: dict[str, tuple] | None = None) -> Path:
    """:func:`few_shot_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(few_shot_figure(frame, title, metric, colours), path)


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


def embedding_map(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """:func:`embedding_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(embedding_figure(frame, title), path)


# -- all of them ----------------------------------------------------------------------------
def write_extra_plots(results_dir: str | Path, out: str | Path,
                      metric: str = HEADLINE_METRIC,
                      store_root: str | Path | None = None,
                      records: Sequence[tuple[Path, ResultRecord]] | None = None,
                      fmt: str = "png", colours: dict[str, tuple] | None = None
                      ) -> list[Path]:
    """Recall heatmaps and confusion grids per protocol and dataset, few-shot curves per
    dataset, an embedding map per encoder (when its features are still in the feature
    store under ``store_root``, default ``cache_dir()/features``), as ``fmt`` files
    (png, svg, pdf); ``records``: (path, record) pairs read already (default: every
    record under ``results_dir``). Encoder colours: ``colours``, else one per encoder of
    these records (as :func:`fer_bench.plots.write_plots` gives them)."""
    from fer_bench.paths import cache_dir

    check_format(fmt)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = load_record_files(results_dir) if records is None else list(records)
    colours = colours or encoder_colours(_label(r) for _, r in records)
    written: list[Path] = []
    views = class_view_frame(records)
    for (protocol, target), rows in views.groupby(["protocol", "target"]):
        first = rows["class_set"].iloc[0]   # one class set per figure (the usual case)
        rows = rows[[c == first for c in rows["class_set"]]]
        tag = safe_name(f"{protocol}_{target}")
        written.append(recall_heatmap(rows, f"per-class recall · {protocol} · {target}",
                                      out / f"recall_{tag}.{fmt}", colours))
        written.append(confusion_grid(rows, f"confusion (row %) · {protocol} · {target}",
                                      out / f"confusion_{tag}.{fmt}", colours))
    shots = few_shot_frame(records, metric)
    for dataset, rows in shots.groupby("dataset"):
        written.append(few_shot_curves(rows, f"few-shot · {dataset} · mean ± std over draws",
                                       out / f"fewshot_{safe_name(dataset)}.{fmt}", metric,
                                       colours))
    root = Path(store_root) if store_root else cache_dir() / "features"
    for encoder in sorted({_label(r) for _, r in records}):
        points = embedding_frame(records, encoder, root)
        if len(points):
            written.append(embedding_map(points, f"{encoder} · PCA of cached test features",
                                         out / f"embedding_{safe_name(encoder)}.{fmt}"))
    return written
