#!/usr/bin/env python
"""The study's training table and health curves, from the arms' run folders.

For every ``<runs>/study-<arm>-s<steps>...`` folder with a finished run: steps, epochs,
training seconds (the trainer's own clock: steps and health checks, not data loading),
median images/s, and the health signals on held-aside FERPlus val faces (kNN mean class
accuracy at epochs 0, 1, 3 and the end; effective rank and top-direction share at the
end). Writes ``<out>/training.md`` and copies each run's ``health.png`` to
``<out>/health/<arm>.png``.

    python scripts/study_training.py runs/study results/study
"""
from __future__ import annotations

import json
import shutil
import statistics
import sys
from pathlib import Path

from study_table import arm_name


def run_summary(run: Path) -> dict | None:
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()
              if line.strip()]
    stop = [e for e in events if e["event"] == "stop"]
    if not stop:
        return None
    steps = [e for e in events if e["event"] == "step"]
    health = [e for e in events if e["event"] == "health"]

    def knn_at(epoch: float) -> str:
        near = [h for h in health if abs(h["epoch"] - epoch) < 0.26]
        return f"{100 * near[0]['knn_mca']:.1f}" if near else "-"

    last = health[-1] if health else {}
    return {"arm": arm_name("crs-cont", run.name), "steps": stop[-1]["global_step"],
            "epochs": stop[-1]["epochs_run"], "minutes": stop[-1]["elapsed_s"] / 60,
            "images_per_s": statistics.median(e["images_per_s"] for e in steps),
            "knn": " / ".join(knn_at(e) for e in (0, 1, 3)) + f" / {knn_at(last.get('epoch', 5))}",
            "rank": last.get("effective_rank"), "top": last.get("top_share")}


def main(runs: Path, out: Path) -> None:
    rows = []
    (out / "health").mkdir(parents=True, exist_ok=True)
    for run in sorted(runs.glob("study-*")):
        if not (run / "train_log.jsonl").is_file():
            continue
        summary = run_summary(run)
        if summary is None:
            continue
        rows.append(summary)
        if (run / "health.png").is_file():
            shutil.copyfile(run / "health.png", out / "health" / f"{summary['arm']}.png")
    lines = ["| arm | steps | epochs | training time | median images/s | kNN MCA on 2,000 "
             "FERPlus val faces, epochs 0 / 1 / 3 / end | effective rank, end | top share, "
             "end |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arm']} | {r['steps']} | {r['epochs']:.2f} | {r['minutes']:.1f} min "
                     f"| {r['images_per_s']:.0f} | {r['knn']} | {r['rank']:.2f} | "
                     f"{100 * r['top']:.0f}% |")
    (out / "training.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/study"),
         Path(sys.argv[2] if len(sys.argv) > 2 else "results/study"))
