"""``fer-bench datasets prepare NAME`` and ``fer-bench datasets info NAME``."""
from __future__ import annotations

import click


def _options(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r}: expected key=value", param_hint="--option")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


@click.command("prepare")
@click.argument("name")
@click.option("--root", "--data-root", "root", envvar="FER_BENCH_DATA",
              type=click.Path(exists=True, file_okay=False),
              help="Data root (or the dataset's own folder); "
              "default FER_BENCH_DATA.")
@click.option("--check-images", is_flag=True, help="Decode every image now (finds corrupt or "
              "truncated files before extraction).")
@click.option("--detect", "--check-faces", "detect", is_flag=True,
              help="Run the face detector on every image now (datasets with a detector "
              "crop) and report the found-face rate; detections are cached and shared by "
              "every later extraction.")
@click.option("--on-error", type=click.Choice(["raise", "skip"]), default=None,
              help="Bad rows: stop with an error (the adapters' default), or skip and count "
                   "them; the same as -o on_error=... (real datasets only).")
@click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Adapter option, e.g. -o mode=probability (see `datasets info NAME`).")
def prepare_command(name, root, check_images, detect, on_error, pairs) -> None:
    """Validate a dataset's layout and print images per class and split."""
    from fer_bench.datasets.report import prepare

    options = _options(pairs)
    if on_error is not None:
        if options.setdefault("on_error", on_error) != on_error:
            raise click.BadParameter(f"--on-error {on_error} contradicts -o on_error="
                                     f"{options['on_error']}", param_hint="--on-error")
    # Errors: an unknown name or option is a usage error (exit code 2), bad data exit
    # code 1, both one line (fer_bench.cli.errors).
    report = prepare(name, root, check_images=check_images, detect=detect, progress=True,
                     **options)
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)


@click.command("info")
@click.argument("name")
def info_command(name) -> None:
    """What NAME expects on disk, its label codes, splits and terms of use."""
    from fer_bench.datasets.cards import render_card
    from fer_bench.datasets.registry import dataset_entry

    click.echo(render_card(dataset_entry(name)))
