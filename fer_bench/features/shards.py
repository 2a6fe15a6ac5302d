"""Finished row ranges of an extraction that is running or was interrupted.

``<key>.partial/`` holds one file per finished shard, ``rows-<start>-<stop>.npy``
(float32, rows start..stop-1 of the manifest), each written to a temporary name and
renamed, so a file that exists is complete. A rerun skips every shard already there,
and because shards are batched the same way every time, the resumed entry is
byte-identical to an uninterrupted one.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from fer_bench.features.entry import write_json
from fer_bench.features.key import DTYPE

PLAN = "plan.json"


def shard_ranges(n: int, shard_size: int) -> list[tuple[int, int]]:
    if shard_size < 1:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    return [(start, min(start + shard_size, n)) for start in range(0, n, shard_size)]


class PartialEntry:
    def __init__(self, path: Path, dim: int):
        self.path = Path(path)
        self.dim = dim

    def create(self, plan: dict, clean: bool = True) -> PartialEntry:
        """Make the directory and record what is being extracted (for ``cache ls``).
        ``clean`` removes temporary files of killed writers: only while no other process
        can be writing here (single-process under the key's lock; rank 0 before ranks sync)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not (self.path / PLAN).exists():
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path)
            os.close(fd)
            write_json(Path(tmp), plan)
            os.replace(tmp, self.path / PLAN)
        if clean:
            for stale in self.path.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
        return self

    def shard_path(self, start: int, stop: int) -> Path:
        return self.path / f"rows-{start:010d}-{stop:010d}.npy"

    def has(self, start: int, stop: int) -> bool:
        """True if a complete, valid shard for these rows is on disk (a bad one is removed)."""
        p = self.shard_path(start, stop)
        if not p.exists():
            return False
        try:
            X = np.load(p, mmap_mode="r", allow_pickle=False)
            ok = X.dtype == np.dtype(DTYPE) and X.shape == (stop - start, self.dim) \
                and bool(np.isfinite(X).all())
        except (OSError, ValueError, EOFError):
            ok = False
        if not ok:
            p.unlink(missing_ok=True)
        return ok

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.load(self.shard_path(start, stop), allow_pickle=False)

    def write(self, start: int, stop: int, X: np.ndarray) -> None:
        if X.shape != (stop - start, self.dim):
            raise ValueError(f"shard rows {start}:{stop} got features of shape {X.shape}, "
                             f"expected ({stop - start}, {self.dim})")
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path)
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(X, dtype=DTYPE), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.shard_path(start, stop))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
