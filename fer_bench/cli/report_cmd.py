"""``fer-bench report``: a thin wrapper over :func:`fer_bench.report.build_report`."""
from __future__ import annotations

from pathlib import Path

import click

from fer_bench.cli.run_cmd import _scan, metric_option, out_option, results_option, strict_option


@click.command("report")
@results_option
@out_option
@metric_option
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Feature cache the embedding maps read (else FER_BENCH_CACHE or "
                   "~/.cache/fer-bench).")
@strict_option
def report_command(results_dir, out, metric, cache_dir, strict):
    """One static HTML page (and markdown) with the leaderboard, flags and every plot
    (index.html, index.md, the PNGs and the leaderboard files in --out)."""
    from fer_bench.paths import cache_dir as resolve_cache
    from fer_bench.report import build_report

    records = _scan(results_dir, strict)
    files = build_report(results_dir, out, metric, resolve_cache(cache_dir) / "features",
                         records)
    click.echo(f"wrote {files.html} and {files.markdown} with {len(files.plots)} plot(s)")


def register(main: click.Group) -> None:
    main.add_command(report_command)
