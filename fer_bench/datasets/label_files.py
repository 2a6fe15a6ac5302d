"""Reading whitespace- or comma-separated label lists line by line, so that every
problem can name its file and line."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fer_bench.datasets.policy import BadData


def label_lines(path: Path, bad: BadData, n_fields: int, sep: str | None = None,
                label: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Yield ``("file:line", fields)`` for each non-blank line with ``n_fields`` fields.

    ``label`` is how the file is named in messages (default: the path). Lines with a
    different field count go to ``bad`` as "malformed line".
    """
    name = label or str(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(sep) if sep else line.split()
            where = f"{name}:{lineno}"
            if len(fields) != n_fields:
                bad("malformed line", where,
                    f"{n_fields} fields, found {len(fields)}: {line[:80]!r}")
                continue
            yield where, [f.strip() for f in fields]


def map_code(text: str, table: dict, where: str, bad: BadData) -> str | None:
    """Canonical name of a label code (an int code when the table's keys are ints);
    None (and a report to ``bad``) when the code is not in the table."""
    key: object = text
    if table and isinstance(next(iter(table)), int):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value.is_integer():
            bad("unknown label code", where, f"an integer code in {sorted(table)}, found {text!r}")
            return None
        key = int(value)
    if key not in table:
        bad("unknown label code", where, f"a code in {sorted(table)}, found {text!r}")
        return None
    return table[key]
