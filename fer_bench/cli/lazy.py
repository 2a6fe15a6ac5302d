"""The top-level group loads a command's module only when that command runs.

``fer-bench --help`` lists every command with its one-line help from a table
(:data:`fer_bench.cli.COMMANDS`) and imports none of the command modules; ``fer-bench
datasets list`` imports ``fer_bench.cli.datasets_cmd`` and nothing of ``run``,
``pretrain`` and the others. Start-up therefore costs click and the command that runs,
never torch unless that command needs it (``tests/cli/test_startup.py`` holds
``--help`` and ``datasets list`` to that, and checks that the table matches the
commands).
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from gettext import gettext as _

import click

from fer_bench.cli.errors import FerBenchGroup


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives and its one-line help (``--help`` shows it unloaded)."""
    module: str         # e.g. "fer_bench.cli.run_cmd"
    attribute: str      # the click command (or group) in that module
    short_help: str     # what the command's get_short_help_str() returns, uncut

    def load(self) -> click.Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.module}.{self.attribute} is not a click command")
        return command


class LazyGroup(FerBenchGroup):
    """A :class:`FerBenchGroup` (one-line user errors) whose commands are imported on
    first use: ``lazy_commands`` maps each name to a :class:`LazyCommand`."""

    def __init__(self, *args, lazy_commands: Mapping[str, LazyCommand] | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self.lazy_commands[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As :meth:`click.Group.format_commands`, but an unloaded command's help comes
        from the table, shortened to the width exactly as click shortens a command's."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command))
            else:
                rows.append((name, click.Command(name, help=self.lazy_commands[name].short_help)))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section(_("Commands")):     # as click words it
            formatter.write_dl([(name, command.get_short_help_str(limit))
                                for name, command in rows])
