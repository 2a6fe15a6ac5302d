"""``fer-bench encoders fetch NAME``: take pretrained weights out of pinned PyPI releases."""
from __future__ import annotations

import click


@click.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Fetch the weights of every such encoder.")
@click.option("--from", "archive", type=click.Path(exists=True, dir_okay=False),
              help="Take the files from this wheel/sdist instead of downloading it.")
@click.option("--pip-arg", "pip_args", multiple=True,
              help="Extra `pip download` option, e.g. --pip-arg=--index-url=URL (repeatable).")
@click.option("--force", is_flag=True, help="Fetch again even if a valid copy is cached.")
def fetch_cmd(names, fetch_all, archive, pip_args, force) -> None:
    """Download the pinned distribution of encoder NAME without its dependencies, check
    the weight file's sha256 and keep just that file in the cache. The package is never
    installed or imported. Without NAME, list the encoders that need fetching.

    Files go to $FER_BENCH_CACHE/weights/NAME (default: the user cache directory), which
    is where the encoders look for them."""
    from fer_bench.fetch import FetchError, cached_path, declared_weights, fetch

    declared = declared_weights()
    if fetch_all:
        names = tuple(declared)
    if not names:
        for name, files in declared.items():
            state = "fetched" if all(cached_path(f).is_file() for f in files) else "-"
            releases = ", ".join(sorted({f.requirement for f in files}))
            click.echo(f"{name:16s} {state:8s} {releases}")
        return
    unknown = [n for n in names if n not in declared]
    if unknown:
        from fer_bench.suggest import did_you_mean
        raise click.UsageError(f"no fetchable weights for {', '.join(unknown)}"
                               f"{did_you_mean(unknown[0], declared)}; encoders with "
                               f"pinned weights: {', '.join(declared)}")
    if archive and len({f.requirement for n in names for f in declared[n]}) > 1:
        raise click.UsageError("--from gives one archive; name encoders of one release only")
    for name in names:
        try:
            paths = fetch(declared[name], archive=archive,
                          pip_args=tuple(pip_args), force=force)
        except FetchError as e:
            raise click.ClickException(f"{name}: {e}") from None
        for path in paths:
            click.echo(f"{name}: {path}")
