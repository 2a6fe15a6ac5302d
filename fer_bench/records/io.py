"""Reading and writing result records and their per-sample predictions.

Layout (the revision is part of the path, so records of two revisions never collide)::

    <results_dir>/<encoder>/<revision>/<protocol>-v<version>/<target>.json
    <results_dir>/<encoder>/<revision>/<protocol>-v<version>/<target>.predictions.csv.gz

Both files are written to a temporary file in the same folder and moved into place with
``os.replace`` (atomic on POSIX and Windows), predictions first: a crash or a concurrent
run never leaves a half-written record, and a record on disk implies its predictions are.

A recomputed record whose substance is unchanged (everything but :data:`VOLATILE`: when,
how long, on what machine, from which local weights folder) and whose predictions are the
same leaves both files untouched, so regenerating a committed results folder changes only
the files whose numbers moved. Predictions are gzipped without a timestamp: the same rows
give the same bytes.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fer_bench.records.migrate import RecordSchemaError, migrate
from fer_bench.records.schema import RecordKey, ResultRecord

RECORD_SUFFIX = ".json"
PREDICTIONS_SUFFIX = ".predictions.csv.gz"
PAIR_SEPARATOR = "__to__"
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+@-]+")


def pair_target(source: str, target: str) -> str:
    """The ``target`` field of a cross-dataset record: ``<source>__to__<target>``."""
    return f"{source}{PAIR_SEPARATOR}{target}"


def split_pair(target: str) -> tuple[str, str] | None:
    """(source, target) of a pair target, None for a single dataset."""
    if PAIR_SEPARATOR not in target:
        return None
    source, _, tgt = target.partition(PAIR_SEPARATOR)
    return source, tgt


def safe_name(text: str) -> str:
    """A file-name-safe spelling (``pkg.mod:factory`` -> ``pkg.mod_factory``)."""
    cleaned = _UNSAFE.sub("_", str(text)).strip("._")
    if not cleaned:
        raise ValueError(f"cannot make a file name out of {text!r}")
    return cleaned


def record_path(results_dir: str | Path, key: RecordKey) -> Path:
    return (Path(results_dir) / safe_name(key.encoder) / safe_name(key.revision)
            / f"{safe_name(key.protocol)}-v{int(key.protocol_version)}"
            / f"{safe_name(key.target)}{RECORD_SUFFIX}")


def predictions_path(record_file: str | Path) -> Path:
    record_file = Path(record_file)
    return record_file.with_name(record_file.name[: -len(RECORD_SUFFIX)] + PREDICTIONS_SUFFIX)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _nan_to_none(value: Any) -> Any:
    # JSON has no NaN; strict parsers (jq, browsers) reject Python's NaN token.
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value


# Provenance that differs between two computations of the same numbers.
VOLATILE = ("created", "timings", "environment")
_VOLATILE_ENCODER_EXTRA = ("weights",)     # the local folder the weights were read from


def substance(data: dict) -> dict:
    """A record's JSON data without its :data:`VOLATILE` provenance."""
    out = {k: v for k, v in data.items() if k not in VOLATILE}
    encoder = dict(out.get("encoder") or {})
    extra = {k: v for k, v in (encoder.get("extra") or {}).items()
             if k not in _VOLATILE_ENCODER_EXTRA}
    out["encoder"] = {**encoder, "extra": extra}
    return out


def write_record(record: ResultRecord, results_dir: str | Path,
                 predictions: pd.DataFrame | None = None) -> Path:
    """Write ``record`` (and its per-sample ``predictions``: columns id, seed, y_true,
    y_pred) under ``results_dir``; return the record's path. Files that already hold the
    same substance and predictions are left as they are."""
    path = record_path(results_dir, record.key)
    pred_path = predictions_path(path)
    if predictions is not None:
        record.predictions_file = pred_path.name
    data = _nan_to_none(record.to_dict())
    if _unchanged(path, data, predictions):
        return path
    if predictions is not None:
        # no timestamp and no file name in the gzip header: same rows, same bytes
        packed = gzip.compress(predictions.to_csv(index=False).encode(), mtime=0)
        _atomic_write(pred_path, lambda tmp: tmp.write_bytes(packed))
    text = json.dumps(data, indent=1, allow_nan=False)
    _atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    return path


def _unchanged(path: Path, data: dict, predictions: pd.DataFrame | None) -> bool:
    """``path`` holds a record of the same substance, with the same predictions."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    # compare as JSON text would read back (tuples as lists, floats as written)
    if substance(old) != substance(json.loads(json.dumps(data, allow_nan=False))):
        return False
    if predictions is None:
        return not predictions_path(path).exists()
    try:
        previous = read_predictions(path)
    except (OSError, ValueError, EOFError):
        return False
    current = predictions.astype({c: str for c in ("id", "y_true", "y_pred")
                                  if c in predictions.columns})
    return (list(previous.columns) == list(current.columns)
            and previous.reset_index(drop=True).equals(current.reset_index(drop=True)))


def read_record(path: str | Path) -> ResultRecord:
    """Load one record, upgrading older schema versions; errors name the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecordSchemaError(f"{path}: not a readable JSON record ({e})") from None
    if not isinstance(data, dict):
        raise RecordSchemaError(f"{path}: expected a JSON object, got {type(data).__name__}")
    data = migrate(data, source=str(path))
    try:
        record = ResultRecord.from_dict(data)
    except (TypeError, KeyError, ValueError) as e:
        raise RecordSchemaError(f"{path}: does not match record schema "
                                f"v{data['schema_version']} ({e})") from None
    record.per_class_recall = {c: math.nan if v is None else v
                               for c, v in record.per_class_recall.items()}
    return record


def read_predictions(record_file: str | Path) -> pd.DataFrame:
    return pd.read_csv(predictions_path(record_file), compression="gzip",
                       dtype={"id": str, "y_true": str, "y_pred": str})


def find_record_files(results_dir: str | Path) -> list[Path]:
    """Every record file under ``results_dir``, sorted (temporary files excluded)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"results directory {root} does not exist")
    return sorted(p for p in root.rglob(f"*{RECORD_SUFFIX}") if not p.name.startswith("."))


def load_records(results_dir: str | Path) -> list[ResultRecord]:
    return [read_record(p) for p in find_record_files(results_dir)]


@dataclass
class RecordScan:
    """The record files of a results folder: those that load, and those that do not
    (truncated, edited, written by a newer fer-bench) with the reason."""
    records: list[tuple[Path, ResultRecord]]
    skipped: list[tuple[Path, str]]

    @property
    def n_files(self) -> int:
        return len(self.records) + len(self.skipped)


def scan_records(results_dir: str | Path, strict: bool = False) -> RecordScan:
    """Load every record under ``results_dir``; an unreadable one is skipped and listed
    (``strict``: its :class:`RecordSchemaError` is raised instead)."""
    records, skipped = [], []
    for path in find_record_files(results_dir):
        try:
            records.append((path, read_record(path)))
        except RecordSchemaError as e:
            if strict:
                raise
            skipped.append((path, str(e)))
    return RecordScan(records, skipped)
