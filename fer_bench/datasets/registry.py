"""Dataset registry: names (part of the CLI) -> adapter loaders.

A loader is ``fn(root: Path | None, **options) -> Dataset``. Generated presets need no
root; real datasets resolve theirs from ``--data-root`` / ``FER_BENCH_DATA`` plus the
adapter's default folder name. ``folder:/some/path`` is the generic image-folder adapter
(an adapter without a default folder takes its path in the spec). The spec grammar and
the names records use are in :mod:`fer_bench.datasets.spec`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fer_bench.datasets.base import Dataset, DatasetError, DatasetSpecError
from fer_bench.datasets.spec import DatasetSpec, parse_spec, path_spec_record_name
from fer_bench.paths import data_root


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    loader: Callable[..., Dataset]
    description: str
    default_folder: str | None     # folder under the data root; None = generated, no root
    generated: bool = False

    @property
    def takes_path(self) -> bool:
        """Read from a path given in the spec (``folder:PATH``), not from the data root."""
        return not self.generated and self.default_folder is None


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(name: str, description: str, default_folder: str | None = None,
                     generated: bool = False):
    def wrap(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        if name in _REGISTRY and _REGISTRY[name].loader is not fn:
            raise ValueError(f"dataset {name!r} registered twice")
        _REGISTRY[name] = DatasetEntry(name, fn, description, default_folder, generated)
        return fn
    return wrap


def _import_adapters() -> None:
    # Importing the adapter modules runs their @register_dataset decorators.
    import fer_bench.datasets.adapters  # noqa: F401


def _suggest(value: str, choices) -> str:
    from fer_bench.suggest import did_you_mean
    return did_you_mean(value, choices)


def known_options(name: str) -> tuple[str, ...]:
    """The options an adapter documents on its card (``a/b`` entries split), for
    suggestions; empty when it has no card."""
    from fer_bench.datasets.cards import card_for
    card = card_for(name)
    if card is None:
        return ()
    return tuple(k.strip() for key in card.options for k in key.split("/") if k.strip())


def dataset_names() -> list[str]:
    _import_adapters()
    return sorted(_REGISTRY)


def dataset_entry(name: str) -> DatasetEntry:
    _import_adapters()
    base = name.split(":", 1)[0]
    if base not in _REGISTRY:
        raise DatasetSpecError(f"unknown dataset {name!r}{_suggest(base, _REGISTRY)}; known: "
                               f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[base]


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
