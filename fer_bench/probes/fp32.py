"""Full float32 matrix products for the probes, whatever the process's TF32/bf16 setting.

The probes' float32 arithmetic is budgeted for IEEE float32: the exact kNN search bounds
its rounding error by ``d * 2^-24`` and the linear probe stops at a gradient tolerance
reached in float32. A user (or a library) that turned on TF32 (10-bit mantissa) or bf16
matmuls for speed would void both, silently, on CUDA (and on CPUs with oneDNN bf16).
:func:`full_fp32` forces IEEE float32 products inside its block and restores the setting
after; where the setting already is IEEE float32 (torch's default) it changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def matmul_precision_flags() -> list:
    """The per-backend matmul precision objects (torch >= 2.9), else []."""
    backends = [getattr(torch.backends.cuda, "matmul", None),
                getattr(getattr(torch.backends, "mkldnn", None), "matmul", None)]
    return [b for b in backends if b is not None and hasattr(b, "fp32_precision")]


@contextmanager
def full_fp32() -> Iterator[None]:
    """IEEE float32 matrix products (no TF32, no bf16) inside the block, on every device.

    Also a decorator (``@full_fp32()``)."""
    flags = matmul_precision_flags()
    if flags:  # torch >= 2.9: the per-backend API (mixing it with the legacy one raises)
        before = [b.fp32_precision for b in flags]
        for b in flags:
            b.fp32_precision = "ieee"
        try:
            yield
        finally:
            for b, value in zip(flags, before):
                b.fp32_precision = value
        return
    before = torch.get_float32_matmul_precision()
    if before == "highest":
        yield
        return
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)
