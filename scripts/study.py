#!/usr/bin/env python
"""The CRS-CONT paper's comparison, run by fer-bench: five pre-training arms from one code
path at one budget, then the same evaluation for each.

Arms (all: FERPlus train without contempt, which unseen-expression then scores as never
seen; the same input size, batch, augmentation, warm-up, number of
optimisation steps and schedule shape; SGD lr 0.5, x0.5 at every fifth of the run):

    crs-cont      weighted coarse-label contrastive + coarse CE + instance term (the recipe)
    crs-cont-w1   the same with the weight vector off (every anchor weighs 1.0)
    supcon        fine-label SupCon as the authors' script runs it: coarse CE + instance
                  terms kept, anchors of fine label id 1 halved (their "label 1" rule)
    simclr        SimCLR, clean (no labels at all)
    supervised    cross-entropy on the fine labels (one view)

Each arm is trained once (resumable: a rerun continues or skips it), exported as a
``crs-cont`` revision named ``study-<arm>-s<steps>`` whose metadata states its method,
weight vector and pre-training label set, then evaluated with linear, knn, few-shot,
cross-dataset and unseen-expression over FERPlus and the generated presets, beside
random-resnet18. Records go to ``<out>/records``; ``<out>/leaderboard.md``, the plots,
``<out>/study.csv`` (one row per arm), ``<out>/training.md`` and ``<out>/health/`` (the
arms' health curves) are rebuilt from whatever exists, so a half-finished study shows
exactly what it has.

    python scripts/study.py --plan                  # the arms, the budget, the CPU time
    FER_BENCH_DATA=/data python scripts/study.py --steps 975
    python scripts/study.py --arms crs-cont-w1 --steps 975   # one arm (e.g. one per day)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARMS: dict[str, list[str]] = {
    "crs-cont": ["--method", "crs-cont"],
    "crs-cont-w1": ["--method", "crs-cont", "--weight-vector", "off"],
    "supcon": ["--method", "supcon"],
    "simclr": ["--method", "simclr", "--clean-baselines"],
    "supervised": ["--method", "supervised"],
}
# Seconds per step measured on this project's 2-core CPU at 48 px, batch 128, bf16
# (scripts/bench_pretrain.py --precision: 171 img/s with two views; one view ~1.9x).
STEP_S_48PX = {"two_views": 0.75, "one_view": 0.40}
PROTOCOLS = ("linear", "knn", "few-shot", "cross-dataset", "unseen-expression")
DATASETS = ("ferplus", "synth-lab", "synth-wild", "synth-compound")


def arm_revision(arm: str, steps: int, hold_out=()) -> str:
    return f"study-{arm}-s{steps}" + "".join(f"-no-{c}" for c in hold_out)


def run_dir(arm: str, args) -> Path:
    return Path(args.runs) / arm_revision(arm, args.steps, args.hold_out)


def pretrain_command(arm: str, args) -> list[str]:
    run_dir_ = run_dir(arm, args)
    cmd = [sys.executable, "-m", "fer_bench.cli", "pretrain", *ARMS[arm],
           "--data", args.data, "--input-size", str(args.input_size),
           "--batch-size", str(args.batch_size), "--warmup-epochs", str(args.warmup_epochs),
           "--total-steps", str(args.steps), "--seed", str(args.seed),
           "--out", str(run_dir_), "--no-progress", "--log-every", "25",
           "--export", str(weights_dir(arm, args)), "--revision",
           arm_revision(arm, args.steps, args.hold_out), "--shard-mb", "16"]
    for expression in args.hold_out:
        cmd += ["--hold-out", expression]
    if (run_dir_ / "checkpoint.pt").is_file():
        cmd.append("--resume")
    return cmd


def weights_dir(arm: str, args) -> Path:
    return Path(args.runs) / "weights" / f"crs-cont-{arm_revision(arm, args.steps, args.hold_out)}"


def plan_lines(args) -> list[str]:
    lines = [f"budget: {args.steps} steps of {args.batch_size} images at "
             f"{args.input_size} px on {args.data}, warm-up {args.warmup_epochs} epoch(s), "
             "lr 0.5 x0.5 at every fifth"
             + (f"; held out of training: {', '.join(args.hold_out)}" if args.hold_out
                else "")]
    total = 0.0
    scale = (args.input_size / 48) ** 2
    for arm in args.arms:
        views = "one_view" if arm == "supervised" else "two_views"
        est = args.steps * STEP_S_48PX[views] * scale
        total += est
        done = "exported" if weights_dir(arm, args).is_dir() else "to train"
        lines.append(f"  {arm:12s} {' '.join(ARMS[arm]):45s} ~{est / 60:5.0f} min CPU  ({done})")
    lines.append(f"  total ~{total / 60:.0f} min of training on 2 idle cores (estimate), "
                 "plus evaluation")
    return lines


def run(cmd: list[str], log: Path) -> int:
    print("$ " + " ".join(cmd), flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        return subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=REPO)


def evaluate(arm: str | None, args) -> int:
    """One ``fer-bench run`` for an arm's weights (or random-resnet18 when arm is None)."""
    cmd = [sys.executable, "-m", "fer_bench.cli", "run", "--quiet",
           "--results-dir", str(Path(args.out) / "records")]
    if arm is None:
        cmd += ["--encoder", "random-resnet18"]
    else:
        cmd += ["--encoder", "crs-cont", "--weights", f"crs-cont={weights_dir(arm, args)}"]
    for p in args.protocols:
        cmd += ["--protocol", p]
    for d in args.datasets:
        cmd += ["--dataset", d]
    return run(cmd, Path(args.runs) / "logs" / f"eval-{arm or 'random-resnet18'}.log")


def summarise(args) -> None:
    """leaderboard.md, plots and study.csv from the records present."""
    records = Path(args.out) / "records"
    if not records.is_dir():
        return
    fb = [sys.executable, "-m", "fer_bench.cli"]
    subprocess.call(fb + ["leaderboard", "--results-dir", str(records), "--out", args.out],
                    cwd=REPO, stdout=subprocess.DEVNULL)
    subprocess.call(fb + ["plot", "--results-dir", str(records), "--out",
                          str(Path(args.out) / "plots")], cwd=REPO, stdout=subprocess.DEVNULL)
    from study_table import write_study_table
    from study_training import main as write_training_table
    write_study_table(Path(args.out))
    write_training_table(Path(args.runs), Path(args.out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--steps", type=int, default=975, help="optimisation steps per arm")
    p.add_argument("--data", default="ferplus:train")
    p.add_argument("--input-size", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--warmup-epochs", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hold-out", nargs="*", default=["contempt"], metavar="EXPRESSION",
                   help="expressions left out of every arm's training, scored as unseen "
                        "(default: contempt; give no value to hold out nothing)")
    p.add_argument("--protocols", nargs="+", default=list(PROTOCOLS))
    p.add_argument("--datasets", nargs="+", default=list(DATASETS))
    p.add_argument("--runs", default="runs/study", help="run folders and weights (not shipped)")
    p.add_argument("--out", default="results/study", help="records, tables, plots")
    p.add_argument("--plan", action="store_true", help="print the plan and stop")
    p.add_argument("--no-train", action="store_true", help="evaluate exported arms only")
    args = p.parse_args()

    print("\n".join(plan_lines(args)), flush=True)
    if args.plan:
        return
    if not os.environ.get("FER_BENCH_DATA") and "ferplus" in args.data:
        sys.exit("Error: the study trains on FERPlus: set FER_BENCH_DATA to the folder "
                 "holding ferplus/")
    t0 = time.time()
    failed = []
    for arm in args.arms:
        if not args.no_train and not weights_dir(arm, args).is_dir():
            if run(pretrain_command(arm, args), Path(args.runs) / "logs" / f"train-{arm}.log"):
                failed.append(f"train {arm}")
                continue
        if weights_dir(arm, args).is_dir() and evaluate(arm, args):
            failed.append(f"evaluate {arm}")
        summarise(args)
    if evaluate(None, args):
        failed.append("evaluate random-resnet18")
    summarise(args)
    print(f"study: {len(args.arms) - len(failed)} of {len(args.arms)} arms done in "
          f"{(time.time() - t0) / 60:.0f} min" + (f"; failed: {', '.join(failed)}" if failed
                                                   else ""), flush=True)
    (Path(args.out) / "study_config.json").write_text(json.dumps(
        {k: v for k, v in vars(args).items() if k not in ("plan", "no_train")}, indent=1))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
