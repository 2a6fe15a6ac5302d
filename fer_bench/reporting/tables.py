"""Leaderboard tables: result records folded into the long table, the wide CSV and the
markdown leaderboard.

- long (the source of truth): one row per record x metric, with the interval, seeds,
  flags, class set and sample sizes; scores as fractions;
- wide CSV (numbers only): rows ``encoder@revision``; for each ``protocol-vN/target``, in
  :func:`column_order` (protocols in reading order, targets in natural order: 1, 5, 10,
  20 shots), the columns ``<protocol-vN/target>/<field>`` of :data:`WIDE_FIELDS`: score,
  std, ci_low, ci_high as fractions, and the flags as booleans;
- human cells (markdown, report, :func:`wide_table`): the headline metric in percent
  with its 95% interval, e.g. ``71.2 [69.8, 72.5]``, stamped ``†`` when something was
  selected on the test split, ``*`` when the encoder was pre-trained on the scored data
  (target side: such cells are never read as clean comparisons), ``°`` when it was
  pre-trained only on the data the probe was fitted on (source side: the usual setting
  of a pre-trained encoder, for information), ``‡`` when some class had fewer train rows
  than asked for (few-shot: fewer than the shots) and ``§`` when the test set is small
  (:func:`is_small_test`);
- markdown: those cells as one table per protocol (split further per dataset or source
  where targets have parts, see :func:`protocol_tables`), under a legend, so that no
  table grows a column per record.

Seeds: ``std`` is NaN (shown as "-") when it measures no spread: one seed ran, or every
seed gave the same value (official splits and a deterministic probe), which
``seeds_identical`` says; the mean is then that one value.

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
from fer_bench.records.overlap import overlap_labels, record_overlaps
from fer_bench.records.schema import HEADLINE_METRIC, SCORE_METRICS, ResultRecord
from fer_bench.target_metrics import TABLE_METRICS, format_score

TEST_SELECTED_MARK = "†"
OVERLAP_MARK = "*"            # pre-trained on the scored data (target side): a warning
SOURCE_OVERLAP_MARK = "°"     # pre-trained on the fitted data only (source side): information
SHORT_CLASSES_MARK = "‡"
SMALL_TEST_MARK = "§"
# A test set is small (its score moves by several points with a few items) below either
# threshold; cells are stamped with SMALL_TEST_MARK and the long table says small_test.
SMALL_TEST_ITEMS = 100
SMALL_TEST_CLASS_ITEMS = 10
# The columns of one protocol/target in the wide CSV, in order.
WIDE_FIELDS = ("score", "std", "ci_low", "ci_high", "test_selected", "pretraining_overlap",
               "overlap_source", "overlap_target", "short_classes", "small_test")
LONG_FILE = "leaderboard_long.csv"
WIDE_FILE = "leaderboard_wide.csv"
MARKDOWN_FILE = "leaderboard.md"
_DECIMALS = 6   # fractions in the long CSV: stable text, well below any reported digit
# Table order in the markdown and the report; protocols not named follow alphabetically.
PROTOCOL_ORDER = ("linear", "knn", "cross-dataset", "unseen-expression", "few-shot",
                  "subject-folds", "linear-online", "au", "expression-intensity",
                  "valence-arousal", "head-pose")


def record_rows(record: ResultRecord, relpath: str) -> list[dict]:
    """One record's rows of the long table (one per metric), as dicts; ``relpath``: the
    record file, relative to the results folder."""
    pair = split_pair(record.target)
    sizes = record.details.get("sample_sizes", {})
    per_class = scored_class_counts(record)
    n_test = sizes.get("test")
    if n_test is None and per_class:
        n_test = sum(per_class.values())
    min_class = min(per_class.values()) if per_class else None
    overlap, short = record.flags.pretraining_overlap, short_classes(record)
    sides = record_overlaps(record)
    source, target = overlap_labels(sides, "source"), overlap_labels(sides, "target")
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
    for metric in record_metrics(record):
        m = record.metrics[metric]
        lo, hi = m.interval if m.interval else (float("nan"), float("nan"))
        identical = seeds_identical(m.values)
        one_value = len(m.values) <= 1 or identical
        rows.append({**common, "metric": metric, "headline": metric == record.headline_metric,
                     "mean": m.mean, "std": float("nan") if one_value else m.std,
                     "n_seeds": len(m.values), "seeds_identical": identical,
                     "ci_low": lo, "ci_high": hi,
                     "test_selected": bool(record.flags.test_selected),
                     "pretraining_overlap": bool(overlap),
                     "overlap_source": bool(source), "overlap_target": bool(target),
                     "short_classes": bool(short),
                     "small_test": is_small_test(n_test, min_class),
                     "overlap_with": ";".join(overlap),
                     "overlap_source_with": ";".join(source),
                     "overlap_target_with": ";".join(target),
                     "short_class_names": ";".join(short),
                     "n_classes": len(record.class_set),
                     "class_set": ";".join(record.class_set),
                     "n_train": sizes.get("train"), "n_val": sizes.get("val"),
                     "n_test": n_test, "min_class_test": min_class,
                     "schema_version": record.schema_version, "record": relpath})
    return rows


def record_metrics(record: ResultRecord) -> list[str]:
    """A record's metrics in table order: the expression metrics of SCORE_METRICS first,
    then any others (action units, continuous targets) in the record's own order."""
    return ([m for m in SCORE_METRICS if m in record.metrics]
            + [m for m in record.metrics if m not in SCORE_METRICS])


def seeds_identical(values: Sequence[float]) -> bool:
    """True when more than one seed ran and all gave the same value: the seeds could not
    change the result (official splits, a deterministic probe), so it is one result, not
    a spread of zero."""
    return len(values) > 1 and all(v == values[0] for v in values[1:])


def scored_class_counts(record: ResultRecord) -> dict[str, int] | None:
    """Scored (test) items per class of the class set, from the confusion matrix (rows =
    true class, summed over the runs; every run scores every test item once). None when
    the record holds no confusion matrix."""
    runs = len(record.per_seed)
    confusion = record.confusion or []
    if not runs or len(confusion) != len(record.class_set):
        return None
    return {c: int(round(sum(row) / runs)) for c, row in zip(record.class_set, confusion)}


def is_small_test(n_test: int | None, min_class: int | None) -> bool:
    """Fewer than SMALL_TEST_ITEMS test items, or a class with fewer than
    SMALL_TEST_CLASS_ITEMS (unknown sizes are not called small)."""
    return bool((n_test is not None and n_test < SMALL_TEST_ITEMS)
                or (min_class is not None and min_class < SMALL_TEST_CLASS_ITEMS))


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
        rows += record_rows(record, Path(path).relative_to(root).as_posix())
    if not rows:
        raise FileNotFoundError(f"no result records under {root}")
    return _sorted_long(pd.DataFrame(rows))


LONG_COLUMNS = ("encoder", "revision", "weights_digest", "protocol", "protocol_version",
                "target", "source", "dataset", "metric", "headline", "mean", "std", "n_seeds",
                "seeds_identical", "ci_low", "ci_high", "test_selected", "pretraining_overlap",
                "overlap_source", "overlap_target", "short_classes", "small_test",
                "overlap_with", "overlap_source_with", "overlap_target_with", "short_class_names",
                "n_classes", "class_set", "n_train", "n_val", "n_test", "min_class_test",
                "schema_version", "record")
_COUNTS = ("protocol_version", "n_seeds", "n_classes", "n_train", "n_val", "n_test",
           "min_class_test", "schema_version")
_BOOLEANS = ("headline", "seeds_identical", "test_selected", "pretraining_overlap",
             "overlap_source", "overlap_target", "short_classes", "small_test")
_FLOATS = ("mean", "std", "ci_low", "ci_high")


def typed_long(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (long-table columns, maybe more) with the long table's dtypes: counts as
    nullable integers, scores as floats, flags as booleans (missing: False)."""
    df = df.copy()
    for col in df.columns.intersection(_COUNTS):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in df.columns.intersection(_FLOATS):
        df[col] = pd.to_numeric(df[col]).astype(float)
    for col in df.columns.intersection(_BOOLEANS):
        df[col] = df[col].astype(object).where(df[col].notna(), False).astype(bool)
    return df


def _sorted_long(df: pd.DataFrame) -> pd.DataFrame:
    df = typed_long(df.reindex(columns=list(LONG_COLUMNS)))
    order = ["encoder", "revision", "protocol", "protocol_version", "target", "metric"]
    return df.sort_values(order, kind="stable").reset_index(drop=True)


def overlap_mark(row: pd.Series) -> str:
    """``*`` when a long row's encoder was pre-trained on the scored data, ``°`` when
    only on the data its probe was fitted on, else "" (rows without sides: ``*`` for any
    overlap, as before sides were recorded)."""
    if row.get("overlap_target", row.get("pretraining_overlap")):
        return OVERLAP_MARK
    return SOURCE_OVERLAP_MARK if row.get("overlap_source") else ""


def stamps(row: pd.Series) -> str:
    """The marks of a long row's flags, in legend order (see :func:`legend`)."""
    return ((TEST_SELECTED_MARK if row.get("test_selected") else "")
            + overlap_mark(row)
            + (SHORT_CLASSES_MARK if row.get("short_classes") else "")
            + (SMALL_TEST_MARK if row.get("small_test") else ""))


def source_only(rows: pd.DataFrame) -> pd.Series:
    """Rows pre-trained on their fitted data but not on their scored data (``°``)."""
    def flag(column: str) -> pd.Series:
        return rows[column].astype(object).where(rows[column].notna(), False).astype(bool)
    return flag("overlap_source") & ~flag("overlap_target")


def human_cells(row: pd.Series) -> dict[str, str]:
    """A long row as text for people: ``{<metric>: "71.2", "std": "1.0" or "-" (no
    spread: one seed, or identical seeds), "95% interval": "[69.8, 72.5]", "flags":
    stamps}`` in percent."""
    def pct(value) -> str:
        return "-" if pd.isna(value) else format_score(row["metric"], value)
    return {row["metric"]: pct(row["mean"]), "std": pct(row["std"]),
            "95% interval": ("" if pd.isna(row["ci_low"]) else
                             f"[{pct(row['ci_low'])}, {pct(row['ci_high'])}]"),
            "flags": stamps(row)}


def flat_legend(rows: pd.DataFrame) -> list[str]:
    """Lines that explain what appears in a flat table of ``rows`` (long rows): "-" for
    std and each stamp used."""
    lines = []
    if "std" in rows and (rows["std"].isna() & rows["mean"].notna()).any():
        lines.append("std -: no spread to report: one seed ran, or every seed gave the same "
                     "value (official splits and a deterministic probe)")
    for flag, text in _MARK_TEXT.items():
        if flag == "source_only":
            used = {"overlap_source", "overlap_target"} <= set(rows) and source_only(rows).any()
        else:
            used = flag in rows and rows[flag].fillna(False).astype(bool).any()
        if used:
            lines.append(text)
    return lines


def figure_notes(rows: pd.DataFrame) -> str:
    """What the stamps in a figure of ``rows`` (long rows) mean, those that appear, on
    one line."""
    notes = []
    if rows["test_selected"].any():
        notes.append(f"{TEST_SELECTED_MARK} selected on the test split")
    if rows["overlap_target"].any():
        notes.append(f"{OVERLAP_MARK} encoder pre-trained on the scored data")
    if source_only(rows).any():
        notes.append(f"{SOURCE_OVERLAP_MARK} pre-trained on the probe's training data only")
    if "short_classes" in rows and rows["short_classes"].any():
        notes.append(f"{SHORT_CLASSES_MARK} a class short of train rows")
    if "small_test" in rows and rows["small_test"].any():
        notes.append(f"{SMALL_TEST_MARK} small test set")
    return "; ".join(notes)


def _cell(row: pd.Series) -> str:
    metric = row["metric"]
    text = format_score(metric, row["mean"])
    if pd.notna(row["ci_low"]):
        text += f" [{format_score(metric, row['ci_low'])}, {format_score(metric, row['ci_high'])}]"
    return text + stamps(row)


_MARK_TEXT = {
    "test_selected": f"{TEST_SELECTED_MARK} chosen on the test split (not comparable)",
    "overlap_target": f"{OVERLAP_MARK} the encoder was pre-trained on the scored data "
                      "(target side): not a clean comparison",
    "source_only": f"{SOURCE_OVERLAP_MARK} the encoder was pre-trained on the data the probe "
                   "was fitted on, not on the scored data (source side): the usual setting "
                   "of a pre-trained encoder",
    "short_classes": f"{SHORT_CLASSES_MARK} a class had fewer train rows than asked for",
    "small_test": f"{SMALL_TEST_MARK} small test set: fewer than {SMALL_TEST_ITEMS} test items "
                  f"or a class with fewer than {SMALL_TEST_CLASS_ITEMS}",
}


def column_order(protocol: str, version: int, target: str) -> tuple:
    """Sort key of a protocol/target column: protocols in PROTOCOL_ORDER (others after,
    alphabetically), then version, then targets by :func:`target_key` (1, 5, 10, 20
    shots)."""
    rank = {p: i for i, p in enumerate(PROTOCOL_ORDER)}
    return (rank.get(protocol, len(rank)), protocol, int(version), target_key(target))


def encoder_labels(rows: pd.DataFrame) -> pd.Series:
    """``encoder@revision`` of each long row: how tables and figures name an encoder."""
    return rows["encoder"] + "@" + rows["revision"]


def _column_names(rows: pd.DataFrame) -> pd.Series:
    return (rows["protocol"] + "-v" + rows["protocol_version"].astype(str) + "/"
            + rows["target"])


def _ordered_columns(rows: pd.DataFrame) -> list[str]:
    keys = {name: column_order(p, v, t) for name, p, v, t in
            zip(_column_names(rows), rows["protocol"], rows["protocol_version"], rows["target"])}
    return sorted(keys, key=keys.get)


def _metric_rows(long: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``metric``; for the default headline metric also the headline rows of
    records that have no such metric (an action-unit record shows its mean F1)."""
    chosen = long["metric"] == metric
    if metric == HEADLINE_METRIC:
        chosen |= long["headline"] & ~long["record"].isin(set(long.loc[chosen, "record"]))
    rows = long[chosen]
    if rows.empty:
        raise ValueError(f"no {metric!r} scores in the table")
    return rows


def _cell_keys(rows: pd.DataFrame) -> dict[str, pd.Series]:
    """The row (``encoder@revision``) and column (``protocol-vN/target``) of each cell."""
    return {"encoder": encoder_labels(rows), "column": _column_names(rows)}


def wide_table(long: pd.DataFrame, metric: str = HEADLINE_METRIC) -> pd.DataFrame:
    """Encoders x protocol/target cells of ``metric`` (see the module doc)."""
    rows = _metric_rows(long, metric)
    cells = pd.DataFrame({**_cell_keys(rows), "cell": rows.apply(_cell, axis=1)})
    wide = cells.pivot(index="encoder", columns="column", values="cell").fillna("")
    wide.columns.name = None
    return wide.sort_index().reindex(_ordered_columns(rows), axis=1)


def wide_numeric_table(long: pd.DataFrame, metric: str = HEADLINE_METRIC) -> pd.DataFrame:
    """Encoders x ``<protocol-vN/target>/<field>`` for the fields of :data:`WIDE_FIELDS`:
    score (the mean), std, ci_low, ci_high as fractions (NaN where absent), the flags as
    booleans (False where no record). Columns in :func:`column_order`, fields in order."""
    rows = _metric_rows(long, metric)
    values = pd.DataFrame({
        **_cell_keys(rows),
        "score": rows["mean"].astype(float), "std": rows["std"].astype(float),
        "ci_low": rows["ci_low"].astype(float), "ci_high": rows["ci_high"].astype(float),
        **{flag: rows[flag].astype(bool) for flag in WIDE_FIELDS[4:]},
    })
    wide = values.pivot(index="encoder", columns="column", values=list(WIDE_FIELDS))
    columns = [(field, column) for column in _ordered_columns(rows) for field in WIDE_FIELDS]
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(columns)).sort_index()
    for field, column in columns:
        if field in WIDE_FIELDS[4:]:
            wide[(field, column)] = wide[(field, column)].fillna(False).astype(bool)
        else:
            wide[(field, column)] = wide[(field, column)].astype(float)
    wide.columns = [f"{column}/{field}" for field, column in columns]
    wide.index.name = "encoder"
    return wide


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


_SHOTS = re.compile(r"(\d+)shot-(.+)")


def target_key(target: str) -> tuple:
    """Sort key of a record target: by dataset, then its variants in natural order, with
    few-shot variants (``@<n>shot-<probe>``) grouped by probe, then by shots (1, 5, 10,
    20), so a table reads along one curve at a time."""
    base, at, variant = target.partition("@")
    shots = _SHOTS.fullmatch(variant)
    if shots:
        return (natural_key(base), 1, natural_key(shots[2]), int(shots[1]))
    return (natural_key(base), 1 if at else 0, natural_key(variant), 0)


def protocol_tables(long: pd.DataFrame, metric: str = HEADLINE_METRIC
                    ) -> list[tuple[str, pd.DataFrame]]:
    """(heading, table) per protocol (and per dataset or source where targets have
    parts): encoders x columns, cells as in :func:`wide_table` (interval and stamps)."""
    tables = []
    for heading, rows in _table_groups(long):
        shown = [metric] if (rows["metric"] == metric).any() else []
        if not shown and metric == HEADLINE_METRIC:   # records of other targets: their own
            shown = list(dict.fromkeys(rows.loc[rows["headline"], "metric"]))
            shown += [m for m in TABLE_METRICS if (rows["metric"] == m).any()]
        for name in shown:
            part = rows[rows["metric"] == name]
            wide = wide_table(part, name)
            names = dict(zip(part["protocol"] + "-v" + part["protocol_version"].astype(str)
                             + "/" + part["target"], part["column"]))
            wide = wide.rename(columns=names)
            order = sorted(wide.columns, key=lambda c: (c.startswith("@"), target_key(c)))
            suffix = "" if name == metric else f" · {name.replace('_', ' ')}"
            tables.append((heading + suffix, wide[order]))
    return tables


def legend(metric: str = HEADLINE_METRIC) -> str:
    return (f"{metric.replace('_', ' ')} in percent: mean over seeds (few-shot: over draws) "
            f"[95% bootstrap interval over test items]. {TEST_SELECTED_MARK} chosen on the "
            f"test split (paper-faithful opt-in, not comparable); {OVERLAP_MARK} the encoder "
            f"was pre-trained on the scored data (target side: not a clean comparison); "
            f"{SOURCE_OVERLAP_MARK} it was pre-trained on the data the probe was fitted on but "
            f"not on the scored data (source side: the usual setting, for information); "
            f"{SHORT_CLASSES_MARK} some class had fewer train "
            f"rows than asked for (few-shot: fewer than the shots, all of them used); "
            f"{SMALL_TEST_MARK} small test set (fewer than {SMALL_TEST_ITEMS} test items or a "
            f"class with fewer than {SMALL_TEST_CLASS_ITEMS}): read the interval, not the "
            "digits.")


def markdown_text(value) -> str:
    """``value`` as markdown text: HTML escaped, table pipes escaped."""
    return html.escape(str(value), quote=False).replace("|", "\\|")


def markdown_row(values) -> str:
    return "| " + " | ".join(markdown_text(v) or "–" for v in values) + " |"


def markdown_table(table: pd.DataFrame, first: str = "encoder") -> str:
    lines = [markdown_row([first, *table.columns]), "|---" * (len(table.columns) + 1) + "|"]
    lines += [markdown_row([name, *row.tolist()]) for name, row in table.iterrows()]
    return "\n".join(lines)


TARGETS_LEGEND = ("Action-unit and continuous-target protocols (au, valence-arousal, head-pose, "
                  "expression-intensity) show their own headline: F1 and AUC in percent; ICC, "
                  "CCC and r as coefficients (1 = perfect); MAE and RMSE in the target's units "
                  "(lower is better). head-pose measures how much head pose the features "
                  "keep: lower reads as more pose-invariant.")


def markdown_leaderboard(long: pd.DataFrame, metric: str = HEADLINE_METRIC) -> str:
    """The leaderboard as markdown: legend, then one table per :func:`protocol_tables`."""
    lines = ["# Leaderboard", "", legend(metric), ""]
    if metric == HEADLINE_METRIC and (long["headline"] & (long["metric"] != metric)).any():
        lines += [TARGETS_LEGEND, ""]
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


def write_leaderboard(long: pd.DataFrame, out: str | Path,
                      metric: str = HEADLINE_METRIC) -> dict[str, Path]:
    """Write the long CSV, wide CSV and markdown of ``long`` (:func:`long_table`) under
    ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wide = wide_numeric_table(long, metric)
    paths = {"long": out / LONG_FILE, "wide": out / WIDE_FILE, "markdown": out / MARKDOWN_FILE}
    spreadsheet_safe_frame(long.round(_DECIMALS)).to_csv(paths["long"], index=False)
    spreadsheet_safe_frame(wide.round(_DECIMALS)).to_csv(paths["wide"])
    paths["markdown"].write_text(markdown_leaderboard(long, metric), encoding="utf-8")
    return paths
