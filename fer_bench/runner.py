"""``run_benchmark``: every (encoder, protocol, task) -> a result record on disk.

The plan (which records each protocol would write) is made before any data or weights
are touched, so bad protocol/dataset combinations fail at once. For each encoder, each
planned record is first checked on disk against ``overwrite``; only then is anything
computed, and the encoder's weights load only when the feature store misses.

``overwrite``:
- ``never``: an existing record file is never replaced (even a stale or unreadable one;
  those are reported);
- ``missing`` (default): compute records that are absent, unreadable or stale (written for
  other weights, another resolved config, other seeds or another dataset manifest);
- ``always``: compute everything again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from fer_bench.datasets import load_dataset
from fer_bench.datasets.base import Dataset
from fer_bench.encoder import Encoder
from fer_bench.protocols.base import Protocol, Task, protocol_from_spec
from fer_bench.protocols.context import DEFAULT_SEEDS, RunContext, TaskNotApplicable
from fer_bench.records.io import read_record, record_path, write_record
from fer_bench.records.migrate import RecordSchemaError
from fer_bench.records.schema import RecordKey, ResultRecord

OVERWRITE_MODES = ("never", "missing", "always")


@dataclass
class RunEntry:
    """What happened to one planned record."""
    encoder: str
    protocol: str
    target: str
    path: Path
    status: str                       # "computed", "kept", "kept-stale", "not-applicable"
    record: ResultRecord | None       # None when kept but unreadable
    note: str = ""
    seconds: float = 0.0


class DatasetCache:
    """Loads each dataset spec once per run (shared by every encoder)."""

    def __init__(self, data_root: str | Path | None = None):
        self.data_root = data_root
        self._loaded: dict[str, Dataset] = {}

    def __call__(self, spec: str) -> Dataset:
        if spec not in self._loaded:
            self._loaded[spec] = load_dataset(spec, root=self.data_root)
        return self._loaded[spec]


def resolve_device(device: str | None) -> str:
    if device in (None, "auto"):
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def plan(protocols: Sequence[Protocol],
         datasets: Sequence[str] | None) -> list[tuple[Protocol, Task]]:
    """Every (protocol, task) to consider; protocols without datasets use their defaults."""
    return [(p, t) for p in protocols for t in p.tasks(list(datasets or p.default_datasets()))]


def stale_reason(record: ResultRecord, protocol: Protocol, task: Task,
                 ctx: RunContext) -> str | None:
    """Why an existing record does not answer the current request (None: it does)."""
    info = ctx.encoder.info
    if record.encoder.get("weights_digest") != info.weights_digest:
        return "written for other weights"
    if record.config != protocol.resolved_config():
        return "written with another protocol config"
    if list(record.seeds) != list(ctx.seeds):
        return f"written with seeds {record.seeds}"
    digests = {d.name: d.manifest_digest for d in record.datasets}
    for spec in task.datasets:
        if digests.get(spec) != ctx.dataset(spec).manifest_digest():
            return f"dataset {spec} changed since"
    return None


def _existing(path: Path, overwrite: str, protocol: Protocol, task: Task,
              ctx: RunContext) -> tuple[str, ResultRecord | None, str] | None:
    """(status, record, note) when the existing record is kept, None when to compute."""
    if overwrite == "always" or not path.exists():
        return None
    try:
        record = read_record(path)
    except RecordSchemaError as e:
        return ("kept-stale", None, f"unreadable: {e}") if overwrite == "never" else None
    reason = stale_reason(record, protocol, task, ctx)
    if reason is None:
        return "kept", record, ""
    return ("kept-stale", record, reason) if overwrite == "never" else None


def _encoder(spec: str | Encoder, weights: dict[str, str], device: str) -> Encoder:
    if isinstance(spec, Encoder):
        return spec
    from fer_bench.encoder_registry import get_encoder
    return get_encoder(spec, weights=weights.get(spec), device=device)


def run_benchmark(encoders: Sequence[str | Encoder], protocols: Sequence[str | Protocol],
                  datasets: Sequence[str] | None = None, *, results_dir: str | Path,
                  overwrite: str = "missing", data_root: str | Path | None = None,
                  cache_dir: str | Path | None = None, device: str | None = "auto",
                  seeds: Sequence[int] = DEFAULT_SEEDS, progress: bool = True,
                  weights: dict[str, str] | None = None, batch_size: int = 64,
                  num_workers: int | None = None, store=None,
                  load: Callable[[str], Dataset] | None = None) -> list[RunEntry]:
    """Run ``protocols`` for ``encoders`` on ``datasets`` (default: generated presets),
    writing one record per task under ``results_dir``; see the module doc for
    ``overwrite``. Encoders are registry specs or :class:`Encoder` objects; ``store``
    (default: the feature store under the cache dir) and ``load`` (dataset spec ->
    Dataset; default: the registry, each spec loaded once) can be replaced."""
    if overwrite not in OVERWRITE_MODES:
        raise ValueError(f"overwrite must be one of {OVERWRITE_MODES}, got {overwrite!r}")
    if not encoders or not protocols:
        raise ValueError("run_benchmark needs at least one encoder and one protocol")
    from fer_bench.features.store import FeatureStore
    from fer_bench.paths import cache_dir as resolve_cache

    device = resolve_device(device)
    protocols = [protocol_from_spec(p) if isinstance(p, str) else p for p in protocols]
    planned = plan(protocols, datasets)
    store = store or FeatureStore(resolve_cache(cache_dir) / "features")
    load = load or DatasetCache(data_root)
    entries: list[RunEntry] = []
    bar = _bar(len(planned) * len(encoders), progress)
    for spec in encoders:
        encoder = _encoder(spec, weights or {}, device)
        info = encoder.info
        ctx = RunContext(encoder, store, load=load, data_root=data_root, seeds=tuple(seeds),
                         device=device, progress=progress, batch_size=batch_size,
                         num_workers=num_workers)
        for protocol, task in planned:
            path = record_path(results_dir, RecordKey(info.name, info.revision, protocol.name,
                                                      protocol.version, task.target))
            if bar is not None:
                bar.set_description(f"{info.name} {protocol.name} {task.target}")
            kept = _existing(path, overwrite, protocol, task, ctx)
            if kept is not None:
                status, record, note = kept
                entries.append(RunEntry(info.name, protocol.name, task.target, path, status,
                                        record, note))
            else:
                started = time.perf_counter()
                try:
                    record, predictions = protocol.run_task(ctx, task)
                except TaskNotApplicable as e:
                    entries.append(RunEntry(info.name, protocol.name, task.target, path,
                                            "not-applicable", None, str(e)))
                else:
                    write_record(record, results_dir, predictions)
                    entries.append(RunEntry(info.name, protocol.name, task.target, path,
                                            "computed", record,
                                            seconds=time.perf_counter() - started))
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return entries


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="record", leave=False)


def summary_frame(entries: Sequence[RunEntry]) -> pd.DataFrame:
    """One row per planned record: headline score (percent, mean +- std [interval])."""
    rows = []
    for e in entries:
        row = {"encoder": e.encoder, "protocol": e.protocol, "target": e.target,
               "status": e.status}
        if e.record is not None:
            h = e.record.headline
            lo, hi = h.interval or (float("nan"), float("nan"))
            row[e.record.headline_metric] = (f"{100 * h.mean:.1f} ± {100 * h.std:.1f} "
                                             f"[{100 * lo:.1f}, {100 * hi:.1f}]")
            row["accuracy"] = f"{100 * e.record.metrics['accuracy'].mean:.1f}"
            row["n_test"] = e.record.details.get("sample_sizes", {}).get("test")
        row["seconds"] = round(e.seconds, 1)
        if e.note:
            row["note"] = e.note
        rows.append(row)
    return pd.DataFrame(rows)
