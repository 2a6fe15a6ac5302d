"""``fer-bench encoders ...`` and ``fer-bench check-encoder``."""
from __future__ import annotations

import click

from fer_bench.cli.errors import SuggestingGroup


@click.group("encoders", cls=SuggestingGroup)
def encoders_group() -> None:
    """Built-in, installed and fetched encoders."""


@encoders_group.command("list")
def list_encoders() -> None:
    """Every encoder name --encoder accepts (besides pkg.module:factory)."""
    from fer_bench.encoder_registry import encoder_names

    for name in encoder_names():
        click.echo(name)


def register(main: click.Group) -> None:
    from fer_bench.cli import encoders_check, encoders_fetch

    encoders_fetch.register(encoders_group)
    encoders_check.register(main)
    main.add_command(encoders_group)
