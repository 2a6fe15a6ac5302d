"""Few-shot curves: score against labelled rows per class (shots), mean +- std over
draws, one line per encoder and probe, a figure per dataset.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import pandas as pd

from fer_bench.records.overlap import record_overlaps
from fer_bench.records.schema import HEADLINE_METRIC, ResultRecord
from fer_bench.reporting.results import eval_dataset, record_label
from fer_bench.reporting.style import display_names, encoder_colours, ranked, styled
from fer_bench.reporting.tables import OVERLAP_MARK, SOURCE_OVERLAP_MARK


def few_shot_frame(records: Sequence[tuple[Path, ResultRecord]],
                   metric: str = HEADLINE_METRIC) -> pd.DataFrame:
    """One row per few-shot record: encoder, dataset, probe, shots, mean and std of
    ``metric`` over draws, and whether the encoder was pre-trained on the scored data
    (``overlap``) or on the support's data (``overlap_source``)."""
    rows = []
    for _, r in records:
        if r.protocol != "few-shot":
            continue
        m = r.metrics[metric]
        sides = {o.side for o in record_overlaps(r)}
        rows.append({"encoder": record_label(r), "dataset": eval_dataset(r),
                     "probe": r.details["probe"],
                     "shots": int(r.details["shots"]), "mean": m.mean, "std": m.std,
                     "draws": len(m.values), "short": bool(r.details.get("short_classes")),
                     "overlap": "target" in sides, "overlap_source": "source" in sides})
    return pd.DataFrame(rows, columns=["encoder", "dataset", "probe", "shots", "mean", "std",
                                       "draws", "short", "overlap", "overlap_source"])


def _overlap_stamp(rows: pd.DataFrame) -> str:
    if "overlap" in rows and rows["overlap"].any():
        return OVERLAP_MARK
    if "overlap_source" in rows and rows["overlap_source"].any():
        return SOURCE_OVERLAP_MARK
    return ""


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
        stamp = _overlap_stamp(rows)
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
    notes = []
    if "overlap" in frame and frame["overlap"].any():
        notes.append(f"{OVERLAP_MARK} encoder pre-trained on the scored data")
    if "overlap_source" in frame and (frame["overlap_source"] & ~frame["overlap"]).any():
        notes.append(f"{SOURCE_OVERLAP_MARK} pre-trained on the support's data only")
    if notes:
        fig.supxlabel("; ".join(notes), fontsize=8, color="dimgrey")
    return fig
