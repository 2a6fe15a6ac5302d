"""Per-class views of the records that describe one dataset's whole class set (linear,
kNN, subject folds, linear-online; not test-selected): where classifiers fail, e.g. fear
vs surprise, contempt.

- :func:`class_view_frame`: one row per such record, its per-class recall and confusion
  matrix;
- :func:`recall_figure`: encoders x expressions, per-class recall of one protocol on one
  dataset, encoders by mean recall (the mean class accuracy), best on top;
- :func:`confusion_figure`: row-normalised confusion matrices, one panel per encoder in
  the same order, sized so the report shows them at full size.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.records.io import split_pair
from fer_bench.records.schema import ResultRecord
from fer_bench.reporting.results import record_label
from fer_bench.reporting.style import (MAX_WIDTH_IN, display_names, encoder_colours, styled,
                                       text_inches)

# Protocols whose records describe one dataset's whole class set (per-class recall and
# confusion matrices read well for them; few-shot and unseen targets are partial views).
CLASS_VIEW_PROTOCOLS = ("linear", "knn", "subject-folds", "linear-online")


def class_view_frame(records: Sequence[tuple[Path, ResultRecord]]) -> pd.DataFrame:
    """One row per class-view record (not test-selected): encoder, protocol, target,
    class_set, per-class recall (dict) and confusion matrix (array)."""
    rows = []
    for path, r in records:
        if (r.protocol not in CLASS_VIEW_PROTOCOLS or r.flags.test_selected
                or split_pair(r.target)):
            continue
        rows.append({"encoder": record_label(r),
                     "protocol": f"{r.protocol}-v{r.protocol_version}",
                     "target": r.target, "class_set": tuple(r.class_set),
                     "recall": dict(r.per_class_recall),
                     "confusion": np.asarray(r.confusion, dtype=float), "record": path})
    return pd.DataFrame(rows, columns=["encoder", "protocol", "target", "class_set", "recall",
                                       "confusion", "record"])


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
