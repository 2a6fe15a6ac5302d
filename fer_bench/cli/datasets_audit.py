"""``fer-bench datasets audit NAME [NAME ...]``: exact and near-duplicate images within
and across splits and datasets (the library: :mod:`fer_bench.audit`)."""
from __future__ import annotations

import re
from pathlib import Path

import click

from fer_bench.cli.errors import use_cache_dir
from fer_bench.paths import DEFAULT_RESULTS_DIR

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


@click.command("audit")
@click.argument("names", nargs=-1, required=True, metavar="NAME [NAME ...]")
@click.option("--data-root", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder holding real datasets (default: $FER_BENCH_DATA).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help=f"Folder for the files, in a sub-folder named after the datasets. "
                   f"Default: {DEFAULT_RESULTS_DIR}/audit in the working directory "
                   "(ignored by git in the fer-bench repository). The contact sheet "
                   "shows the datasets' images: never commit it.")
@click.option("--encoder", default=None,
              help="Encoder whose nearest neighbours are candidates too (default "
                   "random-resnet18; its features come from the feature cache).")
@click.option("--neighbours", type=click.IntRange(min=1), default=None,
              help="Candidates per image in each search (default 10).")
@click.option("--correlation", type=click.FloatRange(0.9, 1.0), default=None,
              help="Perceptual stage: correlation of 24x24 grey thumbnails (default 0.95).")
@click.option("--aligned", type=click.FloatRange(0.9, 1.0), default=None,
              help="Aligned stage: correlation after the best crop and shift "
                   "(default 0.95).")
@click.option("--sheet-pairs", type=click.IntRange(min=0), default=8, show_default=True,
              help="Cross-split pairs per stage on the contact sheet (0: no sheet).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              callback=use_cache_dir,
              help="Cache folder (features, audits, generated faces, ...). Default: "
                   "$FER_BENCH_CACHE, else the user cache directory.")
@click.option("--device", default="auto", show_default=True,
              help="Where features not cached yet are extracted: cpu, cuda, cuda:N, auto.")
def audit_command(names, data_root, out, encoder, neighbours, correlation, aligned,
                  sheet_pairs, cache_dir, device) -> None:
    """Find exact and near-duplicate images within and across the splits of each NAME
    and across the NAMEs (e.g. ferplus, fer2013 ferplus, folder:/data/faces).

    Three stages: the same file bytes; thumbnails correlating at --correlation or more
    (re-encodings, brightness); after aligning a crop and shift, correlating at
    --aligned or more. Candidates are each image's nearest neighbours (FAISS) by
    thumbnail, perceptual hash and --encoder features. Prints, per pair of splits, how
    many items have a duplicate at each level; writes duplicates.csv, counts.csv and
    contact_sheet.png (closest cross-split pairs of each stage, for a person to judge).
    A second audit of the same images and settings reads the cache.
    """
    from fer_bench import runtime
    from fer_bench.audit import AuditSettings, audit_datasets
    from fer_bench.cli.errors import (check_dataset_spec, check_device, check_encoder_spec,
                                      check_writable_dir, resolved_cache_dir)
    from fer_bench.cli.output import note
    from fer_bench.datasets.registry import load_dataset, record_name

    for name in names:
        check_dataset_spec(name, "NAME")
    specs = {}
    for name in names:
        if record_name(name) in specs:
            raise click.BadParameter(f"{name} is given twice", param_hint="NAME")
        specs[record_name(name)] = name
    chosen = {k: v for k, v in (("encoder", encoder), ("neighbours", neighbours),
                                ("correlation", correlation), ("aligned", aligned))
              if v is not None}
    settings = AuditSettings(**chosen)
    check_encoder_spec(settings.encoder)
    check_device(device)
    folder = check_writable_dir(Path(out or Path(DEFAULT_RESULTS_DIR) / "audit")
                                / "+".join(_UNSAFE.sub("_", n) for n in specs), "--out")
    cache = resolved_cache_dir(cache_dir)
    datasets = {}
    for name, spec in specs.items():
        note(f"reading {spec} ...")
        datasets[name] = load_dataset(spec, root=data_root)
    result = audit_datasets(datasets, settings, cache_dir=cache,
                            device=runtime.resolve_device(device), progress=True, note=note)
    click.echo("\n".join(_report(result)))
    _write(result, datasets, folder, sheet_pairs)


def _report(result) -> list[str]:
    from fer_bench.audit.report import summary_lines

    lines = []
    for name, sizes in result.sizes.groupby("dataset", sort=False):
        parts = ", ".join(f"{r.split} {r.n:,}" for r in sizes.itertuples())
        lines.append(f"{name}: {int(sizes['n'].sum()):,} images ({parts})")
    s, dup = result.settings, result.duplicates
    from fer_bench.audit.pairs import STAGES

    found = dup["stage"].value_counts()
    stages = ", ".join(f"{stage} {found[stage]:,}" for stage in STAGES if stage in found)
    lines += [f"thresholds: thumbnail correlation >= {s.correlation:g}, aligned correlation "
              f">= {s.aligned:g}; candidates: {s.neighbours} neighbours per image by "
              f"thumbnail, hash and {result.facts.get('encoder', s.encoder)}",
              f"{len(dup):,} duplicate pairs" + (f" ({stages})" if len(dup) else ""), ""]
    return lines + summary_lines(result)


def _write(result, datasets, folder: Path, sheet_pairs: int) -> None:
    from fer_bench.audit.report import split_pair_counts
    from fer_bench.audit.sheet import contact_sheet
    from fer_bench.cli.output import frame_csv, note

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "duplicates.csv").write_text(frame_csv(result.duplicates))
    (folder / "counts.csv").write_text(frame_csv(split_pair_counts(result)))
    written = [folder / "duplicates.csv", folder / "counts.csv"]
    if sheet_pairs:
        sheet = contact_sheet(result.duplicates, datasets, folder / "contact_sheet.png",
                              per_stage=sheet_pairs)
        if sheet is None:
            note("no duplicate pair crosses splits: no contact sheet")
        else:
            written.append(sheet)
    note("wrote " + ", ".join(str(p) for p in written))
