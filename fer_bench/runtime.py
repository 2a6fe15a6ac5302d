"""Where fer-bench runs: the device "auto" stands for, and torchrun's ranks and process group.

Every command that takes ``--device`` (run, extract, check-encoder, pretrain) and the
Python API resolve it here, so "auto" means the same device everywhere. torch is imported
on first use: the command line reads this module long before it needs torch.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def worker_count(cap: int) -> int:
    """Default number of worker processes or threads: the machine's cores, at most ``cap``
    (each caller's cap is where more workers stop paying for themselves)."""
    return max(1, min(cap, os.cpu_count() or 1))


def auto_device() -> str:
    """``"cuda"`` when a CUDA device is present, else ``"cpu"``."""
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(name: str | None = "auto", local_rank: int | None = None) -> str:
    """A device name with "auto" (or None) resolved. Given ``local_rank``, a bare "cuda"
    becomes ``cuda:<local_rank>``: under torchrun each process drives the GPU of its rank."""
    device = auto_device() if name in (None, "auto") else name
    if local_rank is not None and device == "cuda":
        device = f"cuda:{local_rank}"
    return device


# torchrun describes a process by environment variables; outside it there is one process.
def under_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """Rank 0, the process that prints and writes (the only one outside torchrun)."""
    return rank() == 0


def join_process_group(device: torch.device, timeout: timedelta | None = None) -> bool:
    """Make ``device`` this process's GPU (on CUDA) and join torchrun's default process
    group (nccl on CUDA, gloo on the CPU) unless one exists; True when joined here."""
    import torch
    import torch.distributed as dist

    if device.type == "cuda":
        torch.cuda.set_device(device)
    if dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    if timeout is None:
        dist.init_process_group(backend=backend)
    else:
        dist.init_process_group(backend, timeout=timeout)
    return True


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """The default process group for the duration of the block, unless one exists
    already; torn down on exit if made here."""
    import torch.distributed as dist

    if dist.is_initialized():
        yield
        return
    join_process_group(device)
    try:
        yield
    finally:
        dist.destroy_process_group()
