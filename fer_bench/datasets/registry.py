"""Dataset registry: names (part of the CLI) -> adapter loaders and cards.

A loader is ``fn(root: Path | None, **options) -> Dataset``. Generated presets need no
root; real datasets resolve theirs from ``--data-root`` / ``FER_BENCH_DATA`` plus the
adapter's default folder name. ``folder:/some/path`` is the generic image-folder adapter
(an adapter without a default folder takes its path in the spec). The spec grammar is
every plug-in's (:mod:`fer_bench.plugins`); the names records use are in
:mod:`fer_bench.datasets.spec`. Adapters register with
:func:`~fer_bench.datasets.entry.register_dataset`; the first look-up imports every module
of ``fer_bench.datasets.adapters`` and sees installed packages' entry points.
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.base import Dataset, DatasetError, DatasetSpecError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import DATASETS, DatasetEntry, register_dataset
from fer_bench.datasets.spec import DatasetSpec, parse_spec, path_spec_record_name
from fer_bench.paths import data_root
from fer_bench.plugins import spec_name

__all__ = ["DatasetEntry", "card_for", "dataset_entry", "dataset_names", "load_dataset",
           "record_name", "register_dataset", "split_spec"]


def dataset_names() -> list[str]:
    return DATASETS.names()


def dataset_entry(name: str) -> DatasetEntry:
    """The entry of the dataset ``name`` (a spec works too)."""
    base = spec_name(name)
    if base not in DATASETS:
        raise DatasetSpecError(str(DATASETS.unknown(base)))
    return DATASETS.get(base)


def card_for(name: str) -> DatasetCard | None:
    """The card of the dataset ``name`` (a spec works too), None when it has none."""
    return dataset_entry(name).card


def split_spec(spec: str) -> tuple[DatasetEntry, DatasetSpec]:
    """The registry entry of ``spec`` and the spec's parts."""
    entry = dataset_entry(spec)
    return entry, parse_spec(spec, entry.takes_path)


def record_name(spec: str) -> str:
    """How records name the dataset of ``spec``: the spec itself, except for adapters
    that take a path, whose records use ``name`` and never the path (see
    :mod:`fer_bench.datasets.spec`). Specs that name no registered dataset (datasets
    handed over in code) are their own name."""
    if spec.split(":", 1)[0] not in dataset_names():
        return spec
    entry, parsed = split_spec(spec)
    return path_spec_record_name(parsed) if entry.takes_path else spec


def load_dataset(spec: str, root: str | Path | None = None, **options) -> Dataset:
    """Load a dataset by spec (``NAME``, ``NAME:key=value,...``, ``folder:PATH``,
    ``folder:PATH:key=value,...``); ``options`` add to the spec's own (the same key in
    both must have the same value)."""
    entry, parsed = split_spec(spec)
    for key, value in parsed.options.items():
        if key in options and str(options[key]) != value:
            raise DatasetSpecError(f"dataset spec {spec!r} sets {key}={value} but {key}="
                               f"{options[key]} was given too")
    options = {**options, **parsed.options}
    if entry.takes_path:
        return entry.loader(Path(parsed.path).expanduser(), **options)
    if entry.generated:
        return entry.loader(None, **options)
    base = Path(root) if root is not None else data_root()
    if base is None:
        raise DatasetError(f"dataset {entry.name!r} is read from disk: pass --data-root or set "
                           f"FER_BENCH_DATA to the folder that holds {entry.default_folder}/")
    folder = base / entry.default_folder if (base / entry.default_folder).is_dir() else base
    return entry.loader(folder, **options)
