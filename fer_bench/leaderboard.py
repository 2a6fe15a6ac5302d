"""Folding result records into leaderboard tables.

- long (the source of truth): one row per record x metric, with the interval, seeds,
  flags, class set and sample sizes; scores as fractions;
- wide: rows ``encoder@revision``, columns ``protocol-vN/target``, each cell the headline
  metric in percent with its 95% interval, e.g. ``71.2 [69.8, 72.5]``, stamped ``†`` when
  something was selected on the test split, ``*`` when the encoder was pre-trained on
  the data (so such cells are never read as clean comparisons) and ``‡`` when some class
  had fewer train rows than asked for (few-shot: fewer than the shots);
- markdown: the same cells as one table per protocol (split further per dataset or
  source where targets have parts, see :func:`protocol_tables`), under a legend, so that
  no table grows a column per record.

Names in records come from users (encoder, revision and dataset names), so the CSVs
neutralise text a spreadsheet would run as a formula (a leading ``'`` before ``=``, ``+``,
``-``, ``@``, tab or carriage return, unless the text is a number) and the markdown
escapes HTML.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fer_bench.records.io import find_record_files, read_record, split_pair
from fer_bench.records.schema import HEADLINE_METRIC, SCORE_METRICS, ResultRecord

TEST_SELECTED_MARK = "†"
OVERLAP_MARK = "*"
SHORT_CLASSES_MARK = "‡"
LONG_FILE = "leaderboard_long.csv"
WIDE_FILE = "leaderboard_wide.csv"
MARKDOWN_FILE = "leaderboard.md"
_DECIMALS = 6   # fractions in the long CSV: stable text, well below any reported digit
# Table order in the markdown and the report; protocols not named follow alphabetically.
PROTOCOL_ORDER = ("linear", "knn", "cross-dataset", "unseen-expression", "few-shot",
                  "subject-folds", "linear-online")


def _long_rows(record: ResultRecord, relpath: str) -> list[dict]:
    pair = split_pair(record.target)
    sizes = record.details.get("sample_sizes", {})
    common = {
        "encoder": record.encoder["name"],
        "revision": record.encoder["revision"],
        "weights_digest": record.encoder.get("weights_digest", ""),
        "protocol": record.protocol,
        "protocol_version": record.protocol_version,
        "target": record.target,
        "source": pair[0] if pair else "",
        "dataset": pair[1] if pair else record.target,
    }
    rows = []
    for metric in SCORE_METRICS:
        if metric not in record.metrics:
            continue
        m = record.metrics[metric]
        lo, hi = m.interval if m.interval else (float("nan"), float("nan"))
        rows.append({**common, "metric": metric, "headline": metric == record.headline_metric,
                     "mean": m.mean, "std": m.std, "n_seeds": len(m.values),
                     "ci_low": lo, "ci_high": hi,
                     "test_selected": record.flags.test_selected,
                     "pretraining_overlap": ";".join(record.flags.pretraining_overlap),
                     "short_classes": ";".join(short_classes(record)),
                     "n_classes": len(record.class_set),
                     "class_set": ";".join(record.class_set),
                     "n_train": sizes.get("train"), "n_val": sizes.get("val"),
                     "n_test": sizes.get("test"),
                     "schema_version": record.schema_version, "record": relpath})
    return rows


def short_classes(record: ResultRecord) -> tuple[str, ...]:
    """Classes with fewer train rows than the protocol asked for (records written before
    the flag existed: from a few-shot record's details)."""
    return tuple(record.flags.short_classes or record.details.get("short_classes", {}) or ())


def long_table(results_dir: str | Path,
               records: Sequence[tuple[Path, ResultRecord]] | None = None) -> pd.DataFrame:
    """Every record under ``results_dir`` as rows (record x metric), sorted; ``records``
    ((path, record) pairs, e.g. from :func:`fer_bench.records.scan_records`) instead of
    reading them all (where any unreadable file is an error)."""
    root = Path(results_dir)
    if records is None:
        records = [(path, read_record(path)) for path in find_record_files(root)]
    rows = []
    for path, record in records:
        rows += _long_rows(record, Path(path).relative_to(root).as_posix())
    if not rows:
        raise FileNotFoundError(f"no result records under {root}")
    df = pd.DataFrame(rows)
    for col in ("n_train", "n_val", "n_test"):
        df[col] = df[col].astype("Int64")
    order = ["encoder", "revision", "protocol", "protocol_version", "target", "metric"]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def _cell(row: pd.Series) -> str:
    text = f"{100 * row['mean']:.1f}"
    if pd.notna(row["ci_low"]):
        text += f" [{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"
    if row["test_selected"]:
        text += TEST_SELECTED_MARK
    if row["pretraining_overlap"]:
        text += OVERLAP_MARK
    if row.get("short_classes"):
        text += SHORT_CLASSES_MARK
    return text


def wide_table(long: pd.DataFrame, metric: str = HEADLINE_METRIC) -> pd.DataFrame:
    """Encoders x protocol/target cells of ``metric`` (see the module doc)."""
    rows = long[long["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no {metric!r} scores in the table")
    cells = pd.DataFrame({
        "encoder": rows["encoder"] + "@" + rows["revision"],
        "column": rows["protocol"] + "-v" + rows["protocol_version"].astype(str) + "/"
        + rows["target"],
        "cell": rows.apply(_cell, axis=1),
    })
    wide = cells.pivot(index="encoder", columns="column", values="cell").fillna("")
    wide.columns.name = None
    return wide.sort_index().reindex(sorted(wide.columns), axis=1)


def _table_groups(long: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(heading, long rows) per table: one table per protocol, split further where
    targets have parts: ``<dataset>@<variant>`` gives a table per dataset with a column
    per variant (and the plain ``<dataset>`` record of the same protocol beside them, e.g.
    linear-online's headline next to its test-selected twin); ``<source>__to__<target>``
    gives a table per source with a column per target."""
    long = long.copy()
    pair = long["source"] != ""
    variant = ~pair & long["target"].str.contains("@", regex=False)
    base = long["target"].str.split("@", n=1).str[0]
    long["group"] = ""
    long["column"] = long["target"]
    long.loc[pair, "group"] = "source " + long.loc[pair, "source"]
    long.loc[pair, "column"] = "→ " + long.loc[pair, "dataset"]
    long.loc[variant, "group"] = base[variant]
    long.loc[variant, "column"] = "@" + long.loc[variant, "target"].str.split("@", n=1).str[1]
    split_datasets = set(zip(long.loc[variant, "protocol"], base[variant]))
    beside = ~pair & ~variant & pd.Series([(p, t) in split_datasets for p, t in
                                           zip(long["protocol"], long["target"])], long.index)
    long.loc[beside, "group"] = long.loc[beside, "target"]
    rank = {p: i for i, p in enumerate(PROTOCOL_ORDER)}
    groups = []
    for (protocol, version, group), rows in sorted(
            long.groupby(["protocol", "protocol_version", "group"], sort=True),
            key=lambda kv: (rank.get(kv[0][0], len(rank)), kv[0])):
        heading = f"{protocol}-v{version}" + (f" · {group}" if group else "")
        groups.append((heading, rows))
    return groups


def natural_key(text: str) -> list:
    """Sort key that orders 1shot, 5shot, 10shot, 20shot by number."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def protocol_tables(long: pd.DataFrame, metric: str = HEADLINE_METRIC
                    ) -> list[tuple[str, pd.DataFrame]]:
    """(heading, table) per protocol (and per dataset or source where targets have
    parts): encoders x columns, cells as in :func:`wide_table` (interval and stamps)."""
    tables = []
    for heading, rows in _table_groups(long):
        if not (rows["metric"] == metric).any():
            continue
        wide = wide_table(rows, metric)
        names = dict(zip(rows["protocol"] + "-v" + rows["protocol_version"].astype(str) + "/"
                         + rows["target"], rows["column"]))
        wide = wide.rename(columns=names)
        order = sorted(wide.columns, key=lambda c: (c.startswith("@"), natural_key(c)))
        tables.append((heading, wide[order]))
    return tables


def legend(metric: str = HEADLINE_METRIC) -> str:
    return (f"{metric.replace('_', ' ')} in percent: mean over seeds (few-shot: over draws) "
            f"[95% bootstrap interval over test items]. {TEST_SELECTED_MARK} chosen on the "
            f"test split (paper-faithful opt-in, not comparable); {OVERLAP_MARK} the encoder "
            f"was pre-trained on this data; {SHORT_CLASSES_MARK} some class had fewer train "
            "rows than asked for (few-shot: fewer than the shots, all of them used).")


def markdown_text(value) -> str:
    """``value`` as markdown text: HTML escaped, table pipes escaped."""
    return html.escape(str(value), quote=False).replace("|", "\\|")


def markdown_row(values) -> str:
    return "| " + " | ".join(markdown_text(v) or "–" for v in values) + " |"


def markdown_table(table: pd.DataFrame, first: str = "encoder") -> str:
    lines = [markdown_row([first, *table.columns]), "|---" * (len(table.columns) + 1) + "|"]
    lines += [markdown_row([name, *row.tolist()]) for name, row in table.iterrows()]
    return "\n".join(lines)


def markdown_leaderboard(long: pd.DataFrame, metric: str = HEADLINE_METRIC) -> str:
    """The leaderboard as markdown: legend, then one table per :func:`protocol_tables`."""
    lines = ["# Leaderboard", "", legend(metric), ""]
    for heading, table in protocol_tables(long, metric):
        lines += [f"## {markdown_text(heading)}", "", markdown_table(table), ""]
    return "\n".join(lines)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value``, with a leading ``'`` when it is text a spreadsheet would run as a
    formula (it starts with ``=``, ``+``, ``-``, ``@``, tab or CR and is not a number)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, column name and index label made
    :func:`spreadsheet_safe` (numeric columns are left as they are)."""
    frame = frame.copy()
    for column in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[column])
                or pd.api.types.is_bool_dtype(frame[column])):
            frame[column] = frame[column].map(spreadsheet_safe)
    frame.columns = [spreadsheet_safe(c) for c in frame.columns]
    frame.index = frame.index.map(spreadsheet_safe)
    return frame


def write_leaderboard(results_dir: str | Path, out: str | Path,
                      metric: str = HEADLINE_METRIC,
                      records: Sequence[tuple[Path, ResultRecord]] | None = None
                      ) -> dict[str, Path]:
    """Write the long CSV, wide CSV and markdown under ``out``; return their paths.
    ``records``: as in :func:`long_table`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    long = long_table(results_dir, records)
    wide = wide_table(long, metric)
    paths = {"long": out / LONG_FILE, "wide": out / WIDE_FILE, "markdown": out / MARKDOWN_FILE}
    spreadsheet_safe_frame(long.round(_DECIMALS)).to_csv(paths["long"], index=False)
    spreadsheet_safe_frame(wide).to_csv(paths["wide"])
    paths["markdown"].write_text(markdown_leaderboard(long, metric), encoding="utf-8")
    return paths
