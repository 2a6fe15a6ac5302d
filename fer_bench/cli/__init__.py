"""The ``fer-bench`` command: a thin layer over library functions.

Each sub-module owns a group of commands. :data:`COMMANDS` names every top-level
command with its module and one-line help, and the commands load lazily
(:mod:`fer_bench.cli.lazy`): ``fer-bench --help`` imports no command module, and a
command imports only its own module, so start-up pays for torch only in the commands
that use it. User errors of every command are reported as one ``Error:`` line by
:mod:`fer_bench.cli.errors`.
"""
from __future__ import annotations

import click

from fer_bench import __version__
from fer_bench.cli.lazy import LazyCommand, LazyGroup

# name -> where the command is, and its one-line help as ``fer-bench --help`` shows it
# (tests/cli/test_startup.py checks each against the command's own help).
COMMANDS = {
    "cache": LazyCommand("fer_bench.cli.features_cmd", "cache_group",
                         "The feature store: list, verify and clear cached features."),
    "check-encoder": LazyCommand(
        "fer_bench.cli.encoders_check", "check_encoder_command",
        "Run encoder NAME (built-in, installed, or pkg.module:factory) on generated faces "
        "and check shape, dtype, finite values, determinism, batch-size invariance (batch 1 "
        "vs N), eval mode and sealed preprocessing; print metadata and throughput."),
    "datasets": LazyCommand("fer_bench.cli.datasets_cmd", "datasets_group",
                            "Generated presets and adapters for datasets you hold."),
    "encoders": LazyCommand("fer_bench.cli.encoders_cmd", "encoders_group",
                            "Built-in, installed and fetched encoders."),
    "export-encoder": LazyCommand(
        "fer_bench.cli.pretrain_cmd", "export_command",
        "Export the encoder of a pre-training CHECKPOINT (a run folder or its checkpoint.pt)."),
    "extract": LazyCommand(
        "fer_bench.cli.features_cmd", "extract_command",
        "Extract features of an encoder on a dataset into the store (or find them there)."),
    "leaderboard": LazyCommand(
        "fer_bench.cli.run_cmd", "leaderboard_command",
        "Fold result records into long/wide CSV and markdown tables (leaderboard_long.csv, "
        "leaderboard_wide.csv, leaderboard.md in --out)."),
    "plot": LazyCommand(
        "fer_bench.cli.run_cmd", "plot_command",
        "Bar charts with interval whiskers, one cross-dataset figure per pair protocol, "
        "per-class recall, confusion matrices, few-shot curves and embedding maps (of the "
        "features cached under --cache-dir); one colour per encoder in every figure."),
    "pretrain": LazyCommand(
        "fer_bench.cli.pretrain_cmd", "pretrain_command",
        "Pre-train a ResNet-18 with CRS-CONT (or SimCLR / SupCon / supervised) on any mix of "
        "datasets."),
    "report": LazyCommand(
        "fer_bench.cli.report_cmd", "report_command",
        "One static HTML page (and markdown) with the leaderboard, flags and every plot "
        "(index.html, index.md, the PNGs and the leaderboard files in --out); the embedding "
        "maps show the features cached under --cache-dir."),
    "results": LazyCommand("fer_bench.cli.results_cmd", "results_group",
                           "Result records already written (by fer-bench run)."),
    "run": LazyCommand(
        "fer_bench.cli.run_cmd", "run_command",
        "Run protocols for encoders; write one record per encoder x protocol x target."),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fer-bench")
def main() -> None:
    """Benchmark frozen facial-expression encoders: extract once, probe many ways."""
