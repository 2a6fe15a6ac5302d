"""Tables on stdout: for people (``table``) or for programs (``json``, ``csv``).

Only the table or the data go to stdout; progress bars, warnings and notes (how many
records were computed, where they went) go to stderr, so that
``fer-bench run ... --format json | python -c 'import json,sys; json.load(sys.stdin)'``
and ``--format csv > scores.csv`` hold the data alone.

- ``json``: a list of objects, one per row; NaN and missing values are ``null``, flags
  ``true``/``false``; strict JSON (no ``NaN`` token).
- ``csv``: a header and one line per row, text made spreadsheet-safe as in the
  leaderboard CSVs; missing values are empty.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMATS = ("table", "json", "csv")

format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
    help="table: for people; json or csv: every metric of every record as numbers "
         "(fractions; NaN std where seeds give one value; flags as booleans), on stdout "
         "alone (notes go to stderr).")


def frame_json(frame: pd.DataFrame) -> str:
    """``frame`` as a strict JSON list of row objects (NaN/NA -> null)."""
    rows = json.loads(frame.to_json(orient="records", double_precision=15))
    return json.dumps(rows, indent=1, ensure_ascii=False, allow_nan=False)


def frame_csv(frame: pd.DataFrame) -> str:
    from fer_bench.reporting.tables import spreadsheet_safe_frame

    return spreadsheet_safe_frame(frame).to_csv(index=False)


def emit(frame: pd.DataFrame, fmt: str, table: pd.DataFrame | None = None,
         legend: list[str] | None = None) -> None:
    """Write ``frame`` to stdout as ``fmt``; for ``table``, ``table`` (text cells for
    people) and its ``legend`` lines are shown instead."""
    if fmt == "json":
        click.echo(frame_json(frame))
    elif fmt == "csv":
        click.echo(frame_csv(frame), nl=False)
    else:
        shown = frame if table is None else table
        click.echo(shown.to_string(index=False) if len(shown) else "(no rows)")
        for line in legend or ():
            click.echo(line)


def note(text: str) -> None:
    """A line for people, on stderr."""
    click.echo(text, err=True)


def text_table(rows: list[dict[str, str]]) -> str:
    """Left-aligned columns under a header, two spaces apart (cells as given)."""
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip()
              for r in rows]
    return "\n".join(lines)
