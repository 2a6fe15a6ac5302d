"""One feature-store entry on disk: ``<key>/features.npy, ids.npy, meta.json``.

features.npy is float32 (N, D), opened memory-mapped; ids.npy holds the sample ids in
row order (fixed-width unicode, no pickle); meta.json records the key inputs, the
encoder, the dataset, the sha256 of the feature bytes and how the entry was made.
Opening validates everything it can (key, shapes, ids, finiteness, content digest) and
raises :class:`InvalidEntry` saying what is wrong: a bad entry is recomputed, never used.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_bench.features.key import DTYPE, STORE_FORMAT, canonical_json

FEATURES, IDS, META = "features.npy", "ids.npy", "meta.json"
_SCAN_BYTES = 16 << 20   # validate / hash memory maps in blocks of this size


class InvalidEntry(ValueError):
    """A store entry that must not be used; the message says why."""


@dataclass(frozen=True, eq=False)
class Features:
    """Cached features of one (encoder, dataset rows) pair, rows in manifest order."""
    ids: np.ndarray            # str (N,)
    X: np.ndarray              # float32 (N, D), read-only memory map
    key: str
    meta: dict = field(repr=False)
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])


def scan_features(X: np.ndarray) -> tuple[str, bool]:
    """(sha256 of the row-major float32 bytes, all finite), reading X block by block."""
    h = hashlib.sha256()
    finite = True
    step = max(1, _SCAN_BYTES // max(1, X.shape[1] * X.itemsize))
    for start in range(0, X.shape[0], step):
        block = np.ascontiguousarray(X[start:start + step])
        finite = finite and bool(np.isfinite(block).all())
        h.update(block.tobytes())
    return h.hexdigest(), finite


def read_entry(path: Path, *, key: str | None = None,
               ids: np.ndarray | None = None) -> Features:
    """Open and validate the entry at ``path``; ``key``/``ids``: what the caller expects."""
    path = Path(path)
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, ValueError) as e:
        raise InvalidEntry(f"unreadable {META}: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != STORE_FORMAT:
        raise InvalidEntry(f"store format {meta.get('format') if isinstance(meta, dict) else '?'}"
                           f", expected {STORE_FORMAT}")
    stored_key = meta.get("key")
    if stored_key != path.name:
        raise InvalidEntry(f"{META} key {stored_key!r} does not match the directory name")
    if key is not None and stored_key != key:
        raise InvalidEntry(f"{META} key {stored_key!r}, expected {key!r}")
    inputs = meta.get("key_inputs")
    if hashlib.sha256(canonical_json(inputs).encode()).hexdigest() != stored_key:
        raise InvalidEntry(f"{META} key inputs do not hash to its key")
    try:
        X = np.load(path / FEATURES, mmap_mode="r", allow_pickle=False)
        stored_ids = np.load(path / IDS, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise InvalidEntry(f"unreadable array: {e}") from None
    n, dim = meta.get("n"), meta.get("dim")
    if X.dtype != np.dtype(DTYPE) or X.shape != (n, dim):
        raise InvalidEntry(f"{FEATURES} is {X.dtype} {X.shape}, {META} says {DTYPE} ({n}, {dim})")
    if stored_ids.shape != (n,) or stored_ids.dtype.kind != "U":
        raise InvalidEntry(f"{IDS} is {stored_ids.dtype} {stored_ids.shape}, expected {n} strings")
    if ids is not None and not np.array_equal(stored_ids, ids):
        raise InvalidEntry(_ids_difference(stored_ids, np.asarray(ids)))
    digest, finite = scan_features(X)
    if not finite:
        raise InvalidEntry(f"{FEATURES} holds non-finite values")
    if digest != meta.get("features_sha256"):
        raise InvalidEntry(f"{FEATURES} content does not match the sha256 in {META}")
    return Features(ids=stored_ids, X=X, key=stored_key, meta=meta, path=path)


def _ids_difference(stored: np.ndarray, expected: np.ndarray) -> str:
    if stored.shape != expected.shape:
        return f"{IDS} has {len(stored)} ids, the dataset has {len(expected)}"
    i = int(np.flatnonzero(stored != expected)[0])
    return f"{IDS} differs from the dataset at row {i}: {stored[i]!r} vs {expected[i]!r}"


def write_entry(path: Path, blocks: Iterable[np.ndarray], ids: np.ndarray, meta: dict) -> None:
    """Write a complete entry into the (temporary, empty) directory ``path``.

    ``blocks`` are consecutive row blocks of the (N, D) features, N = len(ids). The
    digest and the row count are taken from the bytes actually written.
    """
    n, dim = len(ids), int(meta["dim"])
    X = np.lib.format.open_memmap(path / FEATURES, mode="w+", dtype=DTYPE, shape=(n, dim))
    h = hashlib.sha256()
    row = 0
    for block in blocks:
        block = np.ascontiguousarray(block, dtype=DTYPE)
        X[row:row + len(block)] = block
        h.update(block.tobytes())
        row += len(block)
    if row != n:
        raise ValueError(f"entry {path.name}: wrote {row} feature rows for {n} ids")
    X.flush()
    del X
    np.save(path / IDS, np.asarray(ids, dtype=str), allow_pickle=False)
    meta = {**meta, "n": n, "features_sha256": h.hexdigest()}
    write_json(path / META, meta)
    for name in (FEATURES, IDS):
        _fsync(path / name)


def write_json(path: Path, obj: dict) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
