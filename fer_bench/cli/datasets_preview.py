"""``fer-bench datasets preview NAME --out grid.png``: a labelled sample grid."""
from __future__ import annotations

import click


@click.command("preview")
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PNG file to write.")
@click.option("--n", "n", type=click.IntRange(1, 512), default=32, show_default=True,
              help="Number of faces (classes taken in turn).")
@click.option("--seed", type=int, default=0, show_default=True, help="Which faces are picked.")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder holding real datasets (generated ones need none).")
def preview(name: str, out: str, n: int, seed: int, data_root: str | None) -> None:
    """Write a grid of NAME's faces with the expression under each (e.g. synth-wild,
    synth-lab:n=560, rafdb). A generated preset not rendered yet is not rendered for
    this: only the faces on the sheet are."""
    from fer_bench.datasets.preview import preview_grid, preview_preset
    from fer_bench.datasets.registry import load_dataset, split_spec

    entry, parsed = split_spec(name)              # errors: one line (fer_bench.cli.errors)
    if entry.generated:
        path = preview_preset(entry.name, out, n=n, seed=seed, progress=True,
                              options=parsed.options)
    else:
        click.echo(f"reading {name} ...", err=True)
        dataset = load_dataset(name, root=data_root)
        path = preview_grid(dataset, out, n=n, seed=seed, progress=True)
    click.echo(f"wrote {path}")
