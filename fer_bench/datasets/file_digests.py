"""Content digests of image files, each file version hashed once.

A dataset's images enter the feature key and the result records by their bytes, not by
their names: replacing an image in place must change both. The sha256 of each file is
remembered in a small SQLite index, ``<cache>/file-digests.sqlite3``, under its absolute
path with the size, modification time and status-change time (ns) it had when hashed.
Any write changes the status-change time, even one that puts the modification time back
(``cp -p``, ``rsync -t``), so a changed file is hashed again; an unchanged one costs a
``stat`` and an index look-up.

A file changed less than ``SETTLE_NS`` ago is hashed but not remembered: a second write
within the file system's timestamp resolution could leave the same (size, mtime, ctime)
on other bytes (git's "racy clean" case).

SQLite (standard library) does the locking between concurrent processes. An index that
cannot be opened or written costs speed only: digests are then computed each time, with
one warning.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from fer_bench.paths import cache_dir

MISSING = "missing"            # the digest of a file that is absent or cannot be read
INDEX_FILE = "file-digests.sqlite3"
SETTLE_NS = 2 * 10**9
_READ = 1 << 20
_LOOKUP_CHUNK = 500            # paths per SELECT (below SQLite's variable limit)
_SCHEMA = ("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, "
           "mtime_ns INTEGER, ctime_ns INTEGER, sha256 TEXT)")


def hash_file(path: str) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            h.update(chunk)
    return h.hexdigest()


class FileDigestIndex:
    """sha256 of files, remembered on disk by (absolute path, size, mtime_ns, ctime_ns)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._usable = True

    def digests(self, paths: Sequence[str | Path]) -> list[str]:
        """The sha256 of every file in ``paths`` (in order), ``MISSING`` for absent or
        unreadable ones; a path listed many times (rows of one CSV) is read once."""
        absolute = [os.path.abspath(p) for p in paths]
        unique = list(dict.fromkeys(absolute))
        now = time.time_ns()
        stamps: dict[str, tuple[int, int, int]] = {}
        for p in unique:
            try:
                st = os.stat(p)
            except OSError:
                continue
            stamps[p] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = self._lookup(list(stamps))
        digest = dict.fromkeys(unique, MISSING)
        learned = []
        for p, stamp in stamps.items():
            remembered = known.get(p)
            if remembered is not None and tuple(remembered[:3]) == stamp:
                digest[p] = remembered[3]
                continue
            try:
                digest[p] = hash_file(p)
            except OSError:         # removed since the stat, a folder, unreadable: MISSING
                continue
            if now - max(stamp[1], stamp[2]) >= SETTLE_NS:
                learned.append((p, *stamp, digest[p]))
        if learned:
            self._remember(learned)
        return [digest[p] for p in absolute]

    # -- the SQLite file ------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60)
        con.execute(_SCHEMA)
        return con

    def _unusable(self, error: Exception) -> None:
        if self._usable:
            warnings.warn(f"file digest index {self.path} is unusable ({error}); image "
                          "digests are computed without it (delete the file to rebuild it)",
                          UserWarning, stacklevel=4)
        self._usable = False

    def _lookup(self, paths: list[str]) -> dict[str, tuple]:
        """path -> (size, mtime_ns, ctime_ns, sha256) of the remembered ones."""
        if not paths or not self._usable or not self.path.exists():
            return {}
        found: dict[str, tuple] = {}
        try:
            con = self._connect()
            try:
                for i in range(0, len(paths), _LOOKUP_CHUNK):
                    chunk = paths[i:i + _LOOKUP_CHUNK]
                    rows = con.execute(
                        "SELECT path, size, mtime_ns, ctime_ns, sha256 FROM files WHERE path "
                        f"IN ({','.join('?' * len(chunk))})", chunk)
                    found.update((row[0], row[1:]) for row in rows)
            finally:
                con.close()
        except (sqlite3.Error, OSError) as e:
            self._unusable(e)
            return {}
        return found

    def _remember(self, rows: list[tuple]) -> None:
        if not self._usable:
            return
        try:
            con = self._connect()
            try:
                with con:
                    con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)
            finally:
                con.close()
        except (sqlite3.Error, OSError) as e:
            self._unusable(e)


_INDEXES: dict[Path, FileDigestIndex] = {}


def file_digests(paths: Sequence[str | Path]) -> list[str]:
    """:meth:`FileDigestIndex.digests` with the index in the cache folder
    (``FER_BENCH_CACHE``, else ``~/.cache/fer-bench``)."""
    where = cache_dir() / INDEX_FILE
    if where not in _INDEXES:
        _INDEXES[where] = FileDigestIndex(where)
    return _INDEXES[where].digests(paths)
