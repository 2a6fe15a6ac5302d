"""Plots over the long leaderboard table (matplotlib, Agg backend, PNG files).

- :func:`bar_chart`: one figure per single-dataset protocol, a panel per target, encoders
  as horizontal bars: bar = mean score, whisker = 95% bootstrap interval, a dashed line
  at chance (1 / number of classes, the mean class accuracy of a constant guess);
- :func:`cross_heatmap`: one figure per encoder and pair protocol: source x target
  matrix of the score, each cell annotated (interval, class count), the in-domain
  diagonal outlined.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fer_bench.leaderboard import (  # noqa: E402
    OVERLAP_MARK,
    SMALL_TEST_MARK,
    TEST_SELECTED_MARK,
    long_table,
    target_key,
)
from fer_bench.records.io import safe_name  # noqa: E402
from fer_bench.records.schema import HEADLINE_METRIC  # noqa: E402

_LABEL = {"mean_class_accuracy": "mean class accuracy (%)", "accuracy": "accuracy (%)",
          "macro_f1": "macro-F1 (%)"}
_PANEL_COLUMNS = 4   # bar-chart panels per row


def _marks(row: pd.Series) -> str:
    return ((TEST_SELECTED_MARK if row["test_selected"] else "")
            + (OVERLAP_MARK if row["pretraining_overlap"] else "")
            + (SMALL_TEST_MARK if row.get("small_test") else ""))


def _footnote(fig, rows: pd.DataFrame) -> None:
    """Explain the stamps that appear in the figure."""
    notes = []
    if rows["test_selected"].any():
        notes.append(f"{TEST_SELECTED_MARK} selected on the test split")
    if rows["pretraining_overlap"].any():
        notes.append(f"{OVERLAP_MARK} encoder pre-trained on this data")
    if "small_test" in rows and rows["small_test"].any():
        notes.append(f"{SMALL_TEST_MARK} small test set")
    if notes:
        fig.text(0.01, 0.01, "; ".join(notes), fontsize=7, color="dimgrey")


def _panel_grid(n_panels: int) -> tuple[int, int]:
    cols = min(_PANEL_COLUMNS, n_panels)
    return -(-n_panels // cols), cols


def bar_chart(rows: pd.DataFrame, title: str, path: Path,
              metric: str = HEADLINE_METRIC) -> Path:
    """One protocol's long rows (one metric) as a panel per target, wrapping after
    ``_PANEL_COLUMNS``: encoders as horizontal bars, in the same order and colour in every
    panel, so that the figure stays readable for many encoders and many targets."""
    rows = rows[rows["metric"] == metric].copy()
    rows["label"] = rows["encoder"] + "@" + rows["revision"]
    targets = sorted(rows["dataset"].unique(), key=target_key)
    encoders = sorted(rows["label"].unique())
    palette = plt.get_cmap("tab10" if len(encoders) <= 10 else "tab20")
    colours = [palette(i % palette.N) for i in range(len(encoders))]
    n_rows, n_cols = _panel_grid(len(targets))
    label_inches = 0.07 * max(map(len, encoders)) + 0.3
    fig, axes = plt.subplots(
        n_rows, n_cols, sharey=True, squeeze=False,
        figsize=(label_inches + 3.2 * n_cols, 1.5 + n_rows * (0.6 + 0.24 * len(encoders))))
    y = np.arange(len(encoders))
    for ax, target in zip(axes.flat, targets):
        sub = rows[rows["dataset"] == target].set_index("label").reindex(encoders)
        mean = 100 * sub["mean"].to_numpy(float)
        low, high = 100 * sub["ci_low"].to_numpy(float), 100 * sub["ci_high"].to_numpy(float)
        err = np.nan_to_num(np.vstack([mean - low, high - mean]))
        ax.barh(y, np.nan_to_num(mean), 0.75, xerr=err, color=colours, capsize=2,
                error_kw={"linewidth": 0.8})
        for yi, m, hi, (_, r) in zip(y, mean, high, sub.iterrows()):
            text = f"{m:.1f}{_marks(r)}" if np.isfinite(m) else "–"
            right = hi if np.isfinite(hi) else (m if np.isfinite(m) else 0.0)
            ax.text(right + 1.5, yi, text, va="center", fontsize=7)
        n_classes = rows.loc[rows["dataset"] == target, "n_classes"].max()
        ax.axvline(100 / n_classes, color="grey", linestyle="--", linewidth=1)
        ax.set_xlim(0, 112)
        ax.set_title(target, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(targets):]:
        ax.axis("off")
    axes[0, 0].set_yticks(y, encoders)
    axes[0, 0].invert_yaxis()   # shared: the first encoder on top in every panel
    fig.suptitle(title)
    fig.supxlabel(f"{_LABEL.get(metric, metric)}; whisker = 95% interval, dashed = chance",
                  fontsize=8)
    height = fig.get_figheight()   # keep the title clear of the first row's panel titles
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1 - 0.25 / height))
    _footnote(fig, rows)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def cross_heatmap(rows: pd.DataFrame, title: str, path: Path,
                  metric: str = HEADLINE_METRIC) -> Path:
    """Source x target matrix of one encoder's pair-protocol rows (one metric)."""
    rows = rows[rows["metric"] == metric]
    sources = sorted(rows["source"].unique())
    targets = sorted(rows["dataset"].unique())
    value = rows.pivot(index="source", columns="dataset", values="mean").reindex(
        index=sources, columns=targets)
    fig, ax = plt.subplots(figsize=(1.6 * len(targets) + 2.5, 1.1 * len(sources) + 1.8))
    image = ax.imshow(100 * value.to_numpy(float), vmin=0, vmax=100, cmap="viridis")
    for _, r in rows.iterrows():
        i, j = sources.index(r["source"]), targets.index(r["dataset"])
        text = f"{100 * r['mean']:.1f}{_marks(r)}"
        if pd.notna(r["ci_low"]):
            text += f"\n[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]"
        text += f"\n{r['n_classes']} cls"
        ax.text(j, i, text, ha="center", va="center", fontsize=8,
                color="white" if r["mean"] < 0.6 else "black")
        if r["source"] == r["dataset"]:  # in-domain reference cell
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2,
                                       edgecolor="white"))
    ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
    ax.set_yticks(range(len(sources)), sources)
    ax.set_xlabel("target (scored on)")
    ax.set_ylabel("source (probe fitted on)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label=_LABEL.get(metric, metric))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    _footnote(fig, rows)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_plots(results_dir: str | Path, out: str | Path,
                metric: str = HEADLINE_METRIC, records=None) -> list[Path]:
    """Bar charts and cross-dataset heatmaps of every record under ``results_dir``
    (``records``: (path, record) pairs read already, see :func:`long_table`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    long = long_table(results_dir, records)
    written = []
    for (protocol, version), rows in long.groupby(["protocol", "protocol_version"]):
        tag = f"{protocol}-v{version}"
        if (rows["source"] == "").all():
            written.append(bar_chart(rows, f"{tag}: {metric.replace('_', ' ')}",
                                     out / f"bars_{safe_name(tag)}.png", metric))
            continue
        for (enc, rev), enc_rows in rows.groupby(["encoder", "revision"]):
            name = safe_name(f"cross_{enc}@{rev}_{tag}")
            written.append(cross_heatmap(enc_rows, f"{enc}@{rev}\n{tag}: "
                                         f"{metric.replace('_', ' ')}", out / f"{name}.png",
                                         metric))
    return written
