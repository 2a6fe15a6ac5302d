"""Feature-extraction throughput: fer-bench's pipeline against a plain PIL loop.

    .venv/bin/python scripts/bench_extract.py [--n 1000] [--size 144] [--workers N]

Prints, from one run (each pipeline in a fresh process so its peak memory is its own):
- compute ceiling: random-resnet18 forward alone on ready 112 px batches (img/s);
- fer-bench: ``FeatureStore.get_splits`` over generated faces (decode with torchvision.io
  in DataLoader workers, uint8 resize, sealed ``Encoder.embed``, shard files, entry);
- baseline: a per-image ``PIL.Image.open -> Resize -> ToTensor -> Normalize`` Dataset in
  a DataLoader with the same workers and batch size, same model, ``torch.no_grad``;
- the ratio, and how close each is to the ceiling; peak RSS (process + workers);
- the wall time of a second ``fer-bench extract`` (a cache hit) and its own statement
  that the encoder's weights were not loaded, next to the bare start-up time.
Not a test: numbers depend on the machine and on whatever else runs on it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENCODER = "random-resnet18"


def _peak_rss_mb() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "peak_worker_rss_mb": round(workers, 1)}


def _dataset(spec: str):
    from fer_bench.datasets.registry import load_dataset
    return load_dataset(spec)


def phase_ceiling(args) -> dict:
    import torch

    from fer_bench.encoder_registry import get_encoder

    model = get_encoder(ENCODER).model
    x = torch.randn(args.batch_size, 3, 112, 112)
    out = {}
    for name, fmt in (("contiguous", torch.contiguous_format),
                      ("channels_last", torch.channels_last)):
        m, xx = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            m(xx)
            t0 = time.perf_counter()
            for _ in range(args.ceiling_batches):
                m(xx)
            out[f"{name}_img_s"] = args.ceiling_batches * len(x) / (time.perf_counter() - t0)
    return out


def phase_ours(args) -> dict:
    from fer_bench.encoder_registry import get_encoder
    from fer_bench.features.store import FeatureStore

    ds = _dataset(args.dataset)
    enc = get_encoder(ENCODER)
    enc.model  # build before the clock starts, as the baseline does
    store = FeatureStore(Path(args.cache) / "features")
    t0 = time.perf_counter()
    feats = store.get_splits(enc, ds, batch_size=args.batch_size, num_workers=args.workers,
                             progress=False)
    seconds = time.perf_counter() - t0
    n = sum(len(f) for f in feats.values())
    return {"images": n, "seconds": seconds, "img_s": n / seconds, **_peak_rss_mb()}


def phase_baseline(args) -> dict:
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader
    from torchvision import transforms

    from fer_bench.encoder_registry import get_encoder

    ds = _dataset(args.dataset)
    enc = get_encoder(ENCODER)
    model = enc.model
    pre = enc.info.preprocessing
    tf = transforms.Compose([transforms.Resize((pre.input_size, pre.input_size)),
                             transforms.ToTensor(), transforms.Normalize(pre.mean, pre.std)])
    paths = [str(ds.image_path(i)) for i in range(len(ds))]

    class PilImages(torch.utils.data.Dataset):
        def __len__(self):
            return len(paths)

        def __getitem__(self, i):
            with Image.open(paths[i]) as im:
                return tf(im.convert("RGB"))

    loader = DataLoader(PilImages(), batch_size=args.batch_size, num_workers=args.workers)
    t0 = time.perf_counter()
    chunks = []
    with torch.no_grad():
        for x in loader:
            chunks.append(model(x).flatten(1))
    seconds = time.perf_counter() - t0
    n = sum(len(c) for c in chunks)
    return {"images": n, "seconds": seconds, "img_s": n / seconds, **_peak_rss_mb()}


PHASES = {"ceiling": phase_ceiling, "ours": phase_ours, "baseline": phase_baseline}


def _run_phase(name: str, args) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--cache", args.cache,
           "--dataset", args.dataset, "--batch-size", str(args.batch_size),
           "--workers", str(args.workers), "--ceiling-batches", str(args.ceiling_batches)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"phase {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def main() -> None:
    from fer_bench.images.loader import default_workers

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1000, help="generated faces (synth-wild)")
    p.add_argument("--size", type=int, default=144, help="their size in px (resized to 112)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=default_workers())
    p.add_argument("--ceiling-batches", type=int, default=5)
    p.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    p.add_argument("--cache", help=argparse.SUPPRESS)
    p.add_argument("--dataset", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return

    args.dataset = args.dataset or f"synth-wild:n={args.n},size={args.size}"
    print(f"dataset {args.dataset}, encoder {ENCODER} at 112 px, batch {args.batch_size}, "
          f"{args.workers} workers, {os.cpu_count()} CPUs, torch threads default")
    _dataset(args.dataset)  # generate (and cache) the faces before anything is timed
    with tempfile.TemporaryDirectory(prefix="fer-bench-bench-") as cache:
        args.cache = cache
        ceiling = _run_phase("ceiling", args)
        ours = _run_phase("ours", args)
        base = _run_phase("baseline", args)
        cli = Path(sys.executable).with_name("fer-bench")
        cli = [str(cli)] if cli.exists() else [sys.executable, "-c",
                                               "from fer_bench.cli import main; main()"]
        hit_s, hit_out = _timed(cli + ["extract", "--encoder", ENCODER, "--dataset",
                                       args.dataset, "--cache-dir", cache, "--device", "cpu"])
        startup_s, _ = _timed([sys.executable, "-c", "import fer_bench.cli, torch, torchvision"
                               ", pandas, fer_bench.features.store, fer_bench.encoders"])

    top = max(ceiling.values())
    print(f"compute ceiling (forward only): {ceiling['contiguous_img_s']:.1f} img/s contiguous, "
          f"{ceiling['channels_last_img_s']:.1f} img/s channels_last")
    for name, r in (("fer-bench pipeline", ours), ("PIL+transforms baseline", base)):
        print(f"{name:24s} {r['img_s']:7.1f} img/s  ({r['images']} images in "
              f"{r['seconds']:.1f} s, {100 * r['img_s'] / top:.0f}% of the ceiling)  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB + workers {r['peak_worker_rss_mb']:.0f} MB")
    print(f"speed-up over the baseline: {ours['img_s'] / base['img_s']:.2f}x (target >= 1.5x)")
    print(f"second `fer-bench extract` (cache hit): {hit_s:.2f} s wall; bare start-up "
          f"(imports) {startup_s:.2f} s; difference {hit_s - startup_s:+.2f} s")
    for line in hit_out.strip().splitlines():
        print(f"  | {line}")


if __name__ == "__main__":
    main()
