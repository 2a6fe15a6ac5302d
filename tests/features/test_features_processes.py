"""The store across processes: kill -9 mid-extraction, and two extractions at once."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
import torch
from features_support import TinyEncoder, png_dataset, write_images

from fer_bench.features.store import FeatureStore

# Forked, not spawned: a child shares the imported modules, so it starts in milliseconds
# instead of re-importing torch; it is a separate process with its own locks and pid.
FORK = multiprocessing.get_context("fork")


def _extract(store_root, images, sleep, report):
    torch.set_num_threads(1)  # as DataLoader workers do: the parent's OpenMP pool is gone
    store = FeatureStore(store_root, shard_size=8)
    enc = TinyEncoder(sleep=sleep)
    feats = store.get(enc, png_dataset(images), batch_size=4, num_workers=0, progress=False)
    report.write_text(json.dumps({"created": feats.meta["created"], "loaded": enc.loaded}))


def _spawn(store_root, images, sleep, report=None):
    proc = FORK.Process(target=_extract, args=(store_root, images, sleep, report))
    proc.start()
    return proc


@pytest.fixture
def images(tmp_path):
    write_images(tmp_path / "img", 40)
    return tmp_path / "img"


def _files(path):
    return (path / "features.npy").read_bytes(), (path / "ids.npy").read_bytes()


def test_kill_9_mid_extraction_then_rerun_resumes_and_matches_uninterrupted_run(
        tmp_path, images):
    dataset = png_dataset(images)
    store = FeatureStore(tmp_path / "cache", shard_size=8)
    key = store.key(TinyEncoder().info, dataset)
    partial = store.root / key[:2] / f"{key}.partial"

    proc = _spawn(store.root, images, sleep=0.3)  # 10 batches of 4, shards of 8
    deadline = time.monotonic() + 120
    while len(list(partial.glob("rows-*.npy"))) < 2:
        assert proc.is_alive(), f"extraction exited early with code {proc.exitcode}"
        assert time.monotonic() < deadline, "extraction never wrote two shards"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    done = len(list(partial.glob("rows-*.npy")))
    assert 2 <= done < 5 and not (store.root / key[:2] / key).exists()

    resumed = store.get(TinyEncoder(), dataset, batch_size=4, num_workers=0, progress=False)
    assert resumed.meta["timings"]["embedded_rows"] == 40 - 8 * done
    assert resumed.meta["timings"]["resumed_rows"] == 8 * done

    reference = FeatureStore(tmp_path / "ref", shard_size=8).get(
        TinyEncoder(), dataset, batch_size=4, num_workers=0, progress=False)
    assert reference.key == resumed.key
    assert _files(resumed.path) == _files(reference.path)
    assert not partial.exists()


def test_two_concurrent_extractions_leave_one_valid_entry(tmp_path, images):
    root = tmp_path / "cache"
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [_spawn(root, images, 0.1, report) for report in reports]
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    outs = [json.loads(r.read_text()) for r in reports]
    # Both got the same entry; only one of them computed it (the other waited or hit).
    assert outs[0]["created"] == outs[1]["created"]
    assert sorted(o["loaded"] for o in outs) == [False, True]
    dataset = png_dataset(images)
    store = FeatureStore(root, shard_size=8)
    feats = store.lookup(TinyEncoder().info, dataset)
    assert feats is not None and feats.X.shape == (40, 8)
    leftovers = [p.name for p in feats.path.parent.iterdir()
                 if p.name != feats.key and p.suffix != ".lock"]
    assert leftovers == []
    assert np.isfinite(feats.X).all()
