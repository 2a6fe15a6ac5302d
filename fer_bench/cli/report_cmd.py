"""``fer-bench report``: a thin wrapper over :func:`fer_bench.reporting.report.build_report`."""
from __future__ import annotations

import click

from fer_bench.cli.features_cmd import cache_dir_option
from fer_bench.cli.run_cmd import _scan, metric_option, out_option, results_option, strict_option


@click.command("report")
@results_option
@out_option
@metric_option
@cache_dir_option
@strict_option
def report_command(results_dir, out, metric, cache_dir, strict):
    """One static HTML page (and markdown) with the leaderboard, flags and every plot
    (index.html, index.md, the PNGs and the leaderboard files in --out); the embedding
    maps show the features cached under --cache-dir."""
    from fer_bench.features.store import FeatureStore
    from fer_bench.reporting.report import build_report
    from fer_bench.reporting.results import read_results

    results = read_results(results_dir, _scan(results_dir, strict))
    files = build_report(results, out, metric, FeatureStore.in_cache(cache_dir))
    click.echo(f"wrote {files.html} and {files.markdown} with {len(files.plots)} plot(s)")
