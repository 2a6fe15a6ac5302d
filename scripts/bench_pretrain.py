#!/usr/bin/env python
"""Throughput of the fast pre-training pipeline against a reference-style loop, one run,
same model, loss, optimiser, batch and device.

fast       decoded uint8 images on the device, batched augmentation there
           (fer_bench.pretrain.pipeline), bf16 + channels_last on CUDA
reference  PIL + torchvision transforms in DataLoader workers (TwoCropTransform, as the
           official CRS-CONT / SupContrast code), collated, copied to the device

Each is timed twice: the full training step (what a run gets) and its input pipeline
alone (where the ceiling is). Images/s counts images (two views each).

``--precision`` instead times the fast training step in fp32 and under bf16 autocast, in
one run, and sets each against this machine's measured matrix-multiply peak for that
dtype (a large square GEMM timed in the same run): the share of the peak a step reaches
is its counted FLOPs (torch's FlopCounterMode over one step) per second over the peak.

    python scripts/bench_pretrain.py --synthetic 512 --input-size 64 --batch-size 32 \
        --steps 20 --workers 2          # a small CPU run
    python scripts/bench_pretrain.py --data .pack/ferplus-trainval.npz.xz:train \
        --input-size 112 --batch-size 128 --steps 50 --workers 14 --json bench.json  # GPU
    python scripts/bench_pretrain.py --synthetic 512 --input-size 64 --batch-size 128 \
        --steps 6 --precision                # fp32 vs bf16 and the share of the matmul peak
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from fer_bench.pretrain.data import PretrainData, Source, load_pretrain_data, merge_sources
from fer_bench.pretrain.distributed import DistContext
from fer_bench.pretrain.losses import Objective
from fer_bench.pretrain.model import build_model
from fer_bench.pretrain.pipeline import DeviceBatches
from fer_bench.pretrain.step import TrainStep, make_optimizer
from fer_bench.runtime import resolve_device
from reference_loop import reference_loader, stack_views  # scripts/, beside this file


def synthetic_data(n: int, size: int) -> PretrainData:
    from fer_bench.synth import sample_faces
    images, labels = sample_faces(n, size=size, seed=0)
    return merge_sources([Source(f"sample_faces:{n}", "synth-wild", "synth-wild", (), images,
                                 labels, "synthetic")])


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run_step, steps: int, warmup: int, device, cap_s: float) -> dict:
    """Run ``warmup`` untimed steps, then up to ``steps`` timed ones (or ``cap_s`` seconds)."""
    for i in range(warmup):
        run_step(i)
    sync(device)
    t0 = time.perf_counter()
    done = 0
    while done < steps and time.perf_counter() - t0 < cap_s:
        run_step(warmup + done)
        done += 1
    sync(device)
    return {"steps": done, "seconds": time.perf_counter() - t0}


def make_step(data: PretrainData, ctx: DistContext, args) -> TrainStep:
    objective = Objective("crs-cont")
    torch.manual_seed(0)
    model = build_model(objective, len(data.fine_classes)).to(ctx.device)
    channels_last = ctx.device.type == "cuda"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if args.compile else model
    optimizer = make_optimizer(model, 0.05, 0.9, 1e-4)
    return TrainStep(net, objective, optimizer, ctx, args.amp, channels_last)


def bench_fast(data, ctx, args) -> dict:
    batches = DeviceBatches(data, args.batch_size, 2, args.input_size, ctx)
    spe = batches.steps_per_epoch

    def input_only(i):
        return batches.batch(i // spe, i % spe, i)

    pipe = timed(input_only, args.steps, args.warmup, ctx.device, args.cap_s)
    step = make_step(data, ctx, args)

    def train_step(i):
        x, fine, coarse = batches.batch(i // spe, i % spe, i)
        step(x, fine, coarse, 0.05)

    full = timed(train_step, args.steps, args.warmup, ctx.device, args.cap_s)
    return {"train": full, "input_only": pipe}


def bench_reference(data, ctx, args) -> dict:
    cuda = ctx.device.type == "cuda"
    t0 = time.perf_counter()
    step = make_step(data, ctx, args)
    loader = reference_loader(data.to("cpu"), args.batch_size, args.input_size, args.workers,
                              pin_memory=cuda)
    # Workers prefetch 2 batches each: drain that queue in the warm-up, or the timed steps
    # would partly measure batches made while nothing was timed.
    warmup = max(args.warmup, 2 * args.workers + 2)
    it = iter(loader)

    def next_batch():
        nonlocal it
        try:
            return next(it)
        except StopIteration:
            it = iter(loader)
            return next(it)

    def input_only(i):
        views, fine, coarse = next_batch()
        stack_views(views, ctx.device), fine.to(ctx.device), coarse.to(ctx.device)

    def train_step(i):
        views, fine, coarse = next_batch()
        step(stack_views(views, ctx.device), fine.to(ctx.device, non_blocking=True),
             coarse.to(ctx.device, non_blocking=True), 0.05)

    pipe = timed(input_only, args.steps, warmup, ctx.device, args.cap_s)
    full = timed(train_step, args.steps, warmup, ctx.device, args.cap_s)
    result = {"train": full, "input_only": pipe, "warmup_steps": warmup,
              "total_s": time.perf_counter() - t0}
    return result


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int = 2048,
                seconds: float = 3.0) -> float:
    """FLOP/s of an n x n GEMM in ``dtype`` on ``device`` (best of repeated timings)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    best, t_end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


def step_flops(data, ctx, args) -> int:
    """FLOPs of one training step (forward + backward), counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode
    batches = DeviceBatches(data, args.batch_size, 2, args.input_size, ctx)
    step = make_step(data, ctx, argparse.Namespace(**{**vars(args), "amp": "off"}))
    x, fine, coarse = batches.batch(0, 0, 0)
    with FlopCounterMode(display=False) as counter:
        step(x, fine, coarse, 0.05)
    return counter.get_total_flops()


def bench_precision(data, ctx, args) -> dict:
    """fp32 vs bf16 training steps, each against its dtype's matmul peak."""
    from fer_bench.pretrain.step import cpu_has_native_bf16
    flops = step_flops(data, ctx, args)
    out = {"step_gflop": flops / 1e9, "native_bf16": cpu_has_native_bf16()}
    for name, amp, dtype in (("fp32", "off", torch.float32), ("bf16", "bf16", torch.bfloat16)):
        peak = matmul_peak(ctx.device, dtype)
        a = argparse.Namespace(**{**vars(args), "amp": amp})
        batches = DeviceBatches(data, args.batch_size, 2, args.input_size, ctx)
        spe = batches.steps_per_epoch
        step = make_step(data, ctx, a)

        def train_step(i):  # timed within this iteration: the loop variables are current
            x, fine, coarse = batches.batch(i // spe, i % spe, i)  # noqa: B023
            step(x, fine, coarse, 0.05)  # noqa: B023

        r = timed(train_step, args.steps, args.warmup, ctx.device, args.cap_s)
        step_s = r["seconds"] / max(r["steps"], 1)
        out[name] = {"images_per_s": rate(r, args.batch_size), "step_s": step_s,
                     "matmul_peak_gflops": peak / 1e9,
                     "share_of_peak": flops / step_s / peak, "raw": r}
    out["bf16_speedup"] = out["bf16"]["images_per_s"] / max(out["fp32"]["images_per_s"], 1e-9)
    return out


def print_precision(res: dict, args, device: str) -> None:
    print(f"\none step: {res['step_gflop']:.1f} GFLOP ({args.batch_size} images, 2 views, "
          f"{args.input_size}px); native bf16: {res['native_bf16']}")
    print(f"{'precision':10s} {'img/s':>8s} {'s/step':>8s} {'peak GFLOP/s':>13s} {'share':>7s}")
    for name in ("fp32", "bf16"):
        r = res[name]
        print(f"{name:10s} {r['images_per_s']:8.1f} {r['step_s']:8.2f} "
              f"{r['matmul_peak_gflops']:13.1f} {100 * r['share_of_peak']:6.1f}%")
    print(f"bf16 / fp32 throughput: {res['bf16_speedup']:.2f}x  ({device})")


def rate(r: dict, batch: int) -> float:
    return r["steps"] * batch / r["seconds"] if r["steps"] else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", action="append", help="pre-training data spec (repeatable)")
    src.add_argument("--synthetic", type=int, help="N generated faces rendered in memory")
    p.add_argument("--input-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="reference DataLoader workers")
    p.add_argument("--device", default="auto")
    p.add_argument("--amp", default="auto", choices=["auto", "bf16", "off"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--cap-s", type=float, default=120.0, help="time cap per timed phase")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--precision", action="store_true",
                   help="fp32 vs bf16 training steps and their share of the matmul peak "
                        "(instead of fast vs reference)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    ctx = DistContext(device=torch.device(resolve_device(args.device, local_rank=0)))
    t0 = time.perf_counter()
    data = (synthetic_data(args.synthetic, args.input_size) if args.synthetic
            else load_pretrain_data(args.data, args.input_size))
    print(f"data: {len(data)} images {tuple(data.images.shape[1:])} in "
          f"{time.perf_counter() - t0:.1f}s; device {ctx.device}", flush=True)
    device = (torch.cuda.get_device_name(ctx.device) if ctx.device.type == "cuda"
              else f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)")
    if args.precision:
        res = bench_precision(data, ctx, args)
        res.update(device=device, torch=torch.__version__, input_size=args.input_size,
                   batch_size=args.batch_size, load_average=list(os.getloadavg()))
        print_precision(res, args, device)
        print(f"load average at the end: {res['load_average']}")
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=1))
        return
    fast = bench_fast(data, ctx, args)
    print("fast done", flush=True)
    ref = bench_reference(data, ctx, args)
    b = args.batch_size
    figures = {
        "device": device,
        "torch": torch.__version__, "input_size": args.input_size, "batch_size": b,
        "images": len(data), "reference_workers": args.workers, "amp": args.amp,
        "compile": args.compile,
        "fast_train_images_per_s": rate(fast["train"], b),
        "reference_train_images_per_s": rate(ref["train"], b),
        "fast_input_images_per_s": rate(fast["input_only"], b),
        "reference_input_images_per_s": rate(ref["input_only"], b),
        "raw": {"fast": fast, "reference": ref},
    }
    figures["train_ratio"] = (figures["fast_train_images_per_s"] /
                              max(figures["reference_train_images_per_s"], 1e-9))
    figures["input_ratio"] = (figures["fast_input_images_per_s"] /
                              max(figures["reference_input_images_per_s"], 1e-9))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    print(f"\n{'pipeline':12s} {'train img/s':>12s} {'input-only img/s':>17s}")
    print(f"{'fast':12s} {figures['fast_train_images_per_s']:12.1f} "
          f"{figures['fast_input_images_per_s']:17.1f}")
    print(f"{'reference':12s} {figures['reference_train_images_per_s']:12.1f} "
          f"{figures['reference_input_images_per_s']:17.1f}")
    print(f"{'ratio':12s} {figures['train_ratio']:12.2f} {figures['input_ratio']:17.2f}")
    print(f"({figures['device']}, {args.input_size}px, batch {b}, {args.workers} loader workers)")


if __name__ == "__main__":
    main()
