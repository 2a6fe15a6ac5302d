"""``subject-folds`` with the pool's principal axes computed once and shared by every
fold's sweep and refit (the default) vs computed by each fit on its own rows, in one run.

    .venv/bin/python scripts/bench_subject_folds.py [--encoder lbp --encoder hog] \\
        [--dataset synth-lab] [--seed 0] [--cache-dir DIR]

For each encoder (features extracted into the cache on first use, outside the timing) it
runs the protocol twice through ``fer-bench run`` in this process, the two arms
alternating in order from encoder to encoder, and prints each arm's probe seconds (the
record's ``timings.probe_s``) and their ratio, whether every fold chose the same C, and
the pooled mean class accuracy of each arm (the tolerance: the same C everywhere and
scores within 0.5 points); then the totals and the load average before and after. Run it
with nothing else on the machine. Not a test.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
from pathlib import Path


def run_arm(encoder: str, dataset: str, seeds: list[int], shared: bool,
            cache_dir: str | None) -> dict:
    from fer_bench.cli import main
    from fer_bench.probes.linear import LinearProbe

    out = tempfile.mkdtemp(prefix="bench-sf-")
    argv = ["run", "--encoder", encoder, "--protocol", "subject-folds", "--dataset", dataset,
            "--results-dir", out, "--quiet"]
    for seed in seeds:
        argv += ["--seed", str(seed)]
    if cache_dir:
        argv += ["--cache-dir", cache_dir]
    original = LinearProbe.share_pool
    if not shared:
        LinearProbe.share_pool = lambda self, X: None
    try:
        main(argv, standalone_mode=False)
    finally:
        LinearProbe.share_pool = original
    (path,) = glob.glob(f"{out}/**/{dataset}.json", recursive=True)
    record = json.loads(Path(path).read_text())
    return {"probe_s": record["timings"]["probe_s"],
            "C": [s["hyperparameters"]["C"] for s in record["per_seed"]],
            "mca": record["metrics"]["mean_class_accuracy"]["mean"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", action="append", default=[])
    parser.add_argument("--dataset", default="synth-lab")
    parser.add_argument("--seed", type=int, action="append", default=[])
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args(argv)
    encoders = args.encoder or ["lbp", "hog", "crs-cont"]
    seeds = args.seed or [0]
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    totals = {True: 0.0, False: 0.0}
    same_everywhere = True
    for index, encoder in enumerate(encoders):
        # warm the feature cache (and imports) outside the timing
        run_arm(encoder, args.dataset, seeds[:1], True, args.cache_dir)
        order = [True, False] if index % 2 == 0 else [False, True]
        results = {arm: run_arm(encoder, args.dataset, seeds, arm, args.cache_dir)
                   for arm in order}
        a, b = results[True], results[False]
        totals[True] += a["probe_s"]
        totals[False] += b["probe_s"]
        same = a["C"] == b["C"] and abs(a["mca"] - b["mca"]) <= 0.005
        same_everywhere &= same
        print(f"{encoder} on {args.dataset}: shared {a['probe_s']:.1f} s, per fit "
              f"{b['probe_s']:.1f} s, ratio {a['probe_s'] / b['probe_s']:.2f}; same C in "
              f"every fold: {a['C'] == b['C']}; mean class accuracy {100 * a['mca']:.2f} vs "
              f"{100 * b['mca']:.2f}")
    print(f"total: shared {totals[True]:.1f} s, per fit {totals[False]:.1f} s, ratio "
          f"{totals[True] / totals[False]:.2f}; within tolerance everywhere: {same_everywhere}")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if same_everywhere else 1


if __name__ == "__main__":
    sys.exit(main())
