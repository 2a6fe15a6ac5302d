"""``fer-bench pretrain``: the training loop.

Defaults are the official CRS-CONT ones (docs/crs-cont.md): SGD lr 0.5, momentum 0.9,
weight decay 1e-4, x0.5 every 20 epochs, 100 epochs, batch 128 images (256 views); the
input is 112 px by default (48 px FERPlus faces; 224 reproduces the paper).

With a time budget the run measures its step rate for ``plan_after_s`` seconds, then fixes
its total steps so that the same schedule shape (x0.5 at every fifth of the run), the
health checks and the final checkpoint all end inside the budget
(:mod:`fer_bench.pretrain.schedule`); the plan is logged before training goes on.

One output folder per run: ``config.json`` (resolved settings), ``train_log.jsonl``,
``health.png`` (:mod:`fer_bench.pretrain.health` curves) and ``checkpoint.pt`` (saved
every few minutes, at the end, and when a budget or a signal stops the run mid-epoch).
An existing run is continued only with ``resume``, replaced only with ``overwrite``;
resuming with settings that change the trained function is refused.
"""
from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from fer_bench.datasets.base import DatasetError
from fer_bench.pretrain.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from fer_bench.pretrain.data import (
    PretrainData,
    canonical_hold_out,
    load_pretrain_data,
    load_source,
    parse_spec,
    without_expressions,
)
from fer_bench.pretrain.distributed import (DistContext, any_rank, init_distributed, min_over_ranks,
                                            shutdown)
from fer_bench.pretrain.health import DEFAULT_HEALTH_N, HealthSet, collapse_warning
from fer_bench.pretrain.health_plot import HEALTH_PLOT, plot_run
from fer_bench.pretrain.losses import Objective
from fer_bench.pretrain.model import PretrainNet, build_model
from fer_bench.pretrain.pipeline import DeviceBatches
from fer_bench.pretrain.run_log import LOG_NAME, IntervalMeter, RunLog
from fer_bench.pretrain.schedule import Schedule, plan_steps
from fer_bench.pretrain.step import TrainStep, make_optimizer, uses_bf16

# Settings that change what is trained; a resume must keep them.
_FIXED_ON_RESUME = ("method", "data", "batch_size", "lr", "momentum", "weight_decay",
                    "lr_step", "lr_gamma", "warmup_epochs", "input_size", "stored_size",
                    "clean_baselines", "weight_vector", "hold_out", "total_steps", "seed")
# Settings added after runs were saved, with the value those older runs were trained with.
_DEFAULTS_OF_OLDER_RUNS = {"weight_vector": "official", "hold_out": []}


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
    weight_vector: str = "official"      # "off": all anchors weigh 1.0 (ablation)
    hold_out: tuple[str, ...] = ()       # expressions kept out of training (unseen later)
    total_steps: int | None = None       # the schedule over exactly this many steps
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"                    # bf16 autocast on CUDA and bf16-capable CPUs
    channels_last: bool | None = None    # None: on CUDA
    compile: bool = False
    time_budget_min: float | None = None  # plan the total steps to end within it
    plan_after_s: float = 90.0           # measure the step rate this long, then plan
    max_steps: int | None = None         # stop after this many steps in total
    log_every: int = 20
    checkpoint_every_min: float = 5.0
    health_data: str | None = "auto"     # held-aside faces; "auto": FERPlus val or generated
    health_n: int = DEFAULT_HEALTH_N
    health_every: int | None = None      # steps between health checks (None: every epoch)
    workers: int | None = None           # image decoding threads
    progress: bool | None = None         # None: when stderr is a terminal
    resume: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.data = tuple(self.data)
        self.hold_out = canonical_hold_out(self.hold_out)
        _ = self.objective  # validates the method name and the weight vector
        if self.total_steps is not None and self.time_budget_min is not None:
            raise ValueError("give either total_steps (a fixed schedule) or a time budget "
                             "(a planned one), not both")
        if self.total_steps is not None and self.total_steps < 1:
            raise ValueError(f"total_steps must be at least 1, got {self.total_steps}")
        for name in ("epochs", "batch_size", "input_size", "lr_step", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.resume and self.overwrite:
            raise ValueError("give either resume or overwrite, not both")

    @property
    def objective(self) -> Objective:
        return Objective(self.method, self.clean_baselines, self.weight_vector)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        d["hold_out"] = list(self.hold_out)
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
    plan: dict | None = None
    health: list[dict] = field(default_factory=list)

    @property
    def epochs_run(self) -> float:
        return self.steps / self.steps_per_epoch


def schedule_for(cfg: TrainConfig, steps_per_epoch: int,
                 total_steps: int | None = None) -> Schedule:
    """The official step-decay shape over ``cfg.epochs`` epochs, or over ``total_steps``
    when a time budget has planned the run."""
    return Schedule.from_epochs(cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma,
                                cfg.warmup_epochs, steps_per_epoch,
                                total_steps or cfg.total_steps)


def train(cfg: TrainConfig, data: PretrainData | None = None) -> TrainResult:
    """Pre-train as ``cfg`` says (under torchrun: one process per device); returns the
    trained network (unwrapped) and what happened. ``data`` skips decoding (tests)."""
    ctx = init_distributed(cfg.device)
    try:
        with _stop_on_signals() as stop_flag:
            return _train(cfg, ctx, data, stop_flag)
    finally:
        shutdown(ctx)


@contextlib.contextmanager
def _stop_on_signals():
    """SIGINT / SIGTERM end the run at the next step with a checkpoint (and an export, if
    asked for) instead of killing it; a second SIGINT interrupts at once."""
    flag = {"signal": None}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["signal"] is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag["signal"] = signal.Signals(signum).name
        print(f"\n{flag['signal']}: stopping after this step (checkpoint, then export)",
              file=sys.stderr, flush=True)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _train(cfg: TrainConfig, ctx: DistContext, data: PretrainData | None,
           stop_flag: dict) -> TrainResult:
    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT_NAME
    state = _prepare_out(cfg, out, ctx)
    objective = cfg.objective
    if data is None:
        data = load_pretrain_data(cfg.data, cfg.stored_size or cfg.input_size,
                                  root=cfg.data_root, workers=cfg.workers)
    data = without_expressions(data, cfg.hold_out)
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
    step_fn = TrainStep(net, objective, optimizer, ctx, _amp(cfg, ctx.device), channels_last)
    batches = DeviceBatches(data, cfg.batch_size, objective.views, cfg.input_size, ctx, cfg.seed)
    steps_per_epoch = batches.steps_per_epoch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(data)} images are fewer than one batch of {cfg.batch_size}")
    if state is not None and state["steps_per_epoch"] != steps_per_epoch:
        raise ValueError(f"--resume {ckpt_path}: the data now make {steps_per_epoch} steps per "
                         f"epoch, the saved run had {state['steps_per_epoch']}; the datasets "
                         "changed since (e.g. a new generator version): start a new run")
    limit = cfg.total_steps or cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        limit = min(limit, cfg.max_steps)
    budget_s = None if cfg.time_budget_min is None else 60.0 * cfg.time_budget_min
    plan = state.get("plan") if state is not None else None
    schedule = schedule_for(cfg, steps_per_epoch, plan["total_steps"] if plan else None)
    health_every = cfg.health_every or steps_per_epoch
    health_set = _health_set(cfg, data) if ctx.is_main else None

    log = RunLog(out / LOG_NAME if ctx.is_main else None)
    if ctx.is_main:
        log.write("start" if state is None else "resume", global_step=global_step,
                  config=cfg.to_dict(), world=ctx.world, device=str(ctx.device),
                  bf16=uses_bf16(ctx.device, _amp(cfg, ctx.device)),
                  threads=torch.get_num_threads(),
                  steps_per_epoch=steps_per_epoch, data=summary,
                  health_set=health_set.source if health_set else None)
    bar = _progress(cfg, ctx, schedule.total_steps, global_step)
    model.train()
    t_start = time.time()

    def elapsed() -> float:
        return elapsed_before + time.time() - t_start

    history: list[dict] = []
    health_log: list[dict] = list(state.get("health", [])) if state is not None else []
    eval_s = 0.0
    said_low_rank = False

    def check_health() -> None:
        nonlocal eval_s, said_low_rank
        if health_set is None:
            return
        t0 = time.time()
        m = health_set.measure(model.trunk, ctx.device, step_fn.autocast, channels_last)
        eval_s = time.time() - t0
        record = {k: round(v, 5) for k, v in m.items()}
        record.update(global_step=global_step, epoch=round(global_step / steps_per_epoch, 4),
                      eval_s=round(eval_s, 2))
        health_log.append(record)
        log.write("health", **record)
        alarm = collapse_warning(m, health_log[0], global_step / steps_per_epoch)
        if alarm:
            log.write("alarm", message=alarm, global_step=global_step)
            # a collapse is repeated at every check; a low rank with rising kNN, once
            low_rank = alarm.startswith("LOW RANK")
            if not (low_rank and said_low_rank):
                print(f"WARNING: {alarm}", file=sys.stderr, flush=True)
            said_low_rank = said_low_rank or low_rank
        plot_run(out / LOG_NAME, out / HEALTH_PLOT)

    if not health_log:  # step 0: the random network, the floor a learning run must pass
        check_health()
    t_last_ckpt = time.time()
    meter = IntervalMeter()
    stop_reason = "epochs"
    check_every = 10 if ctx.enabled else 1
    # The step rate is measured over steps only (health checks excluded), from step 3 on
    # (the first steps allocate memory and tune kernels).
    rate = {"t": None, "steps": 0, "busy": 0.0, "since_check_t": 0.0, "since_check_n": 0}

    def save(reason: str) -> None:
        if ctx.is_main:
            save_checkpoint(ckpt_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "global_step": global_step, "epoch": global_step // steps_per_epoch,
                "steps_per_epoch": steps_per_epoch, "elapsed_s": elapsed(),
                "config": cfg.to_dict(), "data_summary": summary,
                "fine_classes": list(data.fine_classes),
                "present_classes": list(data.present_classes),
                "pretrained_on": list(data.pretrained_on), "reason": reason,
                "plan": plan, "health": health_log})
            log.write("checkpoint", global_step=global_step, reason=reason)

    def flush_log(end_of_epoch: bool) -> None:
        record = meter.flush()
        record.update(global_step=global_step, epoch=round(global_step / steps_per_epoch, 4),
                      lr=schedule.lr(global_step - 1), elapsed_s=round(elapsed(), 2))
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
            print(f"epoch {global_step // steps_per_epoch} ({global_step}/"
                  f"{schedule.total_steps} steps) loss {record['total']:.4f} "
                  f"{record['images_per_s']:.0f} img/s {record['elapsed_s']:.0f}s", flush=True)

    def make_plan(step_s: float, reason: str) -> None:
        """Fix the total so steps, health checks and the last save fit; later, re-fit it
        to the recent rate (a slower machine shrinks it; a faster one grows it as far as
        the decays already passed stay passed, so the learning rate never rises)."""
        nonlocal schedule, plan
        total = plan_steps(steps_done=global_step, elapsed_s=elapsed(), budget_s=budget_s,
                           step_s=step_s, eval_s=eval_s if health_set else 0.0,
                           eval_every=health_every, limit=limit,
                           reserve_s=2 * eval_s + min(15.0, 0.05 * budget_s))
        total = min_over_ranks(total, ctx)
        if plan is not None:
            if abs(total - schedule.total_steps) <= 0.02 * schedule.total_steps:
                return  # on schedule
            if total > schedule.total_steps:
                total = min(total, _growth_cap(schedule, global_step))
                if total <= schedule.total_steps:
                    return  # growing now would raise the rate again
        schedule = schedule_for(cfg, steps_per_epoch, max(total, 1)) if plan is None \
            else schedule.shrunk_to(total) if total < schedule.total_steps \
            else schedule_for(cfg, steps_per_epoch, total)
        plan = {"total_steps": schedule.total_steps,
                "epochs": round(schedule.total_steps / steps_per_epoch, 3),
                "decay_points": schedule.decay_points(), "step_s": round(step_s, 4),
                "images_per_s": round(cfg.batch_size / step_s, 1), "eval_s": round(eval_s, 2),
                "budget_s": budget_s, "planned_at_step": global_step,
                "planned_at_s": round(elapsed(), 1), "reason": reason}
        if ctx.is_main:
            log.write("plan", **plan)
            print(f"{reason}: {cfg.batch_size / step_s:.1f} img/s -> {schedule.total_steps} "
                  f"steps ({plan['epochs']} epochs), lr x{cfg.lr_gamma} at steps "
                  f"{plan['decay_points']}", flush=True)
            if bar is not None:
                bar.total = schedule.total_steps
                bar.refresh()

    while global_step < schedule.total_steps:
        epoch, step = divmod(global_step, steps_per_epoch)
        if global_step >= limit:
            stop_reason = "max_steps"
            break
        if global_step % check_every == 0:
            if any_rank(stop_flag["signal"] is not None, ctx):
                stop_reason = f"signal ({stop_flag['signal'] or 'another rank'})"
                break
            if budget_s is not None and any_rank(elapsed() > budget_s, ctx):
                stop_reason = "time_budget"
                break
        t_step = time.time()
        x, fine, coarse = batches.batch(epoch, step, global_step)
        terms = step_fn(x, fine, coarse, schedule.lr(global_step))
        meter.add(terms, cfg.batch_size)
        global_step += 1
        if bar is not None:
            bar.update(1)
        end_of_epoch = global_step % steps_per_epoch == 0
        if meter.steps >= cfg.log_every or end_of_epoch:
            flush_log(end_of_epoch)  # reads the loss: the device has finished the step
        if rate["t"] is None and budget_s is not None and plan is None and global_step >= 3:
            rate.update(t=time.time(), steps=global_step, busy=0.0)
        elif rate["t"] is not None:
            rate["busy"] += time.time() - t_step
            rate["since_check_t"] += time.time() - t_step
            rate["since_check_n"] += 1
        if (plan is None and rate["t"] is not None
                and time.time() - rate["t"] >= cfg.plan_after_s):
            make_plan(rate["busy"] / max(global_step - rate["steps"], 1), "plan")
        if global_step % health_every == 0 and global_step < schedule.total_steps:
            check_health()
            if plan is not None and budget_s is not None and rate["since_check_n"]:
                make_plan(rate["since_check_t"] / rate["since_check_n"], "replan")
            rate.update(since_check_t=0.0, since_check_n=0)
        if time.time() - t_last_ckpt > 60 * cfg.checkpoint_every_min:
            save("periodic")
            t_last_ckpt = time.time()
    else:  # the schedule ran out
        stop_reason = ("planned_steps" if plan is not None
                       else "total_steps" if cfg.total_steps else "epochs")
    if meter.steps:
        flush_log(False)
    if bar is not None:
        bar.close()
    if not health_log or health_log[-1]["global_step"] != global_step:
        check_health()
    save(stop_reason)
    if ctx.is_main:
        log.write("stop", reason=stop_reason, global_step=global_step,
                  epochs_run=round(global_step / steps_per_epoch, 4),
                  elapsed_s=round(elapsed(), 2),
                  health=health_log[-1] if health_log else None)
        plot_run(out / LOG_NAME, out / HEALTH_PLOT)
    return TrainResult(model=model, config=cfg, data_summary=summary,
                       fine_classes=data.fine_classes, present_classes=data.present_classes,
                       pretrained_on=data.pretrained_on, steps=global_step,
                       steps_per_epoch=steps_per_epoch, elapsed_s=elapsed(),
                       stop_reason=stop_reason,
                       images_per_s=_mean_rate(history), out=out,
                       device=_device_name(ctx.device), history=history, plan=plan,
                       health=health_log)


# oneDNN's bf16 convolution backward returned garbage gradients (finite or NaN) for
# layer4's 1x1 feature maps, i.e. inputs under 32 px (seen with torch 2.14.1 on an
# avx512_bf16 CPU; 48 px and larger matched fp32). "auto" stays fp32 there.
_MIN_CPU_BF16_INPUT = 32


def _amp(cfg: TrainConfig, device: torch.device) -> str:
    if cfg.amp == "auto" and device.type == "cpu" and cfg.input_size < _MIN_CPU_BF16_INPUT:
        return "off"
    return cfg.amp


def _growth_cap(schedule: Schedule, step: int) -> int:
    """The largest total whose schedule has passed as many decays at ``step`` as
    ``schedule`` has (decay i sits at i * fraction * total): growing beyond it would
    move a passed decay after ``step`` and raise the rate again."""
    passed = sum(1 for p in schedule.decay_points() if step >= p)
    if passed == 0:
        return 2**62
    cap = math.floor((step + 0.5) / (schedule.decay_fraction * passed))
    while cap > schedule.total_steps and sum(
            1 for p in replace(schedule, total_steps=cap).decay_points() if step >= p) < passed:
        cap -= 1  # decay points are rounded to whole steps
    return cap


def _mean_rate(history: list[dict]) -> float:
    """Images/s over the logged intervals after the first (which pays for warm-up)."""
    rows = history[1:] or history
    return round(sum(r["images_per_s"] for r in rows) / len(rows), 1) if rows else 0.0


def _health_set(cfg: TrainConfig, data: PretrainData) -> HealthSet | None:
    """The held-aside faces: ``cfg.health_data``, or for "auto" FERPlus val when FERPlus
    is trained on (and its val is not), else generated synth-lab faces."""
    spec = cfg.health_data
    if spec in (None, "none", "off"):
        return None
    if spec == "auto":
        ferplus = [s for s in data.sources if s["dataset"] == "ferplus"]
        spec = None
        if ferplus and not any("val" in s["splits"] for s in ferplus):
            try:
                return _health_from_spec(cfg, _sibling_spec(ferplus[0]["spec"], "val"))
            except DatasetError:
                pass  # e.g. a pack without val: fall back to generated faces
    if spec is None:
        from fer_bench.synth import sample_faces
        images, labels = sample_faces(cfg.health_n, size=cfg.input_size, seed=7,
                                      preset="synth-lab")
        return HealthSet.from_images(images, labels, "generated synth-lab faces",
                                     cfg.health_n, cfg.seed)
    return _health_from_spec(cfg, spec)


def _health_from_spec(cfg: TrainConfig, spec: str) -> HealthSet:
    source = load_source(spec, cfg.input_size, root=cfg.data_root, workers=cfg.workers)
    overlap = [s for s in cfg.data if parse_spec(s)[::2] == parse_spec(spec)[::2]]
    if overlap:
        raise DatasetError(f"--health-data {spec!r} is also trained on ({overlap[0]}); "
                           "hold aside a split training does not see")
    return HealthSet.from_images(source.images, source.labels, spec, cfg.health_n, cfg.seed)


def _sibling_spec(spec: str, split: str) -> str:
    """The same dataset (or pack) with another split: ``ferplus:train`` -> ``ferplus:val``."""
    name, options, _ = parse_spec(spec)
    if name.endswith((".npz", ".npz.xz")):
        return f"{name}:{split}"
    return ":".join(p for p in (name, options, split) if p)


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
        saved = {**_DEFAULTS_OF_OLDER_RUNS, **saved}
        changed = [f"{k}: {saved.get(k)!r} -> {_norm(getattr(cfg, k))!r}" for k in _FIXED_ON_RESUME
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
