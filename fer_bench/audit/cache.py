"""Finished audits, kept under ``<cache>/audit/<key[:2]>/<key>/`` (pairs.csv.gz, meta.json).

The key is the sha256 of what the answer depends on (:func:`fer_bench.audit.run.audit_key`):
each dataset's manifest and content digests and split column, the two encoders'
identities and the settings. A changed image changes the content digest, a changed
setting the settings part: either is another key, so a stale audit is never read. An
entry is written to a temporary folder and renamed, under a file lock; one that cannot
be read is recomputed.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock

from fer_bench.audit.pairs import COLUMNS
from fer_bench.paths import cache_dir

PAIRS, META = "pairs.csv.gz", "meta.json"
_TEXT = ["id_a", "dataset_a", "split_a", "id_b", "dataset_b", "split_b", "stage", "found_by"]


class AuditCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def in_cache(cls, cache: str | Path | None = None) -> AuditCache:
        """``<cache>/audit`` of a cache folder (default :func:`fer_bench.paths.cache_dir`)."""
        return cls(cache_dir(cache) / "audit")

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """One process computes a key at a time; the others wait, then read it."""
        lock = self.root / key[:2] / f"{key}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock)):
            yield

    def read(self, key: str) -> tuple[pd.DataFrame, dict] | None:
        """(pairs, meta) of a finished audit, or None (absent or unreadable)."""
        where = self.path(key)
        try:
            meta = json.loads((where / META).read_text())
            pairs = pd.read_csv(where / PAIRS, dtype={c: str for c in _TEXT},
                                keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if meta.get("key") != key or list(pairs.columns) != COLUMNS:
            return None
        return pairs.astype({"same_bytes": bool}), meta

    def write(self, key: str, pairs: pd.DataFrame, meta: dict) -> None:
        prefix = self.root / key[:2]
        prefix.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=prefix))
        try:
            pairs.to_csv(tmp / PAIRS, index=False,
                         compression={"method": "gzip", "mtime": 0})
            (tmp / META).write_text(json.dumps({**meta, "key": key}, indent=1, sort_keys=True))
            final = self.path(key)
            if final.exists():          # an unreadable entry being replaced
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
