"""``fer-bench report``: a thin wrapper over :func:`fer_bench.report.build_report`."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.option("--results-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default="fer-bench-results", show_default=True, help="Folder of result records.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for index.html, index.md, the plots and the leaderboard files.")
@click.option("--metric", default="mean_class_accuracy", show_default=True,
              type=click.Choice(["mean_class_accuracy", "accuracy", "macro_f1"]),
              help="Metric of the tables and plots.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Feature cache the embedding maps read (else FER_BENCH_CACHE or "
                   "~/.cache/fer-bench).")
def report_command(results_dir, out, metric, cache_dir):
    """One static HTML page (and markdown) with the leaderboard, flags and every plot."""
    from fer_bench.paths import cache_dir as resolve_cache
    from fer_bench.report import build_report

    files = build_report(results_dir, out, metric, resolve_cache(cache_dir) / "features")
    click.echo(f"wrote {files.html} and {files.markdown} with {len(files.plots)} plot(s)")


def register(main: click.Group) -> None:
    main.add_command(report_command)
