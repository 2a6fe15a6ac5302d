"""Score figures over the long leaderboard table (matplotlib, Agg backend).

- :func:`bar_figure`: one figure per single-dataset protocol, a panel per target,
  encoders as horizontal bars sorted by score in each panel (best on top): bar = mean
  score, whisker = 95% bootstrap interval, a dashed line at chance (1 / number of
  classes, the mean class accuracy of a constant guess);
- :func:`cross_figure`: one figure per pair protocol for all encoders, a panel per
  encoder (best transfer first), each the source x target matrix of the score on one
  colour scale, cells annotated (interval, class count), the in-domain diagonal outlined.

Sizes, fonts, formats and the colour of each encoder come from
:mod:`fer_bench.figure_style`, so that these figures and those of
:mod:`fer_bench.plots_extra` read alike and fit the report page.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.figure_style import (MAX_WIDTH_IN, check_format, display_names, encoder_colours,
                                    ranked, save, styled, text_inches)
from fer_bench.leaderboard import (OVERLAP_MARK, SHORT_CLASSES_MARK, SMALL_TEST_MARK,
                                   TEST_SELECTED_MARK, long_table, natural_key, target_key)
from fer_bench.records.io import safe_name
from fer_bench.records.schema import HEADLINE_METRIC

_LABEL = {"mean_class_accuracy": "mean class accuracy (%)", "accuracy": "accuracy (%)",
          "macro_f1": "macro-F1 (%)"}
_MAX_PANEL_COLUMNS = 4
_BAR_AXIS_IN = 2.3     # the 0-100 axis of one bar panel
_VALUE_IN = 0.55       # room right of a bar for its value and stamps
_CELL_IN = 0.8         # one cell of a cross-dataset matrix


def _labels(rows: pd.DataFrame) -> pd.Series:
    return rows["encoder"] + "@" + rows["revision"]


def _marks(row: pd.Series) -> str:
    return ((TEST_SELECTED_MARK if row["test_selected"] else "")
            + (OVERLAP_MARK if row["pretraining_overlap"] else "")
            + (SHORT_CLASSES_MARK if row.get("short_classes") else "")
            + (SMALL_TEST_MARK if row.get("small_test") else ""))


def _notes(rows: pd.DataFrame) -> str:
    """What the stamps in a figure mean (those that appear)."""
    notes = []
    if rows["test_selected"].any():
        notes.append(f"{TEST_SELECTED_MARK} selected on the test split")
    if rows["pretraining_overlap"].any():
        notes.append(f"{OVERLAP_MARK} encoder pre-trained on this data")
    if "short_classes" in rows and rows["short_classes"].any():
        notes.append(f"{SHORT_CLASSES_MARK} a class short of train rows")
    if "small_test" in rows and rows["small_test"].any():
        notes.append(f"{SMALL_TEST_MARK} small test set")
    return "; ".join(notes)


def _columns(n_panels: int, panel_in: float, fixed_in: float = 0.0) -> int:
    """Panels per row: as many as fit the report width, at most _MAX_PANEL_COLUMNS."""
    fit = int((MAX_WIDTH_IN - fixed_in) // panel_in)
    return max(1, min(n_panels, _MAX_PANEL_COLUMNS, fit))


@styled
def bar_figure(rows: pd.DataFrame, title: str, metric: str = HEADLINE_METRIC,
               colours: dict[str, tuple] | None = None):
    """One protocol's long rows (one metric) as a panel per target: encoders as
    horizontal bars sorted by score (best on top; an encoder without a record on that
    target is left out of its panel), each encoder in its colour of ``colours``
    (default: :func:`encoder_colours` of these rows), bars of one thickness in every
    panel. Returns the figure."""
    rows = rows[rows["metric"] == metric].copy()
    rows["label"] = _labels(rows)
    targets = sorted(rows["dataset"].unique(), key=target_key)
    encoders = sorted(rows["label"].unique())
    colours = colours or encoder_colours(encoders)
    names = display_names(encoders)
    label_in = max(text_inches(n) for n in names.values()) + 0.25
    panel_in = label_in + _BAR_AXIS_IN + _VALUE_IN
    n_cols = _columns(len(targets), panel_in)
    n_rows = -(-len(targets) // n_cols)
    notes = _notes(rows)
    fig, axes = plt.subplots(
        n_rows, n_cols, squeeze=False, layout="constrained",
        figsize=(panel_in * n_cols, 0.9 + (0.3 if notes else 0)
                 + n_rows * (0.75 + 0.2 * len(encoders))))
    for ax, target in zip(axes.flat, targets):
        sub = rows[rows["dataset"] == target].set_index("label")
        order = ranked(sub["mean"])
        sub = sub.reindex(order)
        y = np.arange(len(order))
        mean = 100 * sub["mean"].to_numpy(float)
        low, high = 100 * sub["ci_low"].to_numpy(float), 100 * sub["ci_high"].to_numpy(float)
        err = np.nan_to_num(np.vstack([mean - low, high - mean]))
        bars = ax.barh(y, np.nan_to_num(mean), 0.72, xerr=err, capsize=2,
                       color=[colours[label] for label in order],
                       error_kw={"linewidth": 0.8})
        for bar, label in zip(bars, order):
            bar.set_label(label)            # which encoder: for readers of the figure object
        for yi, m, hi, (_, r) in zip(y, mean, high, sub.iterrows()):
            text = f"{m:.1f}{_marks(r)}" if np.isfinite(m) else "–"
            right = hi if np.isfinite(hi) else (m if np.isfinite(m) else 0.0)
            ax.text(right + 1.5, yi, text, va="center", fontsize=8, clip_on=False)
        n_classes = rows.loc[rows["dataset"] == target, "n_classes"].max()
        ax.axvline(100 / n_classes, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 20))
        ax.set_yticks(y, [names[label] for label in order])
        ax.set_ylim(len(encoders) - 0.5, -0.5)     # the best on top; room for every encoder
        ax.set_title(target, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.flat[len(targets):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.supxlabel(f"{_LABEL.get(metric, metric)}; whisker = 95% interval, dashed = chance"
                  + (f"\n{notes}" if notes else ""), fontsize=8)
    return fig


def bar_chart(rows: pd.DataFrame, title: str, path: Path, metric: str = HEADLINE_METRIC,
              colours: dict[str, tuple] | None = None) -> Path:
    """:func:`bar_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(bar_figure(rows, title, metric, colours), path)


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
    rows["label"] = _labels(rows)
    sources = sorted(rows["source"].unique(), key=natural_key)
    targets = sorted(rows["dataset"].unique(), key=natural_key)
    colours = colours or encoder_colours(rows["label"])
    names = display_names(rows["label"])
    order = ranked(pd.Series({label: _transfer_score(group)
                              for label, group in rows.groupby("label")}))
    source_in = max(text_inches(s, 8) for s in sources) + 0.5       # tick labels, title
    target_in = max(text_inches(t, 8) for t in targets) * 0.5 + 0.25   # ticks at 30°
    panel_in = _CELL_IN * len(targets) + 0.15
    n_cols = _columns(len(order), panel_in, source_in + 1.0)
    n_rows = -(-len(order) // n_cols)
    # colour bar: right of a single row; across the top of a taller grid
    bar_right, bar_top = (1.0, 0.0) if n_rows == 1 else (0.0, 0.7)
    notes = _notes(rows)
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
            ax.text(j, i - 0.2, f"{100 * r['mean']:.1f}{_marks(r)}", ha="center",
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
        fig.colorbar(image, ax=axes, label=_LABEL.get(metric, metric), shrink=0.9)
    else:                  # a tall grid: one bar across the top, not the figure's height
        fig.colorbar(image, ax=axes, label=_LABEL.get(metric, metric), location="top",
                     shrink=0.6, fraction=0.2 / height, pad=0.1 / height, aspect=40)
    fig.suptitle(title)
    fig.supylabel("source (probe fitted on)", fontsize=9)
    fig.supxlabel("target (scored on), over the classes both share; outlined: in-domain"
                  + (f"\n{notes}" if notes else ""), fontsize=8)
    return fig


def cross_heatmap(rows: pd.DataFrame, title: str, path: Path, metric: str = HEADLINE_METRIC,
                  colours: dict[str, tuple] | None = None) -> Path:
    """:func:`cross_figure` written to ``path`` (png, svg or pdf by its suffix)."""
    return save(cross_figure(rows, title, metric, colours), path)


def write_plots(results_dir: str | Path, out: str | Path,
                metric: str = HEADLINE_METRIC, records=None, fmt: str = "png",
                colours: dict[str, tuple] | None = None) -> list[Path]:
    """A bar chart per single-dataset protocol and one cross-dataset figure per pair
    protocol, of every record under ``results_dir`` (``records``: (path, record) pairs
    read already, see :func:`long_table`), as ``fmt`` files (png, svg, pdf). Encoder
    colours: ``colours``, else one per encoder of these records."""
    check_format(fmt)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    long = long_table(results_dir, records)
    colours = colours or encoder_colours(_labels(long))
    written = []
    for (protocol, version), rows in long.groupby(["protocol", "protocol_version"]):
        if not (rows["metric"] == metric).any():
            continue                         # e.g. records written without this metric
        tag = f"{protocol}-v{version}"
        title = f"{tag}: {metric.replace('_', ' ')}"
        if (rows["source"] == "").all():
            written.append(bar_chart(rows, title, out / f"bars_{safe_name(tag)}.{fmt}",
                                     metric, colours))
        else:
            written.append(cross_heatmap(rows, title, out / f"cross_{safe_name(tag)}.{fmt}",
                                         metric, colours))
    return written
