"""Bar charts: one figure per single-dataset protocol, a panel per target, encoders as
horizontal bars sorted by score in each panel (best on top): bar = mean score, whisker =
95% bootstrap interval, a dashed line at chance (1 / number of classes, the mean class
accuracy of a constant guess; 0.5 for ROC AUC). Fractions are drawn in percent,
coefficients (ICC, CCC) on their own scale. Drawn from long rows
(:mod:`fer_bench.reporting.tables`).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_bench.records.schema import HEADLINE_METRIC, SCORE_METRICS
from fer_bench.reporting.style import (display_names, encoder_colours, metric_label,
                                       panel_columns, ranked, styled, text_inches)
from fer_bench.reporting.tables import encoder_labels, figure_notes, stamps, target_key
from fer_bench.target_metrics import ERROR, FRACTION, format_score, metric_kind

_BAR_AXIS_IN = 2.3     # the 0-100 axis of one bar panel
_VALUE_IN = 0.55       # room right of a bar for its value and stamps


@styled
def bar_figure(rows: pd.DataFrame, title: str, metric: str = HEADLINE_METRIC,
               colours: dict[str, tuple] | None = None):
    """One protocol's long rows (one metric) as a panel per target: encoders as
    horizontal bars sorted by score (best on top; an encoder without a record on that
    target is left out of its panel), each encoder in its colour of ``colours``
    (default: :func:`encoder_colours` of these rows), bars of one thickness in every
    panel. Returns the figure."""
    rows = rows[rows["metric"] == metric].copy()
    rows["label"] = encoder_labels(rows)
    kind = metric_kind(metric)
    scale = 100 if kind == FRACTION else 1
    if kind == FRACTION:
        limits = (0, 100)
    elif kind == ERROR:
        limits = (0, float(np.nanmax(rows["ci_high"].fillna(rows["mean"]))) * 1.1 or 1.0)
    else:                 # coefficients: 0..1, and below 0 when a score is
        limits = (min(0.0, round(float(np.nanmin(rows["ci_low"].fillna(rows["mean"]))) - 0.05,
                                 1)), 1.0)
    span = limits[1] - limits[0]
    targets = sorted(rows["dataset"].unique(), key=target_key)
    encoders = sorted(rows["label"].unique())
    colours = colours or encoder_colours(encoders)
    names = display_names(encoders)
    label_in = max(text_inches(n) for n in names.values()) + 0.25
    panel_in = label_in + _BAR_AXIS_IN + _VALUE_IN
    n_cols = panel_columns(len(targets), panel_in)
    n_rows = -(-len(targets) // n_cols)
    notes = figure_notes(rows)
    fig, axes = plt.subplots(
        n_rows, n_cols, squeeze=False, layout="constrained",
        figsize=(panel_in * n_cols, 0.9 + (0.3 if notes else 0)
                 + n_rows * (0.75 + 0.2 * len(encoders))))
    for ax, target in zip(axes.flat, targets):
        sub = rows[rows["dataset"] == target].set_index("label")
        order = ranked(sub["mean"])
        sub = sub.reindex(order)
        y = np.arange(len(order))
        mean = scale * sub["mean"].to_numpy(float)
        low, high = scale * sub["ci_low"].to_numpy(float), scale * sub["ci_high"].to_numpy(float)
        err = np.nan_to_num(np.vstack([mean - low, high - mean]))
        bars = ax.barh(y, np.nan_to_num(mean), 0.72, xerr=err, capsize=2,
                       color=[colours[label] for label in order],
                       error_kw={"linewidth": 0.8})
        for bar, label in zip(bars, order):
            bar.set_label(label)            # which encoder: for readers of the figure object
        for yi, m, hi, (_, r) in zip(y, mean, high, sub.iterrows()):
            text = (format_score(metric, m / scale) + stamps(r)) if np.isfinite(m) else "–"
            right = hi if np.isfinite(hi) else (m if np.isfinite(m) else 0.0)
            ax.text(right + 0.015 * span, yi, text, va="center", fontsize=8, clip_on=False)
        chance = _chance(metric, rows.loc[rows["dataset"] == target, "n_classes"].max())
        if chance is not None:
            ax.axvline(scale * chance, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(*limits)
        ax.set_xticks(np.linspace(*limits, 6))
        ax.set_yticks(y, [names[label] for label in order])
        ax.set_ylim(len(encoders) - 0.5, -0.5)     # the best on top; room for every encoder
        ax.set_title(target, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes.flat[len(targets):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.supxlabel(f"{metric_label(metric)}; whisker = 95% interval"
                  + (", dashed = chance" if kind == FRACTION and metric != "mean_f1" else "")
                  + (f"\n{notes}" if notes else ""), fontsize=8)
    return fig


def _chance(metric: str, n_classes) -> float | None:
    """Where a constant guess scores: 1 / classes for the expression metrics, 0.5 for
    ROC AUC; None where there is no such line (F1, coefficients, errors)."""
    if metric in SCORE_METRICS:
        return 1 / n_classes
    return 0.5 if metric == "mean_auc" else None
