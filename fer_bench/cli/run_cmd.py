"""``fer-bench run``, ``fer-bench leaderboard``, ``fer-bench plot`` (thin wrappers over
:func:`fer_bench.runner.run_benchmark`, :mod:`fer_bench.leaderboard`, :mod:`fer_bench.plots`)."""
from __future__ import annotations

from pathlib import Path

import click

DEFAULT_RESULTS_DIR = "fer-bench-results"   # in the working directory; top-level results/
                                            # holds only committed reference leaderboards


def _weights(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{pair!r}: expected ENCODER=PATH", param_hint="--weights")
        out[name] = path
    return out


@click.command("run")
@click.option("--encoder", "encoders", multiple=True, required=True,
              help="Encoder name or pkg.module:factory (repeatable).")
@click.option("--weights", "weights", multiple=True, metavar="ENCODER=PATH",
              help="Weights file for one encoder (repeatable).")
@click.option("--protocol", "protocols", multiple=True, required=True,
              help="Protocol (repeatable): linear, knn, cross-dataset, ...; options as "
                   "NAME:key=value,... e.g. cross-dataset:probe=knn, linear:Cs=0.1/1/10.")
@click.option("--dataset", "datasets", multiple=True,
              help="Dataset spec (repeatable); default: the generated presets.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding real datasets (else FER_BENCH_DATA).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Cache folder (features live in <cache-dir>/features); default "
                   "$FER_BENCH_CACHE, else ~/.cache/fer-bench.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_RESULTS_DIR, show_default=True, help="Where records go.")
@click.option("--overwrite", type=click.Choice(["never", "missing", "always"]),
              default="missing", show_default=True,
              help="missing: compute absent or stale records; never: keep every existing "
                   "file; always: recompute.")
@click.option("--seed", "seeds", multiple=True, type=int,
              help="Seed (repeatable; default 0 1 2) for val carving and bootstrap.")
@click.option("--device", default="auto", show_default=True,
              help="cpu, cuda, cuda:1, ... (auto: cuda when available).")
@click.option("--batch-size", default=64, show_default=True, help="Extraction batch size.")
@click.option("--num-workers", type=int, default=None, help="Image loading workers.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run_command(encoders, weights, protocols, datasets, data_root, cache_dir, results_dir,
                overwrite, seeds, device, batch_size, num_workers, quiet):
    """Run protocols for encoders; write one result record per encoder x protocol x target."""
    from fer_bench.protocols.context import DEFAULT_SEEDS
    from fer_bench.runner import run_benchmark, summary_frame

    entries = run_benchmark(
        list(encoders), list(protocols), list(datasets) or None, results_dir=results_dir,
        overwrite=overwrite, data_root=data_root, cache_dir=cache_dir, device=device,
        seeds=tuple(seeds) or DEFAULT_SEEDS, progress=not quiet, weights=_weights(weights),
        batch_size=batch_size, num_workers=num_workers)
    click.echo(summary_frame(entries).to_string(index=False))
    computed = sum(e.status == "computed" for e in entries)
    skipped = sum(e.status == "not-applicable" for e in entries)
    click.echo(f"{computed} record(s) computed, {len(entries) - computed - skipped} kept, "
               + (f"{skipped} not applicable (see note), " if skipped else "")
               + f"in {results_dir}")


@click.command("leaderboard")
@click.option("--results-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEFAULT_RESULTS_DIR, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for leaderboard_long.csv, leaderboard_wide.csv, leaderboard.md.")
@click.option("--metric", default="mean_class_accuracy", show_default=True,
              type=click.Choice(["mean_class_accuracy", "accuracy", "macro_f1"]),
              help="Metric of the wide table.")
def leaderboard_command(results_dir, out, metric):
    """Fold result records into long/wide CSV and markdown tables."""
    from fer_bench.leaderboard import write_leaderboard

    paths = write_leaderboard(results_dir, out, metric)
    click.echo(paths["markdown"].read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


@click.command("plot")
@click.option("--results-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEFAULT_RESULTS_DIR, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--metric", default="mean_class_accuracy", show_default=True,
              type=click.Choice(["mean_class_accuracy", "accuracy", "macro_f1"]))
def plot_command(results_dir, out, metric):
    """Bar charts with interval whiskers, cross-dataset heatmaps, per-class recall,
    confusion matrices, few-shot curves and embedding maps (PNG)."""
    from fer_bench.plots import write_plots
    from fer_bench.plots_extra import write_extra_plots

    written = write_plots(results_dir, out, metric) + write_extra_plots(results_dir, out, metric)
    for path in written:
        click.echo(f"wrote {path}")


def register(main: click.Group) -> None:
    for command in (run_command, leaderboard_command, plot_command):
        main.add_command(command)
