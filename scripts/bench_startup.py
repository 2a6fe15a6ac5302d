#!/usr/bin/env python
"""Start-up time of ``fer-bench --help`` and ``fer-bench datasets list``, against
``python -c "import torch"``.

Each command runs as a fresh subprocess ``--runs`` times (5 by default); the median wall
time is printed, with its ratio to the median time of importing torch alone (neither
command should import torch, so both ratios should be well under 1). The load average
is printed too: on a busy machine every number grows, the ratios much less.

    python scripts/bench_startup.py
    python scripts/bench_startup.py --runs 9
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def fer_bench() -> list[str]:
    exe = Path(sys.executable).with_name("fer-bench")
    return [str(exe)] if exe.exists() else [sys.executable, "-c",
                                            "from fer_bench.cli import main; main()"]


def median_time(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (median)")
    args = parser.parse_args()

    print(f"load average before: {load_average()} ({os.cpu_count()} CPUs)")
    torch_s = median_time([sys.executable, "-c", "import torch"], args.runs)
    print(f"{'python -c ' + repr('import torch'):28s} {torch_s:6.2f} s")
    for label, argv in (("fer-bench --help", ["--help"]),
                        ("fer-bench datasets list", ["datasets", "list"])):
        seconds = median_time(fer_bench() + argv, args.runs)
        print(f"{label:28s} {seconds:6.2f} s   {seconds / torch_s:5.2f} x import torch")
    print(f"load average after:  {load_average()}   (median of {args.runs} runs each)")


if __name__ == "__main__":
    main()
