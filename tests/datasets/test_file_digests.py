"""The index of file content digests: one hash per file version, remembered on disk."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

import fer_bench.datasets.file_digests as file_digests
from fer_bench.datasets.file_digests import MISSING, FileDigestIndex


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Four files the index may remember at once (it waits SETTLE_NS after a change)."""
    monkeypatch.setattr(file_digests, "SETTLE_NS", 0)
    return [_write(tmp_path / f"f{i}.bin", bytes([i]) * (100 + i)) for i in range(4)]


@pytest.fixture
def hashed(monkeypatch):
    """Counts the files whose bytes are read."""
    calls = []
    real = file_digests.hash_file

    def counting(path):
        calls.append(path)
        return real(path)
    monkeypatch.setattr(file_digests, "hash_file", counting)
    return calls


def test_digest_is_the_sha256_of_the_bytes(tmp_path, files):
    index = FileDigestIndex(tmp_path / "index.sqlite3")
    assert index.digests(files) == [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]


def test_each_file_version_is_hashed_once_across_processes(tmp_path, files, hashed):
    first = FileDigestIndex(tmp_path / "index.sqlite3").digests(files)
    assert len(hashed) == 4
    again = FileDigestIndex(tmp_path / "index.sqlite3").digests(files)  # a new process
    assert again == first and len(hashed) == 4


def test_a_changed_file_is_hashed_again(tmp_path, files, hashed):
    index = FileDigestIndex(tmp_path / "index.sqlite3")
    before = index.digests(files)
    _write(files[2], b"other bytes")
    after = FileDigestIndex(tmp_path / "index.sqlite3").digests(files)
    assert after[2] != before[2] and after[:2] == before[:2] and len(hashed) == 5


def test_files_changed_just_now_are_not_remembered(tmp_path, hashed):
    fresh = _write(tmp_path / "fresh.bin", b"a")
    past = time.time_ns() - 60 * 10**9
    os.utime(fresh, ns=(past, past))     # an old mtime, but the change (ctime) is recent
    index = FileDigestIndex(tmp_path / "index.sqlite3")
    index.digests([fresh])
    index.digests([fresh])
    assert len(hashed) == 2


def test_a_file_listed_many_times_is_read_once(tmp_path, files, hashed):
    index = FileDigestIndex(tmp_path / "index.sqlite3")
    assert len(set(index.digests([files[0]] * 50 + [files[1]]))) == 2 and len(hashed) == 2


def test_a_missing_file_has_a_marker_not_an_error(tmp_path):
    index = FileDigestIndex(tmp_path / "index.sqlite3")
    assert index.digests([tmp_path / "nope.png"]) == [MISSING]


def test_an_unusable_index_file_falls_back_to_hashing(tmp_path, files):
    bad = tmp_path / "index.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.warns(UserWarning, match="index.sqlite3"):
        digests = FileDigestIndex(bad).digests(files)
    assert digests == [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
