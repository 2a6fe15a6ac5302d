"""Generation speed of the synthetic faces.

Prints images per second per core at the given size (render only, and render + PNG
write) for every preset, measured in this run on one core, then (with --full) the wall
time of generating all three default presets with the default 2 worker processes into a
fresh cache folder, against the one-minute target of issue 2.

    .venv/bin/python scripts/bench_generate.py [--n 300] [--size 112] [--full [--cache DIR]]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from fer_bench.synth.generate import _write_chunk, default_workers, ensure_generated
from fer_bench.synth.plan import plan_preset
from fer_bench.synth.preset_config import PRESETS
from fer_bench.synth.render import render_face

TARGET_S = 60.0


def per_core(preset: str, n: int, size: int) -> tuple[float, float, int]:
    specs = plan_preset(PRESETS[preset], n, seed=123)
    t0 = time.perf_counter()
    for s in specs:
        render_face(s.identity, s.aus, s.scene, size)
    render_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"{i}.png" for i in range(len(specs))]
        t0 = time.perf_counter()
        _write_chunk(specs, names, tmp, size, PRESETS[preset].grey)
        write_s = time.perf_counter() - t0
    return len(specs) / render_s, len(specs) / write_s, len(specs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="images per preset for the per-core rate")
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--full", action="store_true",
                    help="also time generating all default presets with the default workers")
    ap.add_argument("--cache", default=None,
                    help="empty folder to generate into with --full (kept; default: a temporary one)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(other processes slow every number below)")
    print(f"{'preset':16s} {'images':>6s} {'render/s/core':>14s} {'+PNG/s/core':>12s}")
    for name in PRESETS:
        render_rate, write_rate, n = per_core(name, args.n, args.size)
        print(f"{name:16s} {n:6d} {render_rate:14.1f} {write_rate:12.1f}")
    if args.full:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["FER_BENCH_CACHE"] = args.cache or tmp
            if any(Path(os.environ["FER_BENCH_CACHE"], "synth").glob("*/DONE")):
                raise SystemExit(f"{args.cache} already holds generated presets; give an empty folder")
            total, t0 = 0, time.perf_counter()
            for name, cfg in PRESETS.items():
                t1 = time.perf_counter()
                folder = ensure_generated(name, cfg.default_n, 0, args.size)
                k = len(list(Path(folder, "images").iterdir()))
                total += k
                print(f"generated {name} default (n={cfg.default_n}): {k} images in "
                      f"{time.perf_counter() - t1:.1f} s")
            wall = time.perf_counter() - t0
            print(f"all defaults: {total} images in {wall:.1f} s with {default_workers()} workers "
                  f"= {total / wall:.1f} images/s; target {TARGET_S:.0f} s -> "
                  f"{wall / TARGET_S:.2f} of the budget")


if __name__ == "__main__":
    main()
