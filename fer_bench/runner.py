"""``run_benchmark``: every (encoder, protocol, task) -> a result record on disk.

The plan (which records each protocol would write) is made before any data or weights
are touched, so bad protocol/dataset combinations fail at once. For each encoder, each
planned record is first checked on disk against ``overwrite``; only then is anything
computed, and the encoder's weights load only when the feature store misses.

``overwrite``:
- ``never``: an existing record file is never replaced (even a stale or unreadable one;
  those are reported);
- ``missing`` (default): compute records that are absent, unreadable or stale (see
  :func:`stale_reason`);
- ``always``: compute everything again.

A record written by a newer fer-bench (a higher ``schema_version`` than this one reads)
is never replaced by ``missing``: the run is refused before anything is computed
(:class:`NewerRecordError`); ``never`` keeps it and says so; ``always`` replaces it.

Before any work the runner loads every dataset the plan reads, builds every encoder
(cheap: weights load on the first embed) and judges every existing record, so bad data,
a bad weights file or a newer record stop the run before anything is computed, and a
failure later on keeps every record already written.

Datasets are named in records by :func:`fer_bench.datasets.registry.record_name` (a
``folder:PATH`` spec by its ``name``, never its path). Two datasets whose names would
share a record file are refused before anything runs, and an existing file that holds
another dataset's record is never replaced.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fer_bench.datasets import load_dataset
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.registry import record_name
from fer_bench.encoder import Encoder
from fer_bench.protocols.base import Protocol, Task, protocol_from_spec
from fer_bench.protocols.context import DEFAULT_SEEDS, RunContext, TaskNotApplicable
from fer_bench.records.io import read_record, record_path, safe_name, write_record
from fer_bench.records.migrate import UNKNOWN, NewerSchemaError, RecordSchemaError
from fer_bench.records.schema import RecordKey, ResultRecord
from fer_bench.runtime import resolve_device

OVERWRITE_MODES = ("never", "missing", "always")


class RunError(ValueError):
    """A run refused as asked (names that collide, a record file that holds another
    dataset's record, a record of a newer fer-bench, bad run settings)."""


class NewerRecordError(RunError):
    """Existing records were written by a newer fer-bench; ``overwrite="missing"`` does
    not replace them."""


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
    revision: str = ""


class DatasetCache:
    """Loads each dataset spec once per run (shared by every encoder)."""

    def __init__(self, data_root: str | Path | None = None):
        self.data_root = data_root
        self._loaded: dict[str, Dataset] = {}

    def __call__(self, spec: str) -> Dataset:
        if spec not in self._loaded:
            self._loaded[spec] = load_dataset(spec, root=self.data_root)
        return self._loaded[spec]


def record_names(specs: Sequence[str]) -> dict[str, str]:
    """{record name: spec} of the datasets asked for; two specs with one name are refused."""
    names: dict[str, str] = {}
    for spec in specs:
        name = record_name(spec)
        if names.setdefault(name, spec) != spec:
            raise RunError(f"datasets {names[name]!r} and {spec!r} are both named {name!r} in "
                           "records; give one of them another name (name=...)")
    return names


def plan(protocols: Sequence[Protocol],
         datasets: Sequence[str] | None) -> list[tuple[Protocol, Task]]:
    """Every (protocol, task) to consider; protocols without datasets use their defaults.
    Refuses tasks whose targets differ but would share a record file."""
    planned = [(p, t) for p in protocols for t in p.tasks(list(datasets or p.default_datasets()))]
    files: dict[tuple, str] = {}
    for p, t in planned:
        where = (p.name, p.version, safe_name(t.target))
        if files.setdefault(where, t.target) != t.target:
            raise RunError(f"{files[where]!r} and {t.target!r} would share the same record "
                           f"file {where[2]}.json; give one dataset another name (name=...)")
    return planned


def stale_reason(record: ResultRecord, protocol: Protocol, task: Task,
                 ctx: RunContext) -> str | None:
    """Why an existing record does not answer the current request (None: it does).

    A record is stale when anything that can move its numbers differs: the encoder's
    weights, layer, dimension or preprocessing (not its descriptive metadata, such as
    ``pretrained_on``: a record keeps the flags it was written with); the protocol's
    resolved config, less the fields that only choose which records are planned
    (``Protocol.plan_fields``); the seeds; and for every dataset it read, its rows
    (manifest digest), the bytes of its images (content digest) or its labels, splits and
    subjects (labels digest). Records written before schema 2 have no image or label
    digests and are stale."""
    refs = {d.name: d for d in record.datasets}
    if any(UNKNOWN in (d.content_digest, d.labels_digest) for d in record.datasets):
        return ("written before records kept image and label digests (schema "
                "version < 2), so its data cannot be checked")
    info = ctx.encoder.info
    if record.encoder.get("weights_digest") != info.weights_digest:
        return "written for other weights"
    current = json.loads(json.dumps(info.to_dict()))
    for field in ("layer", "embed_dim", "preprocessing"):
        if record.encoder.get(field) != current[field]:
            return f"written for another encoder {field}"
    if protocol.computing_config(record.config) != protocol.computing_config():
        return "written with another protocol config"
    if list(record.seeds) != list(ctx.seeds):
        return f"written with seeds {record.seeds}"
    for spec in task.datasets:
        ref = refs.get(spec)
        if ref is None:
            return f"written for other datasets ({', '.join(sorted(refs))})"
        now = ctx.dataset_digests(spec)
        if ref.manifest_digest != now["manifest_digest"]:
            return f"dataset {spec} changed since (rows, paths, boxes or face crop)"
        if ref.content_digest != now["content_digest"]:
            return f"the images of {spec} changed since (file contents)"
        if ref.labels_digest != now["labels_digest"]:
            return f"the labels, splits or subjects of {spec} changed since"
    return None


def _existing(path: Path, overwrite: str, protocol: Protocol, task: Task,
              ctx: RunContext) -> tuple[str, ResultRecord | None, str] | None:
    """(status, record, note) when the existing record is kept, None when to compute.
    Raises when the file holds the record of another target (never replaced)."""
    if not path.exists():
        return None
    try:
        record = read_record(path)
    except NewerSchemaError as e:
        if overwrite == "always":
            return None
        note = (f"written by a newer fer-bench (schema_version {e.version}, this one writes "
                f"{e.current}); kept")
        return ("kept-stale" if overwrite == "never" else "newer", None, note)
    except RecordSchemaError as e:
        return ("kept-stale", None, f"unreadable: {e}") if overwrite == "never" else None
    if record.target != task.target:
        raise RunError(f"{path} holds the record of {record.target!r}, not of "
                       f"{task.target!r} (both names give this file name); give the "
                       "dataset another name (name=...)")
    if overwrite == "always":
        return None
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
        raise RunError(f"overwrite must be one of {OVERWRITE_MODES}, got {overwrite!r}")
    if not encoders or not protocols:
        raise RunError("run_benchmark needs at least one encoder and one protocol")
    _check_settings(seeds, batch_size, num_workers)
    from fer_bench.features.store import FeatureStore
    from fer_bench.paths import cache_dir as resolve_cache
    from fer_bench.probes.fit_store import FitStore

    device = resolve_device(device)
    protocols = [protocol_from_spec(p) if isinstance(p, str) else p for p in protocols]
    # Protocols, records and the run context see datasets by record name only.
    specs = record_names(datasets or [])
    planned = plan(protocols, list(specs) or None)
    load_spec = load or DatasetCache(data_root)

    def load(name: str) -> Dataset:
        return load_spec(specs.get(name, name))
    # Before any work: every dataset read (bad data stops the run here), every encoder
    # built (no weights loaded yet) and every existing record judged.
    for name in dict.fromkeys(spec for _, task in planned for spec in task.datasets):
        load(name)
    built = _unique_encoders([_encoder(spec, weights or {}, device) for spec in encoders])
    store = store or FeatureStore(resolve_cache(cache_dir) / "features")
    fit_store = FitStore.in_cache(cache_dir)
    jobs = []
    for encoder in built:
        info = encoder.info
        ctx = RunContext(encoder, store, load=load, data_root=data_root, seeds=tuple(seeds),
                         device=device, progress=progress, batch_size=batch_size,
                         num_workers=num_workers, fit_store=fit_store)
        for protocol, task in planned:
            path = record_path(results_dir, RecordKey(info.name, info.revision, protocol.name,
                                                      protocol.version, task.target))
            jobs.append((ctx, protocol, task, path,
                         _existing(path, overwrite, protocol, task, ctx)))
    newer = [(path, kept[2]) for _, _, _, path, kept in jobs
             if kept is not None and kept[0] == "newer"]
    if newer:
        listed = "; ".join(str(path) for path, _ in newer[:5])
        more = f" and {len(newer) - 5} more" if len(newer) > 5 else ""
        raise NewerRecordError(
            f"refusing to overwrite {len(newer)} record(s) written by a newer fer-bench "
            f"({newer[0][1].removesuffix('; kept')}): {listed}{more}; upgrade fer-bench, or "
            "pass --overwrite always (overwrite='always') to replace them, or --overwrite "
            "never to keep them")
    entries: list[RunEntry] = []
    bar = _bar(len(jobs), progress)
    for ctx, protocol, task, path, kept in jobs:
        name, revision = ctx.encoder.info.name, ctx.encoder.info.revision
        if bar is not None:
            bar.set_description(f"{name} {protocol.name} {task.target}")
        if kept is not None:
            status, record, note = kept
            entries.append(RunEntry(name, protocol.name, task.target, path, status, record,
                                    note, revision=revision))
        else:
            started = time.perf_counter()
            try:
                record, predictions = protocol.run_task(ctx, task)
            except TaskNotApplicable as e:
                entries.append(RunEntry(name, protocol.name, task.target, path,
                                        "not-applicable", None, str(e), revision=revision))
            else:
                write_record(record, results_dir, predictions)
                entries.append(RunEntry(name, protocol.name, task.target, path, "computed",
                                        record, seconds=time.perf_counter() - started,
                                        revision=revision))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return entries


def _check_settings(seeds: Sequence[int], batch_size: int, num_workers: int | None) -> None:
    if not seeds or any(int(s) != s or s < 0 for s in seeds):
        raise RunError(f"seeds must be integers >= 0 (at least one), got {list(seeds)}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise RunError(f"batch_size must be an integer >= 1, got {batch_size}")
    if num_workers is not None and (int(num_workers) != num_workers or num_workers < 0):
        raise RunError(f"num_workers must be an integer >= 0, got {num_workers}")


def _unique_encoders(built: list[Encoder]) -> list[Encoder]:
    """One encoder per (name, revision): a second spec for the same encoder would write
    the same record files."""
    seen: dict[tuple[str, str], Encoder] = {}
    for encoder in built:
        seen.setdefault((encoder.info.name, encoder.info.revision), encoder)
    return list(seen.values())


def _bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="record", leave=False)


RUN_COLUMNS = ("status", "note", "seconds")


def entries_frame(entries: Sequence[RunEntry],
                  results_dir: str | Path | None = None) -> pd.DataFrame:
    """What a run did, as numbers: the long leaderboard rows
    (:data:`fer_bench.reporting.tables.LONG_COLUMNS`, one per record x metric; fractions,
    NaN std where the seeds give one value, flags as booleans) of every planned record
    that has one, in run order, plus ``status``, ``note`` and ``seconds``. A planned
    record without scores (not applicable, an unreadable file kept) is one row with
    its status and NaN scores. ``record`` is the file path relative to ``results_dir``."""
    from fer_bench.reporting.tables import LONG_COLUMNS, record_rows, typed_long

    rows = []
    for e in entries:
        where = _relative(e.path, results_dir)
        run = {"status": e.status, "note": e.note, "seconds": round(e.seconds, 3)}
        if e.record is not None:
            rows += [{**row, **run} for row in record_rows(e.record, where)]
        else:
            rows.append({"encoder": e.encoder, "revision": e.revision, "protocol": e.protocol,
                         "target": e.target, "record": where, **run})
    return typed_long(pd.DataFrame(rows, columns=[*LONG_COLUMNS, *RUN_COLUMNS]))


def _relative(path: Path, root: str | Path | None) -> str:
    try:
        return Path(path).relative_to(root).as_posix() if root is not None else str(path)
    except ValueError:
        return str(path)


def summary_frame(entries: Sequence[RunEntry], metric: str | None = None) -> pd.DataFrame:
    """One row per planned record, for people: the score in percent (the headline
    metric unless ``metric``), its std over seeds ("-" when the seeds give one value),
    the 95% interval and stamps (:func:`fer_bench.reporting.tables.human_cells`), accuracy,
    the test size, seconds and the note."""
    return summary_of(entries_frame(entries), metric)


def summary_of(frame: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """:func:`summary_frame` of a frame of :func:`entries_frame` (or long rows)."""
    from fer_bench.reporting.tables import human_cells

    rows = []
    for _, group in frame.groupby(["encoder", "revision", "protocol", "target", "record"],
                                  sort=False, dropna=False):
        first = group.iloc[0]
        row = {"encoder": first["encoder"], "revision": first["revision"],
               "protocol": first["protocol"], "target": first["target"]}
        if "status" in group:
            row["status"] = first["status"]
        scored = group[group["metric"] == metric] if metric else group[group["headline"]]
        if len(scored):
            row.update(human_cells(scored.iloc[0]))
            accuracy = group.loc[group["metric"] == "accuracy", "mean"]
            if metric in (None, "mean_class_accuracy") and len(accuracy):
                row["accuracy"] = f"{100 * accuracy.iloc[0]:.1f}"
            n_test = scored.iloc[0]["n_test"]
            row["n_test"] = "" if pd.isna(n_test) else str(int(n_test))
        if "seconds" in group:
            row["seconds"] = f"{float(first['seconds']):.1f}"
        if "note" in group and isinstance(first["note"], str) and first["note"]:
            row["note"] = first["note"]
        rows.append(row)
    return pd.DataFrame(rows).fillna("")
