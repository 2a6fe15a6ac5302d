"""Fitted probes kept on disk by the content of what they learnt from.

A regularisation sweep on FERPlus's 28k rows of LBP histograms takes minutes; another run
that fits the same probe on the same arrays (``linear`` scored on the deduplicated test
items, a rerun after adding a target) gets the fitted probe back instead. The key says
everything that could change the fit: the probe's class and every option, the seed, the
class count, the digest of the exact arrays (train and validation features and labels),
and the code that fits (a digest of the probe's and its solver's source files, with the
torch and NumPy versions, whose kernels set the last bits). Fits are deterministic, so a
kept fit is the fit a refit would make, bit for bit.

Each entry is one ``.npz`` (arrays, and the metadata as JSON bytes), written to a
temporary file and renamed into place, read with ``allow_pickle=False``. An entry that
cannot be read (truncated, another layout) is reported once and fitted again; nothing
else is lost.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from fer_bench.probes.base import Probe

_META = "__meta__"


@cache
def _code_digest(probe_class: type) -> str:
    """Digest of the source files a probe's fit runs through: its module and the
    fer_bench modules it imports from (the solver, the metric that selects on
    validation, ...), with torch's and NumPy's versions."""
    import torch

    module = sys.modules[probe_class.__module__]
    names = {module.__name__}
    names |= {value.__module__ for value in vars(module).values()
              if (getattr(value, "__module__", None) or "").startswith("fer_bench.")}
    names |= {value.__name__ for value in vars(module).values()
              if inspect.ismodule(value) and value.__name__.startswith("fer_bench.")}
    digest = hashlib.sha256(f"torch {torch.__version__} numpy {np.__version__}".encode())
    for name in sorted(names):
        source = inspect.getsourcefile(sys.modules[name])
        digest.update(name.encode() + Path(source).read_bytes())
    return digest.hexdigest()


def arrays_digest(*arrays: np.ndarray) -> str:
    """A digest of arrays' shapes, dtypes and bytes (what a fit learns from)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def fit_key(probe: Probe, n_classes: int, seed: int, data_digest: str) -> str:
    """The key of ``probe`` (options set, not yet fitted) fitted with these inputs
    (``data_digest``: :func:`arrays_digest` of the arrays it learns from)."""
    options = [(name, getattr(probe, name)) for name in probe.option_names()]
    text = repr((type(probe).__module__, type(probe).__qualname__, options, n_classes,
                 seed, data_digest, _code_digest(type(probe))))
    return hashlib.sha256(text.encode()).hexdigest()


class FitStore:
    """Fitted probes under ``root`` by :func:`fit_key`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def in_cache(cls, cache_dir: str | Path | None = None) -> FitStore:
        """The store under fer-bench's cache folder (``<cache>/probe-fits``)."""
        from fer_bench.paths import cache_dir as resolve

        return cls(resolve(cache_dir) / "probe-fits")

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def entries(self) -> list[Path]:
        """Every kept fit (not the temporary files of a write in progress)."""
        return sorted(self.root.glob("*/*.npz"))

    def clear(self) -> tuple[int, int]:
        """Remove every kept fit: (entries, bytes) removed."""
        removed = size = 0
        for path in self.entries():
            try:
                size += path.stat().st_size
                path.unlink()
            except FileNotFoundError:  # removed meanwhile by another process
                continue
            removed += 1
        return removed, size

    def load(self, key: str, probe: Probe) -> Probe | None:
        """``probe`` restored from the entry ``key``; None when there is none (or it is
        unreadable: reported, then fitted again)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as entry:
                arrays = {name: entry[name] for name in entry.files if name != _META}
                meta = json.loads(entry[_META].tobytes().decode())
            return probe.restore_fitted_state(arrays, meta)
        except Exception as e:  # whatever makes an entry unreadable, fit again
            warnings.warn(f"fitted probe {path} is unreadable ({type(e).__name__}: {e}); "
                          "fitting again", stacklevel=2)
            return None

    def save(self, key: str, probe: Probe) -> None:
        """Keep ``probe``'s fitted state (a probe that keeps none is skipped)."""
        state = probe.fitted_state()
        if state is None:
            return
        arrays, meta = state
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = dict(arrays)
        payload[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **payload)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
