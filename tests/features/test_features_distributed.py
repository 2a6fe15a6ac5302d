"""Rank-sharded extraction: two CPU processes (gloo), forked here and under torchrun."""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from features_support import TESTS_DIR, TinyEncoder, png_dataset, write_images

from fer_bench.features.store import FeatureStore

# Each rank gets its own store root, as on separate machines without a shared disk:
# rank 1's features can only reach the entry through the process group.
RANK_SCRIPT = """
import json, os, sys
import torch
torch.set_num_threads(1)
from features_support import TinyEncoder, png_dataset
from fer_bench.features.distributed import extract_distributed
from fer_bench.features.store import FeatureStore
rank = int(os.environ["RANK"])
root = sys.argv[1] if rank == 0 else sys.argv[1] + f"-rank{rank}"
feats = extract_distributed(FeatureStore(root, shard_size=8), TinyEncoder(),
                            png_dataset(sys.argv[2]), batch_size=4, num_workers=0)
if rank == 0:
    print(json.dumps({"path": str(feats.path), "timings": feats.meta["timings"],
                      "world_size": feats.meta["world_size"]}))
"""


def _torchrun(tmp_path, root, images):
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_DIR),
                                                        os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node", "2", str(script), str(root), str(images)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_ranks_merge_into_the_entry_a_single_process_makes(tmp_path):
    write_images(tmp_path / "img", 44)
    dataset = png_dataset(tmp_path / "img")
    root = tmp_path / "cache"
    # An interrupted single-process run left the first two shards (of six) on rank 0.
    with pytest.raises(FloatingPointError):
        FeatureStore(root, shard_size=8).get(TinyEncoder(nan_from_batch=4), dataset,
                                             batch_size=4, num_workers=0, progress=False)

    out = _torchrun(tmp_path, root, tmp_path / "img")
    assert out["world_size"] == 2
    assert out["timings"]["resumed_rows"] == 16 and out["timings"]["embedded_rows"] == 28

    merged = FeatureStore(root, shard_size=8).lookup(TinyEncoder().info, dataset)
    single = FeatureStore(tmp_path / "single", shard_size=8).get(
        TinyEncoder(), dataset, batch_size=4, num_workers=0, progress=False)
    assert str(merged.path) == out["path"] and merged.key == single.key
    for name in ("features.npy", "ids.npy"):
        assert (merged.path / name).read_bytes() == (single.path / name).read_bytes()
    # rank 1 kept its own shards (a rerun there would resume), in its own store
    rank1 = list((tmp_path / "cache-rank1").rglob("rows-*.npy"))
    assert len(rank1) == 2


def _rank(rank, world, init_file, root, images, report):
    import torch.distributed as dist

    from fer_bench.features.distributed import extract_distributed

    torch.set_num_threads(1)  # forked after the parent used torch: no OpenMP pool here
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        feats = extract_distributed(FeatureStore(f"{root}-rank{rank}", shard_size=8),
                                    TinyEncoder(), png_dataset(images), batch_size=4,
                                    num_workers=0)
        report.write_text(json.dumps(None if feats is None else feats.meta["timings"]))
    finally:
        dist.destroy_process_group()


def test_forked_ranks_split_the_shards_and_rank_0_writes_the_entry(tmp_path):
    write_images(tmp_path / "img", 28)
    dataset = png_dataset(tmp_path / "img")
    fork = multiprocessing.get_context("fork")
    reports = [tmp_path / f"rank{r}.json" for r in range(2)]
    procs = [fork.Process(target=_rank, args=(r, 2, tmp_path / "init", tmp_path / "cache",
                                              tmp_path / "img", reports[r]))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    timings = [json.loads(r.read_text()) for r in reports]
    assert timings[1] is None and timings[0]["embedded_rows"] == 28

    merged = FeatureStore(tmp_path / "cache-rank0", shard_size=8).lookup(TinyEncoder().info,
                                                                       dataset)
    assert merged is not None and merged.meta["world_size"] == 2
    assert not list((tmp_path / "cache-rank1").rglob("features.npy"))  # only rank 0 writes
    # shards 0-8 and 16-24 were rank 0's, 8-16 and 24-28 rank 1's
    assert sorted(p.name for p in (tmp_path / "cache-rank1").rglob("rows-*.npy")) == [
        "rows-0000000008-0000000016.npy", "rows-0000000024-0000000028.npy"]
    single = FeatureStore(tmp_path / "single", shard_size=8).get(
        TinyEncoder(), dataset, batch_size=4, num_workers=0, progress=False)
    np.testing.assert_array_equal(merged.X, single.X)
    np.testing.assert_array_equal(merged.ids, single.ids)


@pytest.mark.slow
def test_torchrun_module_entry_point_matches_single_process_cli(tmp_path):
    spec = ["--encoder", "pixels", "--dataset", "synth-wild:n=40,size=32", "--workers", "0",
            "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ranked = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             "--nproc_per_node", "2", "-m", "fer_bench.features.distributed",
                             *spec, "--cache-dir", str(tmp_path / "ranked")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert ranked.returncode == 0, ranked.stderr[-3000:]
    assert "encoder weights loaded: yes" in ranked.stdout
    single = subprocess.run([sys.executable, "-m", "fer_bench.features.distributed", *spec,
                             "--cache-dir", str(tmp_path / "single")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]  # a world of one works too

    def entries(root):
        return {p.parent.name: (p.read_bytes(), (p.parent / "ids.npy").read_bytes())
                for p in (root / "features").rglob("features.npy")}

    assert entries(tmp_path / "ranked") == entries(tmp_path / "single") != {}
