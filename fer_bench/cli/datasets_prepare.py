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
              type=click.Path(file_okay=False), help="Data root (or the dataset's own folder); "
              "default FER_BENCH_DATA.")
@click.option("--check-images", is_flag=True, help="Decode every image now (finds corrupt or "
              "truncated files before extraction).")
@click.option("--check-faces", is_flag=True, help="Run the face detector on every image and "
              "report the detection rate (datasets with a detector crop).")
@click.option("--on-error", type=click.Choice(["raise", "skip"]), default="raise",
              show_default=True, help="Bad rows: stop with an error, or skip and count them.")
@click.option("--option", "-o", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Adapter option, e.g. -o mode=probability (see `datasets info NAME`).")
def prepare_command(name, root, check_images, check_faces, on_error, pairs) -> None:
    """Validate a dataset's layout and print images per class and split."""
    from fer_bench.datasets.base import DatasetError
    from fer_bench.datasets.report import prepare

    try:
        report = prepare(name, root, check_images=check_images, check_faces=check_faces,
                         progress=True, on_error=on_error, **_options(pairs))
    except DatasetError as e:
        raise click.ClickException(str(e)) from None
    click.echo(report.render())
    if not report.ok:
        raise SystemExit(1)


@click.command("info")
@click.argument("name")
def info_command(name) -> None:
    """What NAME expects on disk, its label codes, splits and terms of use."""
    from fer_bench.datasets.base import DatasetError
    from fer_bench.datasets.cards import render_card

    try:
        click.echo(render_card(name))
    except DatasetError as e:
        raise click.ClickException(str(e)) from None


def register(group: click.Group) -> None:
    group.add_command(prepare_command)
    group.add_command(info_command)
