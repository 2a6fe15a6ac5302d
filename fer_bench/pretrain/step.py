"""One optimisation step, shared by the fast trainer and the reference-style loop (so a
throughput comparison measures the input pipelines and nothing else)."""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import torch
from torch import nn

from fer_bench.pretrain.distributed import DistContext, gather_labels, gather_views
from fer_bench.pretrain.losses import Objective


def make_optimizer(model: nn.Module, lr: float, momentum: float,
                   weight_decay: float) -> torch.optim.SGD:
    # SupContrast applies weight decay to every parameter, BatchNorm included. foreach:
    # one multi-tensor kernel per update on the CPU too (the default is per-tensor there).
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                           weight_decay=weight_decay, foreach=True)


def cpu_has_native_bf16() -> bool:
    """True when the CPU multiplies bf16 in hardware (avx512_bf16 or AMX): there bf16
    autocast nearly halves a ResNet step (1.55 s -> 0.83 s measured at 64 px); elsewhere
    it is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def uses_bf16(device: torch.device, amp: str) -> bool:
    """Whether ``amp`` means bf16 autocast on ``device``: "bf16" always, "off" never,
    "auto" on CUDA and on CPUs with native bf16."""
    if amp not in ("auto", "bf16", "off"):
        raise ValueError(f"amp must be auto, bf16 or off, got {amp!r}")
    if amp != "auto":
        return amp == "bf16"
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())


def autocast_context(device: torch.device, amp: str):
    """A factory of bf16 autocast contexts (see :func:`uses_bf16`), or of null ones. The
    loss always runs in fp32 (:mod:`fer_bench.pretrain.losses` upcasts)."""
    if not uses_bf16(device, amp):
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)


class TrainStep:
    """forward -> (gather across ranks) -> loss -> backward -> SGD step.

    ``x`` stacks the views view-major ([view1 of n images; view2 of n]); ``fine`` and
    ``coarse`` hold the n images' labels. Returns the loss terms as detached tensors.

    A step whose gradient holds a NaN or an infinity is skipped (``skipped`` = 1 in the
    terms), as a gradient scaler does: on the CPU, bf16 kernels were seen to return a
    rare non-finite gradient element at a finite loss, and one such update poisons the
    weights for good. Many skips in a row mean a real divergence and raise.
    """

    max_consecutive_skips = 20

    def __init__(self, model: nn.Module, objective: Objective, optimizer: torch.optim.Optimizer,
                 ctx: DistContext, amp: str = "auto", channels_last: bool | None = None):
        self.model = model
        self.objective = objective
        self.optimizer = optimizer
        self.ctx = ctx
        self.autocast = autocast_context(ctx.device, amp)
        self.channels_last = ctx.device.type == "cuda" if channels_last is None else channels_last
        if ctx.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: autotune convolutions once
        self.consecutive_skips = 0
        self.skipped = 0

    def __call__(self, x: torch.Tensor, fine: torch.Tensor, coarse: torch.Tensor,
                 lr: float) -> dict[str, torch.Tensor]:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            out = self.model(x)
        if self.objective.method != "supervised":  # contrastive terms see the global batch
            views = self.objective.views
            out = {k: gather_views(out[k], self.ctx, views) for k in ("z", "coarse_logits")
                   if k in out}
            fine, coarse = gather_labels(fine, self.ctx), gather_labels(coarse, self.ctx)
        loss, terms = self.objective(out, fine, coarse)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self._gradients_finite():
            self.optimizer.step()
            self.consecutive_skips = 0
            terms["skipped"] = torch.zeros((), device=loss.device)
        else:
            self.optimizer.zero_grad(set_to_none=True)
            self.consecutive_skips += 1
            self.skipped += 1
            terms["skipped"] = torch.ones((), device=loss.device)
            if self.consecutive_skips >= self.max_consecutive_skips:
                raise FloatingPointError(
                    f"{self.consecutive_skips} steps in a row had non-finite gradients "
                    "(loss terms: " + ", ".join(f"{k} {float(v):.4g}" for k, v in terms.items())
                    + "); lower --lr or add --warmup-epochs")
        return terms

    def _gradients_finite(self) -> bool:
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if not grads:
            return True
        # one fused reduction; all ranks see the same (all-reduced) gradients after DDP
        norms = torch._foreach_norm(grads)
        return bool(torch.isfinite(torch.stack(norms)).all())
