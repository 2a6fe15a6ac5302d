"""Face detection once per image: two encoders' extraction on raw photos, before and after.

    .venv/bin/python scripts/bench_detect.py [--n 240] [--size 1000x750]
                                             [--encoders pixels random-resnet18]

Writes ``--n`` generated faces (``fer_bench.synth.sample_faces``, preset synth-lab) pasted
at random places and sizes (a third to a half of the height: 250-420 px) into 1000x750
(``--size``) JPEG photos, as a ``folder:``
dataset with ``face_crop=haar``, then times ``fer-bench extract`` (one fresh
process each, wall time including start-up) for each encoder, in turn:

- before: ``detect_size=0`` (the Haar cascade at full resolution, as fer-bench did
  before detections were downscaled) and a fresh cache folder for every extraction, so
  no detection is shared: every encoder pays the detector again, as before detections
  were cached;
- after: the defaults (detection on a copy whose longest side is 640 px) and one cache
  folder shared by both extractions: the first detects and caches, the second reads the
  detection cache and runs no detector.

Prints each extraction's seconds, the totals and their ratio, and the load average before
and after (the machine may be shared, e.g. with a training job: the ratio is the figure
to read, the absolute times move with the load). Not a test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FER_BENCH = [sys.executable, "-c", "from fer_bench.cli import main; main()"]


def write_photos(root: Path, n: int, seed: int = 0, width: int = 1000,
                 height: int = 750) -> None:
    """n JPEGs <root>/<label>/<i>.jpg of width x height, one generated face each."""
    import numpy as np
    from PIL import Image

    from fer_bench.synth import sample_faces

    faces, labels = sample_faces(n, size=256, seed=seed, preset="synth-lab")
    rng = np.random.default_rng(seed)
    for i, (face, label) in enumerate(zip(faces, labels)):
        # A smooth random background (upscaled coarse noise) with some fine grain.
        coarse = rng.integers(40, 200, (6, 8, 3), dtype=np.uint8)
        frame = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BILINEAR))
        frame = np.clip(frame.astype(np.int16) + rng.integers(-12, 13, frame.shape), 0, 255)
        frame = frame.astype(np.uint8)
        side = int(rng.integers(height // 3, height * 56 // 100 + 1))
        x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
        pasted = Image.fromarray(face.permute(1, 2, 0).numpy()).resize((side, side),
                                                                       Image.BICUBIC)
        frame[y:y + side, x:x + side] = np.asarray(pasted)
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(folder / f"{i:04d}.jpg", quality=90)


def extract(encoder: str, dataset: str, cache: Path, workers: int | None) -> float:
    cmd = [*FER_BENCH, "extract", "--encoder", encoder, "--dataset", dataset,
           "--cache-dir", str(cache), "--device", "cpu"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "FER_BENCH_CACHE": str(cache)}   # file digests, detections
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=240, help="photos (default 240)")
    parser.add_argument("--size", default="1000x750", help="photo WIDTHxHEIGHT")
    parser.add_argument("--encoders", nargs="+", default=["pixels", "random-resnet18"])
    parser.add_argument("--workers", type=int, default=None,
                        help="loader workers (default: fer-bench's, min(4, CPUs))")
    parser.add_argument("--only", choices=["before", "after"], default=None,
                        help="run one side only (no ratio)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-detect-") as tmp:
        tmp = Path(tmp)
        root = tmp / "photos"
        width, height = (int(v) for v in args.size.lower().split("x"))
        t = time.perf_counter()
        write_photos(root, args.n, width=width, height=height)
        print(f"{args.n} photos {width}x{height} written in {time.perf_counter() - t:.1f} s; "
              f"{os.cpu_count()} CPUs; load average (1, 5, 15 min) {load()}", flush=True)
        sides = {"before": f"folder:{root}:face_crop=haar,detect_size=0",
                 "after": f"folder:{root}:face_crop=haar"}
        totals = {}
        for side, dataset in sides.items():
            if args.only not in (None, side):
                continue
            times = []
            for k, encoder in enumerate(args.encoders):
                # before: a cache folder per extraction (nothing shared); after: one
                cache = tmp / (f"cache-before-{k}" if side == "before" else "cache-after")
                times.append(extract(encoder, dataset, cache, args.workers))
                print(f"{side:6s} {encoder:18s} {times[-1]:7.1f} s   (load {load()})",
                      flush=True)
            totals[side] = sum(times)
            print(f"{side:6s} {'total':18s} {totals[side]:7.1f} s")
        if len(totals) == 2:
            print(f"before / after: {totals['before'] / totals['after']:.1f}x "
                  f"({totals['before']:.0f} s -> {totals['after']:.0f} s); load average at "
                  f"the end {load()} on {os.cpu_count()} CPUs (other jobs on the machine "
                  "slow both sides)")


if __name__ == "__main__":
    main()
