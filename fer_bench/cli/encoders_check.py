"""``fer-bench check-encoder NAME``: sanity-check an encoder on generated faces."""
from __future__ import annotations

import click


@click.command("check-encoder")
@click.argument("name")
@click.option("--weights", type=click.Path(), default=None,
              help="Weights file for encoders that take them (e.g. crs-cont).")
@click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if present).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Factory option, e.g. -o revision=cpu-ferplus-48 -o input_size=96.")
@click.option("-n", "n", default=32, show_default=True, type=click.IntRange(1, 4096),
              help="Number of generated faces (held in memory; at most 4096).")
@click.option("--seed", default=0, show_default=True, help="Seed of the generated faces.")
def check_encoder_command(name: str, weights: str | None, device: str | None,
                          options: tuple[str, ...], n: int, seed: int) -> None:
    """Run encoder NAME (built-in, installed, or pkg.module:factory) on generated faces and
    check shape, dtype, finite values, determinism, batch-size invariance (batch 1 vs N),
    eval mode and sealed preprocessing; print metadata and throughput. Exit 1 on failure."""
    from fer_bench.check_encoder import check_encoder
    from fer_bench.cli.errors import check_device, check_encoder_spec, check_weights_path
    from fer_bench.encoder_registry import get_encoder, parse_encoder_options
    from fer_bench.plugins import SpecError
    from fer_bench.runtime import resolve_device

    check_encoder_spec(name, "NAME")
    if weights is not None:
        weights = str(check_weights_path(weights))
    device = resolve_device(check_device(device) if device else None)
    try:
        factory_options = parse_encoder_options(name, options)
    except SpecError as e:
        raise click.BadParameter(str(e), param_hint="-o") from None
    try:
        encoder = get_encoder(name, weights=weights, device=device, **factory_options)
    except (LookupError, ValueError, OSError) as e:   # e.g. weights that are not weights
        raise click.ClickException(str(e)) from None
    report = check_encoder(encoder, n=n, seed=seed)
    click.echo(report.format())
    if not report.passed:
        raise SystemExit(1)
