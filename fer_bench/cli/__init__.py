"""The ``fer-bench`` command: a thin layer over library functions.

Each sub-module owns a group of commands and exposes ``register(main)``. User errors
of every command are reported as one ``Error:`` line by :mod:`fer_bench.cli.errors`.
"""
from __future__ import annotations

import click

from fer_bench import __version__
from fer_bench.cli.errors import FerBenchGroup


@click.group(cls=FerBenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fer-bench")
def main() -> None:
    """Benchmark frozen facial-expression encoders: extract once, probe many ways."""


def _register_all() -> None:
    from fer_bench.cli import (datasets_cmd, encoders_cmd, features_cmd, pretrain_cmd, report_cmd,
                               results_cmd, run_cmd)
    for module in (datasets_cmd, encoders_cmd, features_cmd, run_cmd, results_cmd, pretrain_cmd,
                   report_cmd):
        module.register(main)


_register_all()
