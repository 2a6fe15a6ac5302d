"""``fer-bench results show``: the records of a results folder as a table, JSON or CSV,
narrowed by encoder, protocol and dataset (the rows of the long leaderboard table)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fer_bench.cli.errors import SuggestingGroup
from fer_bench.cli.output import format_option
from fer_bench.cli.run_cmd import DEFAULT_RESULTS_DIR, strict_option

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@click.group("results", cls=SuggestingGroup)
def results_group() -> None:
    """Result records already written (by fer-bench run)."""


def select(long: pd.DataFrame, encoders=(), protocols=(), datasets=()) -> pd.DataFrame:
    """The rows of ``long`` that match every filter given (any value of each): an encoder
    by name or ``name@revision``; a protocol by name or ``name-vN``; a dataset by the
    record's target, its dataset or cross-dataset source, or the dataset part of a
    variant target (``synth-wild`` matches ``synth-wild@5shot-knn``)."""
    import pandas as pd

    keep = pd.Series(True, index=long.index)
    if encoders:
        keys = long["encoder"] + "@" + long["revision"]
        keep &= long["encoder"].isin(encoders) | keys.isin(encoders)
    if protocols:
        keys = long["protocol"] + "-v" + long["protocol_version"].astype(str)
        keep &= long["protocol"].isin(protocols) | keys.isin(protocols)
    if datasets:
        names = [long["target"], long["dataset"], long["source"],
                 long["dataset"].str.split("@", n=1).str[0],
                 long["source"].str.split("@", n=1).str[0]]
        keep &= pd.concat([n.isin(datasets) for n in names], axis=1).any(axis=1)
    return long[keep]


def reading_order(long: pd.DataFrame) -> pd.DataFrame:
    """``long`` sorted by encoder, revision, then protocols in reading order and targets
    in natural order (as the leaderboard's columns), then metric."""
    from fer_bench.reporting.tables import column_order

    keys = [(e, r, column_order(p, v, t), m) for e, r, p, v, t, m in
            zip(long["encoder"], long["revision"], long["protocol"], long["protocol_version"],
                long["target"], long["metric"])]
    order = sorted(range(len(long)), key=keys.__getitem__)
    return long.iloc[order].reset_index(drop=True)


def _datasets(long: pd.DataFrame) -> list[str]:
    names = set(long["dataset"].str.split("@", n=1).str[0]) | set(long["source"])
    return sorted(n for n in names if n)


def _check_filters(long: pd.DataFrame, option: str, values, known) -> None:
    from fer_bench.cli.errors import suggest

    known = sorted(set(known))
    for value in values:
        if value not in known:
            raise click.BadParameter(f"no record has {value!r}{suggest(value, known)}; the "
                                     f"records hold {', '.join(known)}", param_hint=option)


@results_group.command("show")
@click.option("--results-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEFAULT_RESULTS_DIR, show_default=True, help="Folder of result records.")
@click.option("--encoder", "encoders", multiple=True,
              help="Only this encoder, by name or name@revision (repeatable).")
@click.option("--protocol", "protocols", multiple=True,
              help="Only this protocol, by name or name-vN (repeatable).")
@click.option("--dataset", "datasets", multiple=True,
              help="Only records on this dataset: target, source or dataset of a variant "
                   "such as synth-wild@5shot-knn (repeatable).")
@click.option("--metric", type=click.Choice(["mean_class_accuracy", "accuracy", "macro_f1"]),
              default=None, help="Only this metric (default: the table shows the headline "
                                 "metric, json and csv every metric).")
@format_option
@strict_option
def show_command(results_dir, encoders, protocols, datasets, metric, fmt, strict):
    """Show the records under --results-dir (one line per record in the table; in json
    and csv the rows of leaderboard_long.csv, one per record and metric)."""
    from fer_bench.cli.output import emit
    from fer_bench.cli.run_cmd import _scan
    from fer_bench.reporting.tables import flat_legend, long_table
    from fer_bench.runner import summary_of

    long = long_table(results_dir, _scan(results_dir, strict))
    _check_filters(long, "--encoder", encoders,
                   [*long["encoder"], *(long["encoder"] + "@" + long["revision"])])
    _check_filters(long, "--protocol", protocols,
                   [*long["protocol"],
                    *(long["protocol"] + "-v" + long["protocol_version"].astype(str))])
    rows = select(long, encoders, protocols, datasets)
    if rows.empty:
        raise click.UsageError(f"no record under {results_dir} matches "
                               + " and ".join(f"{name} {', '.join(values)}" for name, values in
                                              (("--encoder", encoders),
                                               ("--protocol", protocols),
                                               ("--dataset", datasets)) if values)
                               + f"; datasets there: {', '.join(_datasets(long))}")
    if metric:
        rows = rows[rows["metric"] == metric]
    rows = reading_order(rows)
    shown = rows[rows["metric"] == metric] if metric else rows[rows["headline"]]
    emit(rows, fmt, summary_of(rows, metric), flat_legend(shown))
