"""Plots over the long leaderboard table (matplotlib, Agg backend, PNG files).

- :func:`bar_chart`: one figure per single-dataset protocol: datasets along x, encoders
  side by side, bar = mean score, whiskers = 95% bootstrap interval, a dashed tick at
  chance (1 / number of classes, the mean class accuracy of a constant guess);
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

from fer_bench.leaderboard import OVERLAP_MARK, TEST_SELECTED_MARK, long_table  # noqa: E402
from fer_bench.records.io import safe_name  # noqa: E402
from fer_bench.records.schema import HEADLINE_METRIC  # noqa: E402

_LABEL = {"mean_class_accuracy": "mean class accuracy (%)", "accuracy": "accuracy (%)",
          "macro_f1": "macro-F1 (%)"}


def _marks(row: pd.Series) -> str:
    return ((TEST_SELECTED_MARK if row["test_selected"] else "")
            + (OVERLAP_MARK if row["pretraining_overlap"] else ""))


def _footnote(fig, rows: pd.DataFrame) -> None:
    """Explain the stamps that appear in the figure."""
    notes = []
    if rows["test_selected"].any():
        notes.append(f"{TEST_SELECTED_MARK} selected on the test split")
    if (rows["pretraining_overlap"] != "").any():
        notes.append(f"{OVERLAP_MARK} encoder pre-trained on this data")
    if notes:
        fig.text(0.01, 0.01, "; ".join(notes), fontsize=7, color="dimgrey")


def bar_chart(rows: pd.DataFrame, title: str, path: Path,
              metric: str = HEADLINE_METRIC) -> Path:
    """Grouped bars of one protocol's long rows (one metric)."""
    rows = rows[rows["metric"] == metric].copy()
    rows["label"] = rows["encoder"] + "@" + rows["revision"]
    datasets = sorted(rows["dataset"].unique())
    encoders = sorted(rows["label"].unique())
    width = 0.8 / len(encoders)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(datasets) * max(1, len(encoders) / 2)), 4.2))
    for i, enc in enumerate(encoders):
        sub = rows[rows["label"] == enc].set_index("dataset").reindex(datasets)
        x = np.arange(len(datasets)) + (i - (len(encoders) - 1) / 2) * width
        mean = 100 * sub["mean"].to_numpy(float)
        err = np.vstack([mean - 100 * sub["ci_low"].to_numpy(float),
                         100 * sub["ci_high"].to_numpy(float) - mean])
        ax.bar(x, mean, width, yerr=np.nan_to_num(err), capsize=3, label=enc)
        for xi, m, hi, (_, r) in zip(x, mean, 100 * sub["ci_high"].to_numpy(float),
                                     sub.iterrows()):
            if np.isfinite(m):
                top = hi if np.isfinite(hi) else m
                ax.annotate(f"{m:.1f}{_marks(r)}", (xi, top), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=7)
    for j, ds in enumerate(datasets):
        n_classes = rows.loc[rows["dataset"] == ds, "n_classes"].max()
        ax.hlines(100 / n_classes, j - 0.45, j + 0.45, colors="grey", linestyles="dashed",
                  linewidth=1, label="chance" if j == 0 else None)
    long_labels = max(map(len, datasets)) > 12  # e.g. few-shot targets: tilt, never overlap
    ax.set_xticks(np.arange(len(datasets)), datasets, rotation=30 if long_labels else 0,
                  ha="right" if long_labels else "center", fontsize=8 if long_labels else None)
    ax.set_ylim(0, 105)
    ax.set_ylabel(_LABEL.get(metric, metric))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
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
                metric: str = HEADLINE_METRIC) -> list[Path]:
    """Bar charts and cross-dataset heatmaps of every record under ``results_dir``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    long = long_table(results_dir)
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
