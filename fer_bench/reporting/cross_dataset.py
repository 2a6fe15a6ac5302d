"""Cross-dataset transfer: one figure per pair protocol for all encoders, a panel per
encoder (best transfer first), each the source x target matrix of the score on one colour
scale, cells annotated (interval, class count), the in-domain diagonal outlined. Drawn
from long rows (:mod:`fer_bench.reporting.tables`).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import pandas as pd

from fer_bench.records.schema import HEADLINE_METRIC
from fer_bench.reporting.style import (display_names, encoder_colours, metric_label,
                                       panel_columns, ranked, styled, text_inches)
from fer_bench.reporting.tables import encoder_labels, figure_notes, natural_key, stamps

_CELL_IN = 0.8         # one cell of a cross-dataset matrix


def _transfer_score(rows: pd.DataFrame) -> float:
    """Mean score over the off-diagonal cells (source != target), else over all."""
    off = rows[rows["source"] != rows["dataset"]]
    return float((off if len(off) else rows)["mean"].mean())


@styled
def cross_figure(rows: pd.DataFrame, title: str, metric: str = HEADLINE_METRIC,
                 colours: dict[str, tuple] | None = None):
    """A pair protocol's rows (every encoder, one metric) as one figure: a panel per
    encoder, ordered by mean transfer score (best first), each the source x target
    matrix of the score on one 0-100 colour scale; the panel title is in the encoder's
    colour. Returns the figure."""
    rows = rows[rows["metric"] == metric].copy()
    rows["label"] = encoder_labels(rows)
    sources = sorted(rows["source"].unique(), key=natural_key)
    targets = sorted(rows["dataset"].unique(), key=natural_key)
    colours = colours or encoder_colours(rows["label"])
    names = display_names(rows["label"])
    order = ranked(pd.Series({label: _transfer_score(group)
                              for label, group in rows.groupby("label")}))
    source_in = max(text_inches(s, 8) for s in sources) + 0.5       # tick labels, title
    target_in = max(text_inches(t, 8) for t in targets) * 0.5 + 0.25   # ticks at 30°
    panel_in = _CELL_IN * len(targets) + 0.15
    n_cols = panel_columns(len(order), panel_in, source_in + 1.0)
    n_rows = -(-len(order) // n_cols)
    # colour bar: right of a single row; across the top of a taller grid
    bar_right, bar_top = (1.0, 0.0) if n_rows == 1 else (0.0, 0.7)
    notes = figure_notes(rows)
    height = (0.9 + bar_top + (0.3 if notes else 0)
              + n_rows * (_CELL_IN * len(sources) + target_in + 0.3))
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False, layout="constrained",
                             figsize=(source_in + bar_right + panel_in * n_cols, height))
    image = None
    for k, (ax, label) in enumerate(zip(axes.flat, order)):
        sub = rows[rows["label"] == label]
        value = sub.pivot(index="source", columns="dataset", values="mean").reindex(
            index=sources, columns=targets)
        ax.set_facecolor("#ececef")            # pairs without a record (no shared classes)
        image = ax.imshow(100 * value.to_numpy(float), vmin=0, vmax=100, cmap="viridis",
                          aspect="auto")         # cells fill the panel the layout gives
        for _, r in sub.iterrows():
            i, j = sources.index(r["source"]), targets.index(r["dataset"])
            ink = "white" if r["mean"] < 0.6 else "black"
            ax.text(j, i - 0.2, f"{100 * r['mean']:.1f}{stamps(r)}", ha="center",
                    va="center", fontsize=9, color=ink)
            detail = f"{r['n_classes']} cls"
            if pd.notna(r["ci_low"]):
                detail = f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]\n" + detail
            ax.text(j, i + 0.2, detail, ha="center", va="center", fontsize=6.5, color=ink,
                    linespacing=1.1)
            if r["source"] == r["dataset"]:   # in-domain reference: outlined inside the cell,
                for width, edge in ((3.0, "white"), (1.0, "black")):   # on any colour
                    ax.add_patch(plt.Rectangle((j - 0.44, i - 0.44), 0.88, 0.88, fill=False,
                                               lw=width, edgecolor=edge))
        ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
        ax.set_yticks(range(len(sources)), sources)
        ax.tick_params(labelleft=k % n_cols == 0)          # source names: first column
        ax.set_title(names[label], color=colours[label], fontweight="bold")
    for ax in axes.flat[len(order):]:
        ax.axis("off")
    if n_rows == 1:
        fig.colorbar(image, ax=axes, label=metric_label(metric), shrink=0.9)
    else:                  # a tall grid: one bar across the top, not the figure's height
        fig.colorbar(image, ax=axes, label=metric_label(metric), location="top",
                     shrink=0.6, fraction=0.2 / height, pad=0.1 / height, aspect=40)
    fig.suptitle(title)
    fig.supylabel("source (probe fitted on)", fontsize=9)
    fig.supxlabel("target (scored on), over the classes both share; outlined: in-domain"
                  + (f"\n{notes}" if notes else ""), fontsize=8)
    return fig
