"""Rank-sharded extraction under ``torchrun``, merged by sample id into one store entry.

    torchrun --nproc_per_node 2 -m fer_bench.features.distributed --encoder E --dataset D
    # or: torchrun ... $(which fer-bench) extract --distributed --encoder E --dataset D

Every rank loads the same manifest (checked: all ranks must agree on the feature key).
Rank 0 decides which shards its store still lacks; the ranks embed them round-robin
(gloo on CPU, nccl on GPU, one GPU per local rank) and keep their own shard files, so a
rerun resumes on every machine. Shards travel to rank 0 one round at a time (memory
stays at world_size shards), are placed by sample id, and rank 0 assembles the entry
exactly as a single-process run would: the features are byte-identical to one.
"""
from __future__ import annotations

import time

import numpy as np
import torch.distributed as dist

from fer_bench import runtime
from fer_bench.datasets.base import Dataset
from fer_bench.encoder import Encoder
from fer_bench.features.entry import Features
from fer_bench.features.extract import iter_shard_features
from fer_bench.features.shards import shard_ranges
from fer_bench.features.store import FeatureStore, dataset_ids


def extract_distributed(store: FeatureStore, encoder: Encoder, dataset: Dataset, *,
                        batch_size: int = 64, num_workers: int | None = None) -> Features | None:
    """Run on every rank; returns the entry on rank 0 and None elsewhere."""
    with runtime.process_group(encoder.device):
        return _extract(store, encoder, dataset, batch_size, num_workers)


def _extract(store: FeatureStore, encoder: Encoder, dataset: Dataset, batch_size: int,
             num_workers: int | None) -> Features | None:
    t0 = time.perf_counter()
    rank, world = dist.get_rank(), dist.get_world_size()
    info = encoder.info
    key = store.key(info, dataset, encoder.precision)
    partial = store.start_partial(key, info, dataset, clean=rank == 0)  # before any rank writes
    keys: list = [None] * world
    dist.all_gather_object(keys, key)
    if len(set(keys)) != 1:
        raise RuntimeError(f"ranks disagree on the feature key of {info.name} on {dataset.name} "
                           f"({[k[:12] for k in keys]}): they see different manifests, "
                           "revisions or weights")
    ranges = shard_ranges(len(dataset), store.shard_size)
    decision: list = [None]
    hit = None
    if rank == 0:
        hit = store.lookup(info, dataset, encoder.precision)
        decision[0] = "hit" if hit is not None else [r for r in ranges if not partial.has(*r)]
    dist.broadcast_object_list(decision, src=0)
    if decision[0] == "hit":
        dist.barrier()
        return hit if rank == 0 else None

    missing: list[tuple[int, int]] = [tuple(r) for r in decision[0]]
    mine = missing[rank::world]
    computed = iter_shard_features(encoder, dataset, [r for r in mine if not partial.has(*r)],
                                   batch_size=batch_size, num_workers=num_workers)
    row_of = {sample: row for row, sample in enumerate(dataset_ids(dataset))} if rank == 0 else {}
    ids = dataset_ids(dataset)
    embedded = 0
    for round_ in range((len(missing) + world - 1) // world):
        payload = None
        if round_ < len(mine):
            start, stop = mine[round_]
            if partial.has(start, stop):
                X = partial.read(start, stop)
            else:
                start_, stop_, X = next(computed)
                assert (start_, stop_) == (start, stop), "shards come back in order"
                partial.write(start, stop, X)
                embedded += stop - start
            payload = (start, stop, ids[start:stop], X)
        gathered = [None] * world if rank == 0 else None
        dist.gather_object(payload, gathered, dst=0)
        if rank == 0:
            for item in gathered:
                if item is not None:
                    _place_by_id(partial, row_of, *item)

    counts: list = [None] * world
    dist.all_gather_object(counts, embedded)
    feats = None
    if rank == 0:
        seconds = time.perf_counter() - t0
        total = sum(counts)
        facts = {"device": str(encoder.device), "batch_size": batch_size,
                 "num_workers": num_workers, "world_size": world,
                 "timings": {"extract_s": round(seconds, 3), "embedded_rows": total,
                             "resumed_rows": len(dataset) - sum(b - a for a, b in missing),
                             "images_per_s": round(total / seconds, 1) if seconds else None}}
        with store.locked(key):
            feats = store.commit_partial(key, info, dataset, partial, ranges, facts,
                                         precision=encoder.precision)
    dist.barrier()
    return feats


def _place_by_id(partial, row_of: dict, start: int, stop: int, ids: np.ndarray,
                 X: np.ndarray) -> None:
    """Write a shard received from another rank, rows put where rank 0's manifest has
    those sample ids."""
    try:
        rows = np.array([row_of[str(s)] for s in ids], dtype=np.int64)
    except KeyError as e:
        raise RuntimeError(f"a rank sent features for sample {e.args[0]!r}, which rank 0's "
                           "manifest does not have") from None
    if len(rows) != stop - start or sorted(rows.tolist()) != list(range(start, stop)):
        raise RuntimeError(f"a rank's shard {start}:{stop} does not cover those rows")
    out = np.empty_like(X)
    out[rows - start] = X
    partial.write(start, stop, out)


if __name__ == "__main__":
    # ``python -m fer_bench.features.distributed`` = ``fer-bench extract --distributed``. The
    # command line is imported only here, where this file is the program, never by an
    # importer of this module: the features layer does not depend on the CLI.
    import sys

    from fer_bench.cli.features_cmd import extract_command

    extract_command.main(args=sys.argv[1:] + ["--distributed"],
                         prog_name="fer_bench.features.distributed")
