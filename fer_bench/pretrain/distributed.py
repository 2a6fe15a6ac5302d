"""torch.distributed for pre-training: one process per device, started by ``torchrun``.

The contrastive loss is computed over the *global* batch: every rank gathers all ranks'
embeddings with an autograd-aware all-gather, so each rank computes the same loss as a
single process holding the whole batch. Its backward sums the gradients that every rank's
copy of the loss sends to a rank's own embeddings (W x dL/dz_r), and DDP's gradient
average divides by W again: the parameter gradient is the single-process one (BatchNorm
statistics stay per rank, as in the official DataParallel code).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from fer_bench import runtime


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init_distributed(device: str = "auto") -> DistContext:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a single process.
    nccl on CUDA, gloo on the CPU."""
    local_rank = runtime.local_rank()
    dev = torch.device(runtime.resolve_device(device, local_rank))
    if runtime.world_size() == 1:
        return DistContext(device=dev)
    runtime.join_process_group(dev, timeout=timedelta(minutes=10))
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, dev)


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def rank_batches(perm: torch.Tensor, batch_size: int, ctx: DistContext) -> torch.Tensor:
    """Split one epoch's permutation into (steps, batch_size // world) index rows for this
    rank: global batch ``batch_size``, the tail that fills no whole batch dropped (as
    DistributedSampler + drop_last)."""
    if batch_size % ctx.world:
        raise ValueError(f"batch size {batch_size} is not divisible by {ctx.world} processes")
    steps = perm.numel() // batch_size
    if steps == 0:
        raise ValueError(f"{perm.numel()} training images are fewer than one batch of "
                         f"{batch_size}; lower --batch-size")
    per_rank = batch_size // ctx.world
    return perm[:steps * batch_size].view(steps, ctx.world, per_rank)[:, ctx.rank]


def gather_views(x: torch.Tensor, ctx: DistContext, views: int) -> torch.Tensor:
    """All ranks' rows, with gradient, re-stacked view-major: each rank holds
    [view1 of its n images; view2 ...]; the result is [view1 of all W*n; view2 ...]."""
    if not ctx.enabled:
        return x
    from torch.distributed.nn.functional import all_gather
    parts = torch.stack(all_gather(x.contiguous()))           # (W, views*n, ...)
    w, rows = parts.shape[:2]
    parts = parts.view(w, views, rows // views, *parts.shape[2:]).transpose(0, 1)
    return parts.reshape(w * rows, *parts.shape[3:])


def gather_labels(y: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """All ranks' labels in rank order (no gradient)."""
    if not ctx.enabled:
        return y
    out = [torch.empty_like(y) for _ in range(ctx.world)]
    dist.all_gather(out, y.contiguous())
    return torch.cat(out)


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when ``flag`` is true on any (keeps ranks stepping in lockstep)."""
    if not ctx.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def min_over_ranks(value: int, ctx: DistContext) -> int:
    """The smallest of every rank's ``value`` (a plan all ranks can keep to)."""
    if not ctx.enabled:
        return int(value)
    t = torch.tensor([int(value)], device=ctx.device, dtype=torch.int64)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t.item())
