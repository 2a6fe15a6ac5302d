"""The content-keyed feature store: extract once, reuse everywhere.

Layout under ``root`` (default ``cache_dir()/features``; ``--cache-dir`` or
``FER_BENCH_CACHE`` move it)::

    <key[:2]>/<key>/            a finished entry (features.npy, ids.npy, meta.json)
    <key[:2]>/<key>.partial/    finished shards of a running or interrupted extraction
    <key[:2]>/<key>.lock        held while an extraction writes that key
    <key[:2]>/.<key>.*.tmp/     an entry being written; renamed to <key>/ when complete

``lookup`` never loads weights or computes; ``get`` computes what is missing. A second
process asking for an entry that is being extracted waits for the lock, then reads it.
"""
from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.loader import default_workers
from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.features.entry import Features, InvalidEntry, read_entry, write_entry
from fer_bench.features.extract import iter_shard_features
from fer_bench.features.key import DTYPE, STORE_FORMAT, feature_key, key_inputs
from fer_bench.features.shards import PartialEntry, shard_ranges
from fer_bench.images.decode import ImageDecodeError
from fer_bench.paths import cache_dir

__all__ = ["FeatureStore", "Features", "InvalidEntryWarning", "dataset_ids"]

log = logging.getLogger(__name__)
SHARD_SIZE = 2048


class InvalidEntryWarning(UserWarning):
    """A cached entry failed validation and is being recomputed."""


def dataset_ids(dataset: Dataset) -> np.ndarray:
    return dataset.manifest["id"].astype(str).to_numpy(dtype=str)


def dataset_splits(dataset: Dataset) -> list[str]:
    return sorted(set(dataset.manifest["split"].astype(str)))


class FeatureStore:
    def __init__(self, root: str | Path | None = None, *, shard_size: int = SHARD_SIZE):
        self.root = Path(root).expanduser() if root else cache_dir() / "features"
        self.shard_size = shard_size

    @classmethod
    def in_cache(cls, cache: str | Path | None = None) -> FeatureStore:
        """The store of a cache folder (``--cache-dir``; default :func:`cache_dir`):
        ``<cache>/features``."""
        return cls(cache_dir(cache) / "features")

    # -- where things are -------------------------------------------------------------
    def key(self, info: EncoderInfo, dataset: Dataset, precision: str = "fp32") -> str:
        return feature_key(info, dataset, precision)

    def entry_path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def partial(self, key: str, dim: int) -> PartialEntry:
        return PartialEntry(self.root / key[:2] / f"{key}.partial", dim)

    @contextmanager
    def locked(self, key: str, wait: bool = True) -> Iterator[None]:
        """Exclusive right to write ``key`` (released by the OS if the process dies).
        ``wait=False`` raises ``filelock.Timeout`` at once if another process holds it."""
        path = self.root / key[:2] / f"{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if not wait:
                raise
            log.info("waiting for another process extracting features %s", key[:12])
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    # -- reading ----------------------------------------------------------------------
    def lookup(self, info: EncoderInfo, dataset: Dataset,
               precision: str = "fp32") -> Features | None:
        """The validated entry (of features computed in ``precision``), or None. Never
        loads weights, never computes."""
        return self._open(self.key(info, dataset, precision), dataset, warn=True)

    def entry(self, key: str) -> Features | None:
        """The validated entry stored under ``key`` (e.g. a key a result record names),
        or None when there is none or it fails validation. Never computes."""
        path = self.entry_path(key)
        if not path.is_dir():
            return None
        try:
            return read_entry(path, key=key)
        except InvalidEntry:
            return None

    def _open(self, key: str, dataset: Dataset, warn: bool) -> Features | None:
        path = self.entry_path(key)
        if not path.is_dir():
            return None
        try:
            return read_entry(path, key=key, ids=dataset_ids(dataset))
        except InvalidEntry as e:
            if warn:
                warnings.warn(f"feature cache entry {path} is invalid ({e}); it will be "
                              "recomputed", InvalidEntryWarning, stacklevel=3)
            return None

    # -- computing --------------------------------------------------------------------
    def get(self, encoder: Encoder, dataset: Dataset, *, batch_size: int = 64,
            num_workers: int | None = None, progress: bool = True) -> Features:
        """Features of every row of ``dataset`` (in manifest order), in the encoder's
        precision: cached, or extracted now, resuming from the shards of an interrupted
        run."""
        key = self.key(encoder.info, dataset, encoder.precision)
        found = self._open(key, dataset, warn=True)
        if found is not None:
            return found
        with self.locked(key):
            found = self._open(key, dataset, warn=False)  # another process may have made it
            if found is not None:
                return found
            return self._extract(encoder, dataset, key, batch_size, num_workers, progress)

    def get_splits(self, encoder: Encoder, dataset: Dataset,
                   splits: Iterable[str] | None = None, **options) -> dict[str, Features]:
        """``{split: Features}`` for the named splits (default: all of the dataset's)."""
        splits = list(splits) if splits is not None else list(dataset.splits)
        return {s: self.get(encoder, dataset.subset(s), **options) for s in splits}

    def _extract(self, encoder: Encoder, dataset: Dataset, key: str, batch_size: int,
                 num_workers: int | None, progress: bool) -> Features:
        t0 = time.perf_counter()
        info = encoder.info
        ranges = shard_ranges(len(dataset), self.shard_size)
        partial = self.start_partial(key, info, dataset)
        todo = [r for r in ranges if not partial.has(*r)]
        todo_rows = sum(stop - start for start, stop in todo)
        if todo_rows < len(dataset):
            log.info("resuming %s: %d of %d rows already embedded", key[:12],
                     len(dataset) - todo_rows, len(dataset))
        bar = _progress_bar(todo_rows, f"{info.name} on {dataset.name}", progress)
        try:
            for start, stop, X in iter_shard_features(
                    encoder, dataset, todo, batch_size=batch_size, num_workers=num_workers,
                    progress=bar.update if bar else None):
                partial.write(start, stop, X)
        except (ImageDecodeError, FloatingPointError) as e:
            done = sum(partial.has(*r) for r in ranges)
            raise type(e)(f"{e}\n  while extracting {info.name}@{info.revision} on "
                          f"{dataset.name} ({len(dataset)} rows, entry {key[:12]}); "
                          f"{done} of {len(ranges)} shards are kept in {partial.path} and "
                          "a rerun resumes from them") from e
        finally:
            if bar:
                bar.close()
        seconds = time.perf_counter() - t0
        facts = {"device": str(encoder.device), "batch_size": batch_size,
                 "num_workers": default_workers() if num_workers is None else num_workers,
                 "world_size": 1,
                 "timings": {"extract_s": round(seconds, 3), "embedded_rows": todo_rows,
                             "resumed_rows": len(dataset) - todo_rows,
                             "images_per_s": round(todo_rows / seconds, 1) if seconds else None}}
        return self.commit_partial(key, info, dataset, partial, ranges, facts,
                                   precision=encoder.precision)

    def start_partial(self, key: str, info: EncoderInfo, dataset: Dataset,
                      clean: bool = True) -> PartialEntry:
        return self.partial(key, info.embed_dim).create(
            {"key": key, "encoder": info.name, "revision": info.revision,
             "dataset": dataset.name, "splits": dataset_splits(dataset), "n": len(dataset),
             "dim": info.embed_dim, "shard_size": self.shard_size}, clean=clean)

    def commit_partial(self, key: str, info: EncoderInfo, dataset: Dataset,
                       partial: PartialEntry, ranges: list[tuple[int, int]],
                       facts: dict, precision: str = "fp32") -> Features:
        """Assemble the finished shards into an entry: temporary directory, then rename.
        The caller holds ``locked(key)``."""
        prefix = self.root / key[:2]
        for stale in prefix.glob(f".{key}.*.tmp"):  # a writer that was killed
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=prefix))
        try:
            write_entry(tmp, (partial.read(*r) for r in ranges), dataset_ids(dataset),
                        self._meta(key, info, dataset, facts, precision))
            final = self.entry_path(key)
            if final.exists():  # an invalid entry being replaced
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        partial.remove()
        return read_entry(final, key=key, ids=dataset_ids(dataset))

    def _meta(self, key: str, info: EncoderInfo, dataset: Dataset, facts: dict,
              precision: str) -> dict:
        import torch

        from fer_bench import __version__
        return {"format": STORE_FORMAT, "key": key,
                "key_inputs": key_inputs(info, dataset, precision),
                "dtype": DTYPE,
                "dim": info.embed_dim, "encoder": info.to_dict(),
                "dataset": {"name": dataset.name, "splits": dataset_splits(dataset),
                            "n": len(dataset), "image_family": dataset.image_family},
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": {"fer_bench": __version__, "torch": torch.__version__,
                             "numpy": np.__version__, "python": platform.python_version()},
                **facts}


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm
    # disable=None: no bar when stderr is not a terminal (logs, CI, CliRunner)
    return tqdm(total=total, desc=desc, unit="img", leave=False, disable=None)
