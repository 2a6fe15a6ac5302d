"""``fer-bench pretrain``: the training loop.

Defaults are the official CRS-CONT ones (../shared/design/crs-cont.md): SGD lr 0.5,
momentum 0.9, weight decay 1e-4, x0.5 every 20 epochs, 100 epochs, batch 128 images
(256 views); the input is 112 px by default (48 px FERPlus faces; 224 reproduces the paper).

One output folder per run: ``config.json`` (resolved settings), ``train_log.jsonl`` and
``checkpoint.pt`` (saved every few minutes, at the end and when the time budget stops
the run mid-epoch). An existing run is continued only with ``resume``, replaced only with
``overwrite``; resuming with settings that change the trained function is refused.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from fer_bench.pretrain.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from fer_bench.pretrain.data import PretrainData, load_pretrain_data
from fer_bench.pretrain.distributed import (DistContext, any_rank, init_distributed,
                                            shutdown)
from fer_bench.pretrain.losses import Objective
from fer_bench.pretrain.model import PretrainNet, build_model
from fer_bench.pretrain.pipeline import DeviceBatches
from fer_bench.pretrain.run_log import LOG_NAME, IntervalMeter, RunLog
from fer_bench.pretrain.step import TrainStep, make_optimizer

# Settings that change what is trained; a resume must keep them.
_FIXED_ON_RESUME = ("method", "data", "batch_size", "lr", "momentum", "weight_decay",
                    "lr_step", "lr_gamma", "warmup_epochs", "input_size", "stored_size",
                    "clean_baselines", "seed")


class RunExists(FileExistsError):
    pass


@dataclass
class TrainConfig:
    method: str = "crs-cont"
    data: tuple[str, ...] = ()
    out: str = "out/pretrain"
    data_root: str | None = None
    epochs: int = 100
    batch_size: int = 128
    lr: float = 0.5
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step: int = 20
    lr_gamma: float = 0.5
    warmup_epochs: float = 0.0
    input_size: int = 112
    stored_size: int | None = None       # None: the input size
    clean_baselines: bool = False
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"                    # bf16 autocast on CUDA
    channels_last: bool | None = None    # None: on CUDA
    compile: bool = False
    time_budget_min: float | None = None
    max_steps: int | None = None         # stop after this many steps in total
    log_every: int = 20
    checkpoint_every_min: float = 5.0
    workers: int | None = None           # image decoding threads
    progress: bool | None = None         # None: when stderr is a terminal
    resume: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.data = tuple(self.data)
        Objective(self.method, self.clean_baselines)  # validates the method name
        for name in ("epochs", "batch_size", "input_size", "lr_step", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.resume and self.overwrite:
            raise ValueError("give either resume or overwrite, not both")

    @property
    def objective(self) -> Objective:
        return Objective(self.method, self.clean_baselines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        return d


@dataclass
class TrainResult:
    model: PretrainNet
    config: TrainConfig
    data_summary: dict
    fine_classes: tuple[str, ...]
    present_classes: tuple[str, ...]
    pretrained_on: tuple[str, ...]
    steps: int
    steps_per_epoch: int
    elapsed_s: float
    stop_reason: str
    images_per_s: float
    out: Path
    device: str = "cpu"
    history: list[dict] = field(default_factory=list)

    @property
    def epochs_run(self) -> float:
        return self.steps / self.steps_per_epoch


def learning_rate(cfg: TrainConfig, epoch: float) -> float:
    """Step decay (x lr_gamma every lr_step epochs) after an optional linear warm-up."""
    lr = cfg.lr * cfg.lr_gamma ** math.floor(epoch / cfg.lr_step)
    if cfg.warmup_epochs > 0 and epoch < cfg.warmup_epochs:
        lr *= (epoch + 1e-8) / cfg.warmup_epochs
    return lr


def train(cfg: TrainConfig, data: PretrainData | None = None) -> TrainResult:
    """Pre-train as ``cfg`` says (under torchrun: one process per device); returns the
    trained network (unwrapped) and what happened. ``data`` skips decoding (tests)."""
    ctx = init_distributed(cfg.device)
    try:
        return _train(cfg, ctx, data)
    finally:
        shutdown(ctx)


def _train(cfg: TrainConfig, ctx: DistContext, data: PretrainData | None) -> TrainResult:
    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT_NAME
    state = _prepare_out(cfg, out, ctx)
    objective = cfg.objective
    if data is None:
        data = load_pretrain_data(cfg.data, cfg.stored_size or cfg.input_size,
                                  root=cfg.data_root, workers=cfg.workers)
    summary = data.summary()

    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = build_model(objective, len(data.fine_classes)).to(ctx.device)
    channels_last = ctx.device.type == "cuda" if cfg.channels_last is None else cfg.channels_last
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg.lr, cfg.momentum, cfg.weight_decay)
    global_step, elapsed_before = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        global_step, elapsed_before = int(state["global_step"]), float(state["elapsed_s"])
    net = model
    if ctx.enabled:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model, device_ids=[ctx.device.index]
                                      if ctx.device.type == "cuda" else None)
    if cfg.compile:
        net = torch.compile(net)
    step_fn = TrainStep(net, objective, optimizer, ctx, cfg.amp, channels_last)
    batches = DeviceBatches(data, cfg.batch_size, objective.views, cfg.input_size, ctx, cfg.seed)
    steps_per_epoch = batches.steps_per_epoch
    total_steps = cfg.epochs * steps_per_epoch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(data)} images are fewer than one batch of {cfg.batch_size}")
    if state is not None and state["steps_per_epoch"] != steps_per_epoch:
        raise ValueError(f"--resume {ckpt_path}: the data now make {steps_per_epoch} steps per "
                         f"epoch, the saved run had {state['steps_per_epoch']}; the datasets "
                         "changed since (e.g. a new generator version): start a new run")

    log = RunLog(out / LOG_NAME if ctx.is_main else None)
    if ctx.is_main:
        log.write("start" if state is None else "resume", global_step=global_step,
                  config=cfg.to_dict(), world=ctx.world, device=str(ctx.device),
                  steps_per_epoch=steps_per_epoch, data=summary)
    bar = _progress(cfg, ctx, total_steps, global_step)
    model.train()
    t_start = time.time()
    t_last_ckpt = t_start
    meter = IntervalMeter()
    history: list[dict] = []
    stop_reason = "epochs"
    budget_s = None if cfg.time_budget_min is None else 60.0 * cfg.time_budget_min
    check_every = 10 if ctx.enabled else 1

    def save(reason: str) -> None:
        if ctx.is_main:
            save_checkpoint(ckpt_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "global_step": global_step, "epoch": global_step // steps_per_epoch,
                "steps_per_epoch": steps_per_epoch,
                "elapsed_s": elapsed_before + time.time() - t_start,
                "config": cfg.to_dict(), "data_summary": summary,
                "fine_classes": list(data.fine_classes),
                "present_classes": list(data.present_classes),
                "pretrained_on": list(data.pretrained_on), "reason": reason})
            log.write("checkpoint", global_step=global_step, reason=reason)

    def flush_log(end_of_epoch: bool) -> None:
        record = meter.flush()
        record.update(global_step=global_step, epoch=round(global_step / steps_per_epoch, 4),
                      lr=learning_rate(cfg, (global_step - 1) / steps_per_epoch),
                      elapsed_s=round(elapsed_before + time.time() - t_start, 2))
        history.append(record)
        if not math.isfinite(record["total"]):  # before any checkpoint can save the NaNs
            raise FloatingPointError(
                f"the loss became {record['total']} by step {global_step}; the last checkpoint "
                f"in {out} predates it. Lower --lr or add --warmup-epochs")
        if not ctx.is_main:
            return
        log.write("step", **record)
        if bar is not None:
            bar.set_postfix(loss=record["total"], ips=int(record["images_per_s"]))
        elif end_of_epoch:
            print(f"epoch {global_step // steps_per_epoch}/{cfg.epochs} loss "
                  f"{record['total']:.4f} {record['images_per_s']:.0f} img/s "
                  f"{record['elapsed_s']:.0f}s", flush=True)

    while global_step < total_steps:
        epoch, step = divmod(global_step, steps_per_epoch)
        if cfg.max_steps is not None and global_step >= cfg.max_steps:
            stop_reason = "max_steps"
            break
        if budget_s is not None and global_step % check_every == 0 and any_rank(
                time.time() - t_start > budget_s, ctx):
            stop_reason = "time_budget"
            break
        x, fine, coarse = batches.batch(epoch, step, global_step)
        terms = step_fn(x, fine, coarse, learning_rate(cfg, global_step / steps_per_epoch))
        meter.add(terms, cfg.batch_size)
        global_step += 1
        if bar is not None:
            bar.update(1)
        end_of_epoch = global_step % steps_per_epoch == 0
        if meter.steps >= cfg.log_every or end_of_epoch:
            flush_log(end_of_epoch)
        if end_of_epoch and time.time() - t_last_ckpt > 60 * cfg.checkpoint_every_min:
            save("periodic")
            t_last_ckpt = time.time()
    if meter.steps:
        flush_log(False)
    if bar is not None:
        bar.close()
    save(stop_reason)
    elapsed = elapsed_before + time.time() - t_start
    if ctx.is_main:
        log.write("stop", reason=stop_reason, global_step=global_step,
                  epochs_run=round(global_step / steps_per_epoch, 4), elapsed_s=round(elapsed, 2))
    return TrainResult(model=model, config=cfg, data_summary=summary,
                       fine_classes=data.fine_classes, present_classes=data.present_classes,
                       pretrained_on=data.pretrained_on, steps=global_step,
                       steps_per_epoch=steps_per_epoch, elapsed_s=elapsed,
                       stop_reason=stop_reason,
                       images_per_s=history[-1]["images_per_s"] if history else 0.0, out=out,
                       device=_device_name(ctx.device), history=history)


def _prepare_out(cfg: TrainConfig, out: Path, ctx: DistContext) -> dict | None:
    """Check the output folder against resume/overwrite; return the checkpoint to resume."""
    ckpt_path = out / CHECKPOINT_NAME
    exists = ckpt_path.is_file() or (out / LOG_NAME).is_file()
    if exists and not (cfg.resume or cfg.overwrite):
        raise RunExists(f"{out} holds a pre-training run already: pass --resume to continue "
                        "it or --overwrite to start afresh")
    if cfg.resume and not ckpt_path.is_file():
        raise FileNotFoundError(f"--resume: no checkpoint at {ckpt_path}")
    state = None
    if cfg.resume:
        state = load_checkpoint(ckpt_path)
        saved = state["config"]
        changed = [f"{k}: {saved.get(k)!r} -> {getattr(cfg, k)!r}" for k in _FIXED_ON_RESUME
                   if _norm(saved.get(k)) != _norm(cfg.to_dict()[k])]
        if changed:
            raise ValueError(f"--resume {ckpt_path}: these settings differ from the saved run "
                             f"({'; '.join(changed)}); start a new run instead")
    if ctx.enabled:
        torch.distributed.barrier()  # every rank has read the old state before rank 0 writes
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        if cfg.overwrite:
            for name in (CHECKPOINT_NAME, LOG_NAME):
                (out / name).unlink(missing_ok=True)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    return state


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def _norm(v):
    return list(v) if isinstance(v, tuple) else v


def _progress(cfg: TrainConfig, ctx: DistContext, total: int, initial: int):
    import sys
    show = cfg.progress if cfg.progress is not None else sys.stderr.isatty()
    if not (show and ctx.is_main):
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)
