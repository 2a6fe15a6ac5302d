"""``fer-bench run``, ``fer-bench leaderboard``, ``fer-bench plot`` (thin wrappers over
:func:`fer_bench.runner.run_benchmark`, :mod:`fer_bench.reporting.tables` and
:func:`fer_bench.reporting.figures.write_figures`)."""
from __future__ import annotations

from pathlib import Path

import click

from fer_bench.cli.features_cmd import cache_dir_option
from fer_bench.cli.output import format_option
from fer_bench.metrics import METRICS
from fer_bench.paths import DEFAULT_RESULTS_DIR
from fer_bench.reporting.style import FORMATS as FIGURE_FORMATS

                                            # holds only committed reference leaderboards


def _weights(pairs: tuple[str, ...], encoders: tuple[str, ...]) -> dict[str, str]:
    """{encoder spec: path} of ``--weights ENCODER=PATH``: ENCODER is one of the run's
    specs, or the name of exactly one of them (``crs-cont`` for ``crs-cont@rev``); the
    path must exist."""
    from fer_bench.cli.errors import check_weights_path, suggest
    from fer_bench.plugins import spec_name

    by_name: dict[str, list[str]] = {}
    for spec in encoders:
        by_name.setdefault(spec_name(spec), []).append(spec)
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{pair!r}: expected ENCODER=PATH", param_hint="--weights")
        if name not in encoders and len(by_name.get(name, ())) == 1:
            name = by_name[name][0]
        if name not in encoders:
            raise click.BadParameter(f"{name!r} is not an encoder of this run"
                                     f"{suggest(name, encoders)}; --encoder gives "
                                     f"{', '.join(encoders)}", param_hint="--weights")
        if name in out:
            raise click.BadParameter(f"{name}: given twice", param_hint="--weights")
        out[name] = str(check_weights_path(path))
    return out


def _preflight(encoders, weights, protocols, datasets, results_dir, cache_dir, device):
    """Everything about the command line that can be checked before any work: names,
    options, paths. Nothing is created. Raises click usage errors (exit code 2)."""
    from fer_bench.cli.errors import (check_dataset_spec, check_device, check_encoder_spec,
                                      check_writable_dir, resolved_cache_dir)
    from fer_bench.protocols.base import ProtocolSpecError, protocol_from_spec
    from fer_bench.protocols.context import ProtocolError
    from fer_bench.runner import RunError, plan, record_names

    paths = _weights(weights, encoders)
    for spec in encoders:
        check_encoder_spec(spec)
    parsed = []
    for spec in protocols:
        try:
            parsed.append(protocol_from_spec(spec))
        except ProtocolSpecError as e:
            raise click.BadParameter(str(e), param_hint="--protocol") from None
    for spec in datasets:
        check_dataset_spec(spec)
    try:   # protocols that cannot run on these datasets, names that collide
        plan(parsed, list(record_names(datasets)) or None)
    except (ProtocolError, RunError) as e:
        raise click.UsageError(str(e)) from None
    check_writable_dir(results_dir, "--results-dir")
    resolved_cache_dir(cache_dir)
    check_device(device)
    return paths


def _scan(results_dir, strict: bool):
    """The readable records under ``results_dir``; each unreadable file gets a warning
    line naming it (``strict``: an error). No readable record at all is an error."""
    from fer_bench.records import scan_records

    scan = scan_records(results_dir)
    for path, reason in scan.skipped:
        click.echo(f"Warning: skipped {path}: {reason.removeprefix(str(path) + ': ')}",
                   err=True)
    if scan.skipped and strict:
        raise click.ClickException(f"{len(scan.skipped)} of {scan.n_files} record files under "
                                   f"{results_dir} are unreadable (listed above; --strict)")
    if scan.skipped:
        click.echo(f"Warning: skipped {len(scan.skipped)} of {scan.n_files} record files "
                   f"under {results_dir}; the tables leave them out", err=True)
    if not scan.records:
        what = "no readable result records" if scan.skipped else "no result records"
        raise click.ClickException(f"{what} under {results_dir} (run `fer-bench run` first)")
    return scan.records


def _out_dir(ctx, param, value):
    from fer_bench.cli.errors import check_writable_dir
    return check_writable_dir(value, "--" + param.name) if value is not None else value


results_option = click.option(
    "--results-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_RESULTS_DIR, show_default=True, help="Folder of result records.")
strict_option = click.option(
    "--strict", is_flag=True,
    help="Fail on an unreadable record file (default: skip it with a warning naming it).")
out_option = click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
    callback=_out_dir, help="Output folder.")
metric_option = click.option(
    "--metric", default="mean_class_accuracy", show_default=True,
    type=click.Choice(METRICS),
    help="Metric of the tables and plots.")


@click.command("run")
@click.option("--encoder", "encoders", multiple=True, required=True,
              help="Encoder (repeatable): NAME[@REVISION][:key=value,...], e.g. "
                   "crs-cont@cpu-ferplus-48 or pixels:size=32, or pkg.module:factory.")
@click.option("--weights", "weights", multiple=True, metavar="ENCODER=PATH",
              help="Weights file for one encoder of the run (repeatable).")
@click.option("--protocol", "protocols", multiple=True, required=True,
              help="Protocol (repeatable): linear, knn, cross-dataset, ...; options as "
                   "NAME:key=value,... e.g. cross-dataset:probe=knn, linear:Cs=0.1/1/10.")
@click.option("--dataset", "datasets", multiple=True,
              help="Dataset spec (repeatable); default: the generated presets.")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding real datasets (else FER_BENCH_DATA).")
@cache_dir_option
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_RESULTS_DIR, show_default=True, help="Where records go.")
@click.option("--overwrite", type=click.Choice(["never", "missing", "always"]),
              default="missing", show_default=True,
              help="missing: compute absent or stale records; never: keep every existing "
                   "file; always: recompute (also records of a newer fer-bench, which "
                   "missing refuses to replace).")
@click.option("--seed", "seeds", multiple=True, type=click.IntRange(min=0),
              help="Seed >= 0 (repeatable; default 0 1 2) for val carving and bootstrap.")
@click.option("--device", default="auto", show_default=True,
              help="cpu, cuda, cuda:1, ... (auto: cuda when available).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1),
              help="Extraction batch size.")
@click.option("--num-workers", type=click.IntRange(min=0), default=None,
              help="Image loading workers.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@format_option
def run_command(encoders, weights, protocols, datasets, data_root, cache_dir, results_dir,
                overwrite, seeds, device, batch_size, num_workers, quiet, fmt):
    """Run protocols for encoders; write one record per encoder x protocol x target.

    The command line is checked before any work (exit code 2); every dataset is read,
    every encoder built and every existing record judged before anything is computed,
    so bad data, bad weights or records of a newer fer-bench stop the run (exit code 1)
    before it computes anything. The summary goes to stdout (--format), progress and
    notes to stderr."""
    from fer_bench.cli.output import emit, note
    from fer_bench.protocols.context import DEFAULT_SEEDS
    from fer_bench.reporting.tables import flat_legend
    from fer_bench.runner import entries_frame, run_benchmark, summary_of

    paths = _preflight(encoders, weights, protocols, datasets, results_dir, cache_dir, device)
    entries = run_benchmark(
        list(encoders), list(protocols), list(datasets) or None, results_dir=results_dir,
        overwrite=overwrite, data_root=data_root, cache_dir=cache_dir, device=device,
        seeds=tuple(seeds) or DEFAULT_SEEDS, progress=not quiet, weights=paths,
        batch_size=batch_size, num_workers=num_workers)
    frame = entries_frame(entries, results_dir)
    emit(frame, fmt, summary_of(frame), flat_legend(frame[frame["headline"]]))
    computed = sum(e.status == "computed" for e in entries)
    skipped = sum(e.status == "not-applicable" for e in entries)
    note(f"{computed} record(s) computed, {len(entries) - computed - skipped} kept, "
         + (f"{skipped} not applicable (see note), " if skipped else "")
         + f"in {results_dir}")


@click.command("leaderboard")
@results_option
@out_option
@metric_option
@strict_option
def leaderboard_command(results_dir, out, metric, strict):
    """Fold result records into long/wide CSV and markdown tables (leaderboard_long.csv,
    leaderboard_wide.csv, leaderboard.md in --out)."""
    from fer_bench.reporting.tables import long_table, write_leaderboard

    paths = write_leaderboard(long_table(results_dir, _scan(results_dir, strict)), out, metric)
    click.echo(paths["markdown"].read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


@click.command("plot")
@results_option
@out_option
@metric_option
@click.option("--format", "fmt", type=click.Choice(FIGURE_FORMATS), default="png",
              show_default=True,
              help="File format: png (as in the report), svg or pdf (vector, for a paper).")
@cache_dir_option
@strict_option
def plot_command(results_dir, out, metric, fmt, cache_dir, strict):
    """Bar charts with interval whiskers, one cross-dataset figure per pair protocol,
    per-class recall, confusion matrices, few-shot curves and embedding maps (of the
    features cached under --cache-dir); one colour per encoder in every figure."""
    from fer_bench.features.store import FeatureStore
    from fer_bench.reporting.figures import write_figures
    from fer_bench.reporting.results import read_results

    results = read_results(results_dir, _scan(results_dir, strict))
    written = write_figures(results, out, metric, fmt=fmt,
                            store=FeatureStore.in_cache(cache_dir))
    for path in written:
        click.echo(f"wrote {path}")
