#!/usr/bin/env python
"""Extraction throughput of the per-image encoders (lbp, hog, dlib-face) on one process
against one worker process per core, in one run, with the ratio.

Both sides embed the same generated faces in batches of ``--batch`` and their features
are compared byte for byte (they must be identical). The pool's start-up (spawned
workers import torch and load the model once) is timed apart from the steady state, so
both the first-batch cost and the throughput a long extraction sees are printed. The
load average is printed too: a busy machine lowers every rate and, with fewer free
cores, the ratio.

    python scripts/bench_pool.py                    # lbp and hog, 512 faces
    python scripts/bench_pool.py --encoders dlib-face --n 256
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.synth import sample_faces


def rate(encoder, faces: torch.Tensor, batch: int) -> tuple[float, float, np.ndarray]:
    """(seconds of the first batch, images/s over the rest, features)."""
    started = time.perf_counter()
    parts = [encoder.embed(faces[:batch]).numpy()]
    first = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(batch, len(faces), batch):
        parts.append(encoder.embed(faces[i:i + batch]).numpy())
    rest = time.perf_counter() - started
    return first, (len(faces) - batch) / rest, np.concatenate(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--encoders", nargs="+", default=["lbp", "hog"])
    p.add_argument("--n", type=int, default=512, help="generated faces")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for name in args.encoders:
        size = get_encoder(name).info.preprocessing.input_size
        faces = torch.as_tensor(sample_faces(args.n, size=size, seed=7)[0])
        first1, one, feats1 = rate(get_encoder(name, workers=1), faces, args.batch)
        firstn, many, featsn = rate(get_encoder(name, workers=args.workers), faces, args.batch)
        same = feats1.tobytes() == featsn.tobytes()
        print(f"{name:10s} 1 process {one:7.1f} img/s | {args.workers} workers {many:7.1f} img/s"
              f" | ratio {many / one:4.2f}x | first batch {first1:.1f}s vs {firstn:.1f}s "
              f"(worker start) | identical features: {same}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
