"""``fer-bench extract`` and ``fer-bench cache ls | verify | clear``: the feature store."""
from __future__ import annotations

import contextlib

import click

from fer_bench import runtime
from fer_bench.cli.errors import SuggestingGroup, use_cache_dir

cache_dir_option = click.option(
    "--cache-dir", type=click.Path(file_okay=False), default=None, callback=use_cache_dir,
    help="Cache folder: features, probe fits, generated faces, file digests, detections. "
         "Default: $FER_BENCH_CACHE, else the user cache directory.")


def _fits(cache_dir):
    from fer_bench.probes.fit_store import FitStore

    return FitStore.in_cache(cache_dir)


def _store(cache_dir):
    from fer_bench.features.store import FeatureStore
    from fer_bench.paths import cache_dir as default_cache_dir

    return FeatureStore(default_cache_dir(cache_dir) / "features")


@click.command("extract")
@click.option("--encoder", "encoder_spec", required=True,
              help="Encoder name (fer-bench encoders list) or pkg.module:factory.")
@click.option("--weights", default=None, help="Weights file for encoders that take one.")
@click.option("--dataset", "dataset_spec", required=True,
              help="Dataset name or NAME:key=value,... (fer-bench datasets list).")
@click.option("--split", "splits", multiple=True,
              help="Split(s) to extract, one store entry each. Default: every split.")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder holding the datasets (default: $FER_BENCH_DATA).")
@cache_dir_option
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--workers", default=None, type=click.IntRange(min=0),
              help="Image decoding processes. Default: min(4, CPUs).")
@click.option("--device", default="auto", show_default=True,
              help="cpu, cuda, cuda:N or auto (cuda when available).")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32",
              show_default=True,
              help="Forward pass arithmetic. bf16 (autocast; fast on GPUs) gives other "
                   "features than fp32, stored under their own key; runs read fp32.")
@click.option("--distributed", is_flag=True,
              help="Run under torchrun: each rank embeds a share, rank 0 writes the entry.")
def extract_command(encoder_spec, weights, dataset_spec, splits, data_root, cache_dir,
                    batch_size, workers, device, precision, distributed) -> None:
    """Extract features of an encoder on a dataset into the store (or find them there).

    A cached entry is validated and reused without loading the encoder's weights.
    """
    from fer_bench.cli.errors import (check_device, check_encoder_spec, check_weights_path,
                                      resolved_cache_dir, suggest)
    from fer_bench.datasets.registry import load_dataset
    from fer_bench.encoder_registry import get_encoder

    # The command line first (exit code 2), then the work; other errors are mapped by
    # fer_bench.cli.errors (bad data, weights or images: exit code 1).
    check_encoder_spec(encoder_spec)
    if weights is not None:
        weights = str(check_weights_path(weights))
    check_device(device)
    store = _store(resolved_cache_dir(cache_dir))
    if distributed and not runtime.under_torchrun():
        click.echo("--distributed outside torchrun (no WORLD_SIZE): extracting in this process",
                   err=True)
        distributed = False
    rank0 = runtime.is_main_process() or not distributed
    device = runtime.resolve_device(device, runtime.local_rank() if distributed else None)
    encoder = get_encoder(encoder_spec, weights=weights, device=device)
    encoder.precision = precision
    dataset = load_dataset(dataset_spec, root=data_root)
    for split in splits:
        if split not in dataset.splits:
            raise click.BadParameter(f"{dataset.name} has no split {split!r}"
                                     f"{suggest(split, dataset.splits)}; it has "
                                     f"{', '.join(dataset.splits)}", param_hint="--split")
    with contextlib.ExitStack() as stack:
        if distributed:  # one process group for all splits
            stack.enter_context(runtime.process_group(encoder.device))
        _extract_splits(store, encoder, dataset, splits or dataset.splits, batch_size,
                        workers, distributed, rank0)
    if rank0:
        click.echo(f"encoder weights loaded: {'yes' if encoder.loaded else 'no'}")


def _extract_splits(store, encoder, dataset, splits, batch_size, workers, distributed,
                    rank0) -> None:
    for split in splits:
        part = dataset.subset(split)
        if distributed:  # every rank must enter; rank 0 decides what is missing
            from fer_bench.features.distributed import extract_distributed
            cached = rank0 and store.lookup(encoder.info, part, encoder.precision) is not None
            found = extract_distributed(store, encoder, part, batch_size=batch_size,
                                        num_workers=workers)
        else:
            found = store.lookup(encoder.info, part, encoder.precision)
            cached = found is not None
            if not cached:
                found = store.get(encoder, part, batch_size=batch_size, num_workers=workers)
        if rank0 and found is not None:
            click.echo(f"{dataset.name}/{split}: {_describe(found, cached)}")


def _describe(feats, cached: bool) -> str:
    how = "cached"
    if not cached:
        t = feats.meta.get("timings", {})
        how = f"extracted in {t.get('extract_s', 0):.1f}s ({t.get('images_per_s')} img/s"
        how += f", {t['resumed_rows']} rows resumed)" if t.get("resumed_rows") else ")"
    precision = feats.meta.get("key_inputs", {}).get("precision")  # absent for fp32
    how += f"  {precision}" if precision else ""
    return f"{len(feats)} x {feats.dim}  {how}  key {feats.key[:12]}"


@click.group("cache", cls=SuggestingGroup)
def cache_group() -> None:
    """The feature store: list, verify and clear cached features."""


@cache_group.command("ls")
@cache_dir_option
def cache_ls(cache_dir) -> None:
    """One line per entry: key, encoder@revision, dataset, splits, rows, dim, size, created."""
    from fer_bench.features.catalogue import stored_items

    store = _store(cache_dir)
    items = stored_items(store)
    if not items:
        click.echo(f"no cached features in {store.root}")
    else:
        click.echo(f"{'key':12s}  {'encoder':28s}  {'dataset':18s}  {'splits':14s}  "
                   f"{'n':>7s}  {'dim':>5s}  {'size':>9s}  created")
    for it in items:
        info = it.info
        created = info.get("created", "partial" if it.status == "partial" else "?")
        click.echo(f"{it.key[:12]:12s}  {it.encoder:28s}  {it.dataset:18s}  {it.splits:14s}  "
                   f"{info.get('n', '?'):>7}  {info.get('dim', '?'):>5}  "
                   f"{_size(it.size_bytes):>9s}  {created}")
    fits = _fits(cache_dir)
    kept = fits.entries()
    if kept:
        size = sum(path.stat().st_size for path in kept)
        click.echo(f"fitted probes: {len(kept)} ({_size(size)}) in {fits.root}")


@cache_group.command("verify")
@cache_dir_option
@click.option("--fix", is_flag=True, help="Remove the entries that fail.")
def cache_verify(cache_dir, fix) -> None:
    """Validate every entry (key, shapes, ids, finite values, content digest)."""
    from fer_bench.features.catalogue import stored_items, verify_items

    store = _store(cache_dir)
    n = sum(it.status == "entry" for it in stored_items(store))
    bad = verify_items(store, fix=fix)
    for it, reason in bad:
        click.echo(f"BAD {it.key[:12]}  {it.encoder}  {it.dataset}/{it.splits}: {reason}"
                   + ("  (removed)" if fix else ""))
    click.echo(f"{n - len(bad)} of {n} entries valid in {store.root}")
    if bad and not fix:
        raise SystemExit(1)


@cache_group.command("clear")
@cache_dir_option
@click.option("--encoder", default=None, help="Only this encoder's entries (name).")
@click.option("--dataset", default=None, help="Only this dataset's entries (name).")
@click.option("--fits", is_flag=True,
              help="Remove the kept probe fits (<cache-dir>/probe-fits) instead of features.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(cache_dir, encoder, dataset, fits, yes) -> None:
    """Remove cached features (all, or one encoder's / one dataset's), or with --fits the
    kept probe fits (a later run fits again)."""
    from fer_bench.features.catalogue import clear_items

    if fits:
        if encoder or dataset:
            raise click.UsageError("--fits removes every kept fit: drop --encoder/--dataset")
        store = _fits(cache_dir)
        if not yes:
            click.confirm(f"Remove the kept probe fits in {store.root}?", abort=True)
        removed, size = store.clear()
        click.echo(f"removed {removed} probe fits ({_size(size)})")
        return
    store = _store(cache_dir)
    what = " and ".join(f"{k} {v}" for k, v in (("encoder", encoder), ("dataset", dataset)) if v)
    if not yes:
        click.confirm(f"Remove cached features{' of ' + what if what else ''} in {store.root}?",
                      abort=True)
    removed, busy = clear_items(store, encoder=encoder, dataset=dataset)
    freed = sum(it.size_bytes for it in removed)
    click.echo(f"removed {len(removed)} entries ({_size(freed)})")
    for it in busy:
        click.echo(f"kept {it.key[:12]} ({it.encoder} on {it.dataset}): being written by "
                   "another process")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
