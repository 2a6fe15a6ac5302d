"""The study's one-row-per-arm table and its in-domain vs cross-dataset scatter, built
from ``<out>/leaderboard_long.csv`` (written by ``fer-bench leaderboard``). Used by
scripts/study.py; runs alone too: ``python scripts/study_table.py results/study``."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

# (column title, protocol, target, metric)
COLUMNS = (
    ("FERPlus linear MCA", "linear", "ferplus", "mean_class_accuracy"),
    ("FERPlus linear acc", "linear", "ferplus", "accuracy"),
    ("FERPlus kNN MCA", "knn", "ferplus", "mean_class_accuracy"),
    ("FERPlus kNN acc", "knn", "ferplus", "accuracy"),
    ("FERPlus->synth-lab MCA", "cross-dataset", "ferplus__to__synth-lab", "mean_class_accuracy"),
    ("FERPlus->synth-wild MCA", "cross-dataset", "ferplus__to__synth-wild",
     "mean_class_accuracy"),
    ("synth-compound unseen MCA", "unseen-expression", "synth-compound@unseen-linear",
     "mean_class_accuracy"),
    ("FERPlus unseen (contempt) MCA", "unseen-expression", "ferplus@unseen-linear",
     "mean_class_accuracy"),
    ("FERPlus 5-shot MCA", "few-shot", "ferplus@5shot-linear", "mean_class_accuracy"),
)
# Contempt was held out of every arm's training. "FERPlus unseen (contempt)" is the
# unseen-expression record (probe on all classes, scored on contempt rows); it is that
# task only for encoders whose one unseen FERPlus class is contempt: for label-free
# pre-training (SimCLR, a random network) every class is unseen and the record scores
# all of them, so the cell is left out. "contempt recall" reads the same number off the
# FERPlus linear record's per-class recall, for every arm alike (no interval there).
CONTEMPT_UNSEEN = "FERPlus unseen (contempt) MCA"
CONTEMPT_RECALL = "FERPlus contempt recall (linear)"
IN_DOMAIN = "FERPlus linear MCA"
CROSS = ("FERPlus->synth-lab MCA", "FERPlus->synth-wild MCA")


def arm_name(encoder: str, revision: str) -> str:
    """``study-supcon-s975-1a2b3c4d`` -> ``supcon``; other encoders keep their name."""
    if revision.startswith("study-"):
        return revision.removeprefix("study-").rsplit("-s", 1)[0]
    return encoder


def study_frame(long: pd.DataFrame, records: Path | None = None) -> pd.DataFrame:
    """One row per arm; with ``records`` (the records folder) also the like-for-like
    contempt columns, which need the records' details."""
    rows = []
    for (encoder, revision), g in long.groupby(["encoder", "revision"], sort=False):
        row = {"arm": arm_name(encoder, revision), "encoder": encoder, "revision": revision}
        for title, protocol, target, metric in COLUMNS:
            hit = g[(g.protocol == protocol) & (g.target == target) & (g.metric == metric)]
            if len(hit):
                r = hit.iloc[0]
                if title == CONTEMPT_UNSEEN and records is not None and _unseen(
                        records / r["record"]) != ["contempt"]:
                    continue
                row[title] = r["mean"]
                row[f"{title} low"], row[f"{title} high"] = r["ci_low"], r["ci_high"]
        linear = g[(g.protocol == "linear") & (g.target == "ferplus")]
        if records is not None and len(linear):
            recall = _record(records / linear.iloc[0]["record"]).get("per_class_recall", {})
            if recall.get("contempt") is not None:
                row[CONTEMPT_RECALL] = recall["contempt"]
        rows.append(row)
    return pd.DataFrame(rows)


def _record(path: Path) -> dict:
    import json
    return json.loads(Path(path).read_text())


def _unseen(path: Path) -> list[str] | None:
    """The classes an unseen-expression record scored as unseen."""
    return _record(path).get("details", {}).get("unseen_classes")


def markdown(frame: pd.DataFrame) -> str:
    titles = [t for t, *_ in COLUMNS if t in frame.columns] + (
        [CONTEMPT_RECALL] if CONTEMPT_RECALL in frame.columns else [])
    lines = ["| arm | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for _, r in frame.iterrows():
        cells = []
        for t in titles:
            if pd.isna(r.get(t)):
                cells.append("n/a")
            elif f"{t} low" not in frame.columns:
                cells.append(f"{100 * r[t]:.1f}")
            else:
                cells.append(f"{100 * r[t]:.1f} [{100 * r[f'{t} low']:.1f}, "
                             f"{100 * r[f'{t} high']:.1f}]")
        lines.append(f"| {r['arm']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def scatter(frame: pd.DataFrame, out: Path) -> Path | None:
    if not {IN_DOMAIN, *CROSS} <= set(frame.columns):   # no arm has those records yet
        return None
    have = frame.dropna(subset=[IN_DOMAIN, *CROSS])
    if have.empty:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    for _, r in have.iterrows():
        x = 100 * r[IN_DOMAIN]
        y = 100 * sum(r[c] for c in CROSS) / len(CROSS)
        xerr = [[x - 100 * r[f"{IN_DOMAIN} low"]], [100 * r[f"{IN_DOMAIN} high"] - x]]
        ax.errorbar(x, y, xerr=xerr, fmt="o", capsize=3)
        ax.annotate(r["arm"], (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set(xlabel="FERPlus linear probe, mean class accuracy (%)",
           ylabel="FERPlus -> synth-lab / synth-wild, mean (%)",
           title="in-domain vs cross-dataset, per arm")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def write_study_table(out: Path) -> None:
    long_csv = Path(out) / "leaderboard_long.csv"
    if not long_csv.is_file():
        return
    records = Path(out) / "records"
    frame = study_frame(pd.read_csv(long_csv), records if records.is_dir() else None)
    frame.to_csv(Path(out) / "study.csv", index=False)
    (Path(out) / "study.md").write_text(
        "Mean class accuracy (MCA) and accuracy in %, [95% interval]; one row per arm.\n\n"
        + markdown(frame)
        + f"\n{CONTEMPT_UNSEEN}: the probe fitted on all FERPlus classes, scored on the "
        "contempt test faces (15 of them: wide intervals); n/a where pre-training used no "
        "labels, since every FERPlus class is then unseen and the record scores all of them, "
        "another task. synth-compound holds only its 15 compound classes, unseen by every "
        "arm: the same 15-way task for all. "
        f"{CONTEMPT_RECALL}: the same probe's recall on contempt, read off the FERPlus "
        "linear record, alike for every arm (no interval).\n")
    scatter(frame, Path(out) / "scatter.png")


if __name__ == "__main__":
    write_study_table(Path(sys.argv[1] if len(sys.argv) > 1 else "results/study"))
