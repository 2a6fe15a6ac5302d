#!/usr/bin/env python
"""A second identical ``fer-bench run`` must cost under 5% of the first.

Runs the same ``fer-bench run`` command twice as subprocesses, with a fresh feature
cache and results folder for the first, and prints both wall times and their ratio. The
generated faces are rendered beforehand (untimed), so the first run is feature
extraction + probes + records, and the second finds every record current (no weights
loaded, no features read) and only checks them.

    python scripts/bench_rerun.py                      # random-resnet18 + pixels, cross-dataset
    python scripts/bench_rerun.py --encoder pixels --protocol linear \\
        --dataset synth-wild:n=600 --dataset synth-lab:n=280
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.05


def fer_bench() -> list[str]:
    exe = Path(sys.executable).with_name("fer-bench")
    return [str(exe)] if exe.exists() else [sys.executable, "-c",
                                            "from fer_bench.cli import main; main()"]


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append")
    parser.add_argument("--protocol", action="append")
    parser.add_argument("--dataset", action="append")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--keep", type=Path, help="keep records and cache here (else a temp dir)")
    args = parser.parse_args()
    encoders = args.encoder or ["random-resnet18", "pixels"]
    protocols = args.protocol or ["cross-dataset"]

    if args.dataset:  # render generated faces now, outside the timing
        from fer_bench.datasets import load_dataset
        for spec in args.dataset:
            load_dataset(spec)
    else:
        from fer_bench.datasets import load_dataset
        from fer_bench.protocols.base import protocol_from_spec
        for p in protocols:
            for spec in protocol_from_spec(p).default_datasets():
                load_dataset(spec)

    work = args.keep or Path(tempfile.mkdtemp(prefix="fer-bench-rerun-"))
    cmd = fer_bench() + ["run", "--results-dir", str(work / "records"),
                         "--cache-dir", str(work / "cache"), "--device", args.device, "--quiet"]
    for flag, values in (("--encoder", encoders), ("--protocol", protocols),
                         ("--dataset", args.dataset or [])):
        for v in values:
            cmd += [flag, v]
    for sub in ("records", "cache"):
        shutil.rmtree(work / sub, ignore_errors=True)
    print("$", " ".join(cmd), flush=True)
    first = timed(cmd)
    second = timed(cmd)
    ratio = second / first
    print(f"first run (fresh cache): {first:.1f} s")
    print(f"second run (identical):  {second:.1f} s = {100 * ratio:.1f}% of the first "
          f"(target < {100 * TARGET:.0f}%: {'met' if ratio < TARGET else 'NOT met'})")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
