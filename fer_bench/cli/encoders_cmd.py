"""``fer-bench encoders ...`` and ``fer-bench check-encoder``."""
from __future__ import annotations

import click

from fer_bench.cli.encoders_fetch import fetch_cmd
from fer_bench.cli.errors import SuggestingGroup


@click.group("encoders", cls=SuggestingGroup)
def encoders_group() -> None:
    """Built-in, installed and fetched encoders."""


@encoders_group.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="A JSON list with every field (description, pre-training classes, ...).")
@click.option("--names", is_flag=True, help="Only the names, one a line.")
def list_encoders(as_json: bool, names: bool) -> None:
    """Every encoder --encoder accepts by name (besides pkg.module:factory): revision,
    embedding size, input size, pre-training data, whether its weights are here, licence.
    Read from each encoder's metadata; no weights are loaded."""
    import json

    from fer_bench.cli.output import text_table
    from fer_bench.encoder_catalogue import describe_encoders, table_rows
    from fer_bench.encoder_registry import encoder_names

    if names:
        for name in encoder_names():
            click.echo(name)
        return
    summaries = describe_encoders()
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in summaries], indent=1, ensure_ascii=False))
        return
    click.echo(text_table(table_rows(summaries)))


encoders_group.add_command(fetch_cmd)
