#!/usr/bin/env python3
"""Generation speed of the synthetic faces.

Prints images per second per core at the given size (render only, and render + PNG
write) for every preset, measured in this run on one core, then (with --full) the wall
time of generating all three default presets with the default 2 worker processes into a
fresh cache folder, against the target of one minute.

Rates are given twice: per wall-clock second and per CPU second of the process (its
own CPU time). On a busy machine the wall-clock rate drops with the load while the
CPU-time rate stays close to what an idle core gives, so both are printed; the full run
adds its worker processes' CPU time to project its wall time on 2 idle cores.

    .venv/bin/python scripts/bench_generate.py [--n 300] [--size 112] [--full [--cache DIR]]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from fer_bench.synth.generate import _write_chunk, default_workers, ensure_generated
from fer_bench.synth.plan import plan_preset
from fer_bench.synth.preset_config import PRESETS
from fer_bench.synth.render import render_face

TARGET_S = 60.0


def per_core(preset: str, n: int, size: int) -> tuple[int, list[float]]:
    """Images per wall second and per CPU second: render only, then render + PNG."""
    specs = plan_preset(PRESETS[preset], n, seed=123)
    t0, c0 = time.perf_counter(), time.process_time()
    for s in specs:
        render_face(s.identity, s.aus, s.scene, size)
    t1, c1 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        _write_chunk(specs, [f"{i}.png" for i in range(len(specs))], tmp, size,
                     PRESETS[preset].grey)
        t2, c2 = time.perf_counter(), time.process_time()
    k = len(specs)
    return k, [k / (t1 - t0), k / (c1 - c0), k / (t2 - t1), k / (c2 - c1)]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="images per preset for the per-core rate")
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--full", action="store_true",
                    help="also time generating all default presets with the default workers")
    ap.add_argument("--cache", default=None,
                    help="empty folder to generate into with --full (kept; default: a "
                         "temporary one)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(other processes slow every number below)")
    print(f"images per second on one core at {args.size}x{args.size}:")
    print(f"{'preset':16s} {'images':>6s} {'render/wall-s':>14s} {'render/CPU-s':>13s} "
          f"{'+PNG/wall-s':>12s} {'+PNG/CPU-s':>11s}")
    for name in PRESETS:
        n, rates = per_core(name, args.n, args.size)
        print(f"{name:16s} {n:6d} "
              + " ".join(f"{r:{w}.1f}" for r, w in zip(rates, (14, 13, 12, 11))))
    if args.full:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["FER_BENCH_CACHE"] = args.cache or tmp
            if any(Path(os.environ["FER_BENCH_CACHE"], "synth").glob("*/DONE")):
                raise SystemExit(f"{args.cache} already holds generated presets; give an "
                                 "empty folder")
            total, t0, cpu0 = 0, time.perf_counter(), cpu_seconds()
            for name, cfg in PRESETS.items():
                t1 = time.perf_counter()
                folder = ensure_generated(name, cfg.default_n, 0, args.size)
                k = len(list(Path(folder, "images").iterdir()))
                total += k
                print(f"generated {name} default (n={cfg.default_n}): {k} images in "
                      f"{time.perf_counter() - t1:.1f} s")
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
            workers = default_workers()
            print(f"all defaults: {total} images in {wall:.1f} s wall with {workers} workers "
                  f"= {total / wall:.1f} images/s; {cpu:.1f} CPU-s = {total / cpu:.1f} images per "
                  f"CPU-s")
            print(f"target {TARGET_S:.0f} s on 2 cores: measured wall {wall / TARGET_S:.2f} of it; "
                  f"on {workers} idle cores about {cpu / workers:.0f} s = "
                  f"{cpu / workers / TARGET_S:.2f} of it")


if __name__ == "__main__":
    main()
