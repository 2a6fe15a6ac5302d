"""``fer-bench datasets ...``: list, preview (generated faces), prepare, info (real data),
audit (duplicates within and across splits and datasets)."""
from __future__ import annotations

import click

from fer_bench.cli.datasets_audit import audit_command
from fer_bench.cli.datasets_prepare import info_command, prepare_command
from fer_bench.cli.datasets_preview import preview
from fer_bench.cli.errors import SuggestingGroup


@click.group("datasets", cls=SuggestingGroup)
def datasets_group() -> None:
    """Generated presets and adapters for datasets you hold."""


@datasets_group.command("list")
def list_datasets() -> None:
    """Every dataset name the CLI accepts, with what it is."""
    from fer_bench.datasets.registry import dataset_entry, dataset_names

    for name in dataset_names():
        entry = dataset_entry(name)
        if entry.generated:
            where = "generated"
        elif entry.default_folder is None:
            where = f"{name}:/path/to/folder"
        else:
            where = f"<data-root>/{entry.default_folder}"
        click.echo(f"{name:18s} {where:28s} {entry.description}")


for _command in (preview, prepare_command, info_command, audit_command):
    datasets_group.add_command(_command)
