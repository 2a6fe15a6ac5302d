"""A results folder, read once: its records and their long table, the one input of every
table and figure of ``fer-bench leaderboard``, ``fer-bench plot`` and ``fer-bench report``.

Each record file is read once (:func:`read_results`, or the caller's (path, record)
pairs, e.g. from :func:`fer_bench.records.scan_records`, which skips unreadable files)
and folded into the long table once; tables take the long table, figures the records or
the long table, all from one :class:`ResultsTable`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fer_bench.records.io import find_record_files, read_record
from fer_bench.records.schema import ResultRecord
from fer_bench.reporting.tables import long_table


@dataclass(frozen=True, eq=False)
class ResultsTable:
    """The records under ``root`` as (path, record) pairs and their long table
    (:func:`fer_bench.reporting.tables.long_table`)."""
    root: Path
    records: tuple[tuple[Path, ResultRecord], ...]
    long: pd.DataFrame

    @property
    def labels(self) -> list[str]:
        """Every ``encoder@revision`` of the records, sorted."""
        return sorted({record_label(record) for _, record in self.records})


def read_results(results_dir: str | Path,
                 records: Iterable[tuple[Path, ResultRecord]] | None = None) -> ResultsTable:
    """The records under ``results_dir`` (every record file read, any unreadable one an
    error), or ``records`` read already, with their long table. No record at all is a
    :class:`FileNotFoundError`."""
    root = Path(results_dir)
    if records is None:
        records = [(path, read_record(path)) for path in find_record_files(root)]
    records = tuple((Path(path), record) for path, record in records)
    return ResultsTable(root, records, long_table(root, records))


def record_label(record: ResultRecord) -> str:
    """``encoder@revision`` of a record, as the long table's rows name it."""
    return f"{record.encoder['name']}@{record.encoder['revision']}"


def eval_dataset(record: ResultRecord) -> str:
    """The dataset a record was scored on (its first eval dataset, else its target)."""
    evals = [d.name for d in record.datasets if d.role == "eval"]
    return evals[0] if evals else record.target
