"""Start-up stays light: ``fer-bench --help`` and ``fer-bench datasets list`` never
import torch, and the command table that ``--help`` reads cannot go stale.

The top-level commands load lazily (:mod:`fer_bench.cli.lazy`): ``--help`` takes each
command's one-line help from :data:`fer_bench.cli.COMMANDS`, so every entry there must
equal the command's own help, and the page must read the same whether the commands are
loaded or not."""
from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from fer_bench.cli import COMMANDS, main
from fer_bench.cli.errors import FerBenchGroup
from fer_bench.cli.lazy import LazyGroup

# Runs the CLI in a fresh interpreter and reports what it imported.
PROBE = """
import json, sys
from fer_bench.cli import main
try:
    main(sys.argv[1:], prog_name="fer-bench", standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules
                        if m.split(".")[0] in ("torch", "torchvision", "fer_bench"))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["datasets", "list"]],
                         ids=["help", "datasets-list"])
def test_command_imports_no_torch(argv):
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                          text=True, timeout=120, check=True)
    *printed, last = done.stdout.strip().splitlines()
    modules = json.loads(last)
    assert printed, "the command printed nothing"
    assert not [m for m in modules if m.split(".")[0] in ("torch", "torchvision")], modules
    command_modules = {c.module for c in COMMANDS.values()} & set(modules)
    if argv == ["--help"]:
        assert not command_modules            # --help reads the table, loads no command
    else:
        assert command_modules == {"fer_bench.cli.datasets_cmd"}


def test_every_listed_command_resolves_with_the_tables_help():
    ctx = click.Context(main, info_name="fer-bench")
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert not command.hidden
        # The table holds the uncut one-line help; --help cuts it to the width.
        assert lazy.short_help == command.get_short_help_str(limit=10**6), name


def eager_group() -> click.Group:
    """The top-level group as it was before lazy loading: every command added."""
    group = FerBenchGroup("fer-bench", help=main.help, params=main.params,
                          context_settings=main.context_settings)
    for name, lazy in COMMANDS.items():
        group.add_command(lazy.load(), name)
    return group


def fresh_lazy_group() -> LazyGroup:
    """A top-level group with nothing loaded yet (``main`` may hold loaded commands)."""
    return LazyGroup("fer-bench", lazy_commands=COMMANDS, help=main.help, params=main.params,
                     context_settings=main.context_settings)


@pytest.mark.parametrize("width", [40, 80, 120, 200])
def test_help_page_is_the_same_unloaded_and_loaded(width):
    pages = []
    for group in (fresh_lazy_group(), eager_group()):
        pages.append(group.get_help(click.Context(group, info_name="fer-bench",
                                                  terminal_width=width)))
    unloaded, loaded = pages
    assert unloaded == loaded
    assert all(name in unloaded for name in COMMANDS)


@pytest.mark.parametrize("argv", [["dataset"], ["rnu"], ["nothing-like-it"]])
def test_unknown_command_is_reported_as_for_loaded_commands(argv):
    runner = CliRunner()
    lazy = runner.invoke(fresh_lazy_group(), argv)
    eager = runner.invoke(eager_group(), argv)
    assert lazy.exit_code == eager.exit_code == 2
    assert lazy.output == eager.output
    assert "No such command" in lazy.output


@pytest.mark.parametrize("argv", [[], ["datasets"]], ids=["bare", "bare-group"])
def test_a_bare_group_prints_its_help(argv):
    result = CliRunner().invoke(main, argv, prog_name="fer-bench")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Usage: fer-bench" in result.output and "Commands:" in result.output
