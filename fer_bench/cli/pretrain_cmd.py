"""``fer-bench pretrain`` (train CRS-CONT or a baseline) and ``fer-bench export-encoder``
(export a saved checkpoint). Thin wrappers over :mod:`fer_bench.pretrain`."""
from __future__ import annotations

from pathlib import Path

import click

from fer_bench.datasets.base import DatasetSpecError
from fer_bench.pretrain.losses import METHODS
from fer_bench.runtime import is_main_process

_DEFAULT_SHARD_MB = 16.0
# Bad input (unknown dataset or split, existing run, changed settings on resume, bad
# checkpoint, a diverged loss): a one-line message, not a traceback. DatasetError,
# RunExists and CheckpointError derive from these.
_USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, FloatingPointError)
# ... except these, which are mistakes on the command line (exit code 2).
_USAGE_ERRORS = (DatasetSpecError,)
_POSITIVE = click.FloatRange(min=0, min_open=True)


@click.command("pretrain")
@click.option("--method", type=click.Choice(METHODS), default="crs-cont", show_default=True)
@click.option("--data", "data", multiple=True, required=True, metavar="SPEC",
              help="NAME[:key=value,...][:SPLIT[+SPLIT]] or PACK.npz.xz[:SPLIT]; repeat to "
                   "mix datasets (default split: train).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Run folder: config.json, train_log.jsonl, checkpoint.pt.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None,
              help="Folder holding real datasets (default: $FER_BENCH_DATA).")
@click.option("--epochs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--total-steps", type=click.IntRange(min=1), default=None,
              help="Fit the schedule shape into exactly this many steps (a fixed budget "
                   "shared by several runs); not with --time-budget-min.")
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True,
              help="Images per step (two views each), over all processes.")
@click.option("--lr", type=_POSITIVE, default=0.5, show_default=True)
@click.option("--momentum", type=click.FloatRange(0, 1, max_open=True), default=0.9,
              show_default=True)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=1e-4, show_default=True)
@click.option("--lr-step", type=click.IntRange(min=1), default=20, show_default=True,
              help="Multiply the learning rate by --lr-gamma every this many epochs.")
@click.option("--lr-gamma", type=click.FloatRange(0, 1, min_open=True), default=0.5,
              show_default=True)
@click.option("--warmup-epochs", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--input-size", type=click.IntRange(min=16), default=112, show_default=True,
              help="Network input in pixels (224 reproduces the paper).")
@click.option("--stored-size", type=click.IntRange(min=16), default=None,
              help="Size images are kept at in memory (default: the input size).")
@click.option("--clean-baselines", is_flag=True,
              help="SimCLR / SupCon without the coarse CE and instance terms (and SupCon "
                   "without the anchor weights) that the official script adds.")
@click.option("--weight-vector", type=click.Choice(["official", "off"]), default="official",
              show_default=True,
              help="official: CRS-CONT halves coarse-negative anchors (the official SupCon "
                   "halves fine label id 1); off: every anchor weighs 1.0 (the ablation).")
@click.option("--hold-out", multiple=True, metavar="EXPRESSION",
              help="Leave this expression's images out of training (repeatable), so that "
                   "the unseen-expression protocol can score it as never seen.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 ...")
@click.option("--amp", type=click.Choice(["auto", "bf16", "off"]), default="auto",
              show_default=True, help="auto: bf16 autocast on CUDA and on CPUs with native "
                                      "bf16 (avx512_bf16 / AMX); the loss stays fp32.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the network.")
@click.option("--time-budget-min", type=_POSITIVE, default=None,
              help="Fit the run into this many minutes: measure the step rate, then fix the "
                   "total steps (same schedule shape) so that all of it ends in time.")
@click.option("--plan-after-s", type=_POSITIVE, default=90.0, show_default=True,
              help="With --time-budget-min: seconds of steps timed before the plan is made.")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Stop after this many steps.")
@click.option("--log-every", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--checkpoint-every-min", type=_POSITIVE, default=5.0, show_default=True)
@click.option("--health-data", default="auto", show_default=True, metavar="SPEC|auto|none",
              help="Held-aside faces for the health signals (effective rank, top-direction "
                   "share, kNN); auto: FERPlus val when FERPlus train is trained on, else "
                   "generated synth-lab faces.")
@click.option("--health-n", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--health-every", type=click.IntRange(min=1), default=None,
              help="Steps between health checks (default: every epoch).")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Image decoding threads.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: when stderr is a terminal).")
@click.option("--resume", is_flag=True, help="Continue the run in --out.")
@click.option("--overwrite", is_flag=True, help="Replace the run in --out.")
@click.option("--export", "export_to", type=click.Path(path_type=Path), default=None,
              help="After training, export the encoder here (e.g. "
                   "encoders/weights/crs-cont-<revision>).")
@click.option("--revision", default=None, help="Revision recorded in the export "
              "(default: <method>-<input size>px-e<epochs>).")
@click.option("--shard-mb", type=_POSITIVE, default=None,
              help=f"Split the export into files of at most this many MiB "
                   f"(shipped weights use {_DEFAULT_SHARD_MB:g}).")
def pretrain_command(export_to, revision, shard_mb, compile_, **options) -> None:
    """Pre-train a ResNet-18 with CRS-CONT (or SimCLR / SupCon / supervised) on any mix of
    datasets. Runs under torchrun for several devices (one process per device)."""
    from fer_bench.pretrain.export import export_result
    from fer_bench.pretrain.trainer import TrainConfig, train

    _check_command_line(options)
    options["data_root"] = str(options["data_root"]) if options["data_root"] else None
    try:
        cfg = TrainConfig(**{**options, "out": str(options["out"]), "compile": compile_})
        result = train(cfg)
    except _USAGE_ERRORS as e:
        raise click.UsageError(str(e)) from None
    except _USER_ERRORS as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{result.stop_reason}: {result.steps} steps ({result.epochs_run:.2f} epochs) in "
               f"{result.elapsed_s:.0f}s, {result.images_per_s:.0f} images/s; run in "
               f"{result.out}")
    if result.health:
        first, last = result.health[0], result.health[-1]
        click.echo(f"health (step 0 -> {last['global_step']}): effective rank "
                   f"{first['effective_rank']:.1f} -> {last['effective_rank']:.1f}, top share "
                   f"{first['top_share']:.2f} -> {last['top_share']:.2f}, kNN mean class acc. "
                   f"{100 * first['knn_mca']:.1f} -> {100 * last['knn_mca']:.1f}")
    if export_to is not None and is_main_process():
        revision = revision or f"{cfg.method}-{cfg.input_size}px-e{result.epochs_run:g}"
        click.echo(_exported(export_result(result, export_to, revision, shard_mb), revision))


@click.command("export-encoder")
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--revision", required=True)
@click.option("--shard-mb", type=_POSITIVE, default=None)
def export_command(checkpoint: Path, out: Path, revision: str, shard_mb: float | None) -> None:
    """Export the encoder of a pre-training CHECKPOINT (a run folder or its checkpoint.pt)."""
    from fer_bench.pretrain.checkpoint import CHECKPOINT_NAME
    from fer_bench.pretrain.export import export_checkpoint

    if checkpoint.is_dir():
        checkpoint = checkpoint / CHECKPOINT_NAME
    try:
        files = export_checkpoint(checkpoint, out, revision, shard_mb)
    except _USER_ERRORS as e:
        raise click.ClickException(str(e)) from None
    click.echo(_exported(files, revision))


def _check_command_line(options: dict) -> None:
    """What can be checked before any data is read (exit code 2): the dataset names of
    --data (packed files are named by path), --out and --device."""
    from fer_bench.cli.errors import check_device, check_writable_dir
    from fer_bench.datasets.registry import dataset_entry

    for spec in options["data"]:
        head = spec.split(":", 1)[0]
        if ".npz" in head or "/" in head or "\\" in head:
            continue                    # a packed file: read (and checked) by the trainer
        try:
            dataset_entry(head)         # the name; its options are checked when it loads
        except DatasetSpecError as e:
            raise click.BadParameter(str(e), param_hint="--data") from None
    check_writable_dir(options["out"], "--out")
    check_device(options["device"])


def _exported(files: list[Path], revision: str) -> str:
    where = files[0].parent if len(files) > 1 else files[0]  # shards + index, or one file
    return f"exported {len(files)} file(s) to {where} (revision {revision})"
