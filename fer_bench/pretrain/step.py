"""One optimisation step, shared by the fast trainer and the reference-style loop (so a
throughput comparison measures the input pipelines and nothing else)."""
from __future__ import annotations

import contextlib

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


def autocast_context(device: torch.device, amp: str):
    """bf16 autocast on CUDA when ``amp`` is "auto" or "bf16"; nothing on the CPU unless
    "bf16" is asked for."""
    use = amp == "bf16" or (amp == "auto" and device.type == "cuda")
    if amp not in ("auto", "bf16", "off"):
        raise ValueError(f"amp must be auto, bf16 or off, got {amp!r}")
    if not use:
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)


class TrainStep:
    """forward -> (gather across ranks) -> loss -> backward -> SGD step.

    ``x`` stacks the views view-major ([view1 of n images; view2 of n]); ``fine`` and
    ``coarse`` hold the n images' labels. Returns the loss terms as detached tensors (no
    host sync: the caller decides when to read them).
    """

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
        self.optimizer.step()
        return terms
