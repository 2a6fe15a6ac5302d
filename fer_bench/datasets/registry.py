"""Dataset registry: names (part of the CLI) -> adapter loaders.

A loader is ``fn(root: Path | None, **options) -> Dataset``. Generated presets need no
root; real datasets resolve theirs from ``--data-root`` / ``FER_BENCH_DATA`` plus the
adapter's default folder name. ``folder:/some/path`` is the generic image-folder adapter.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.paths import data_root


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    loader: Callable[..., Dataset]
    description: str
    default_folder: str | None     # folder under the data root; None = generated, no root
    generated: bool = False


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


def dataset_names() -> list[str]:
    _import_adapters()
    return sorted(_REGISTRY)


def dataset_entry(name: str) -> DatasetEntry:
    _import_adapters()
    base = name.split(":", 1)[0]
    if base not in _REGISTRY:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[base]


def load_dataset(spec: str, root: str | Path | None = None, **options) -> Dataset:
    """Load a dataset by spec: ``NAME``, ``NAME:option=value,...`` or ``folder:/path``."""
    entry = dataset_entry(spec)
    if spec.startswith("folder:"):
        return entry.loader(Path(spec.split(":", 1)[1]), **options)
    if ":" in spec:
        for kv in spec.split(":", 1)[1].split(","):
            if "=" not in kv:
                raise DatasetError(f"dataset spec {spec!r}: expected NAME:key=value[,key=value]")
            k, v = kv.split("=", 1)
            options[k.strip()] = v.strip()
    if entry.generated:
        return entry.loader(None, **options)
    base = Path(root) if root is not None else data_root()
    if base is None:
        raise DatasetError(f"dataset {entry.name!r} is read from disk: pass --data-root or set "
                           f"FER_BENCH_DATA to the folder that holds {entry.default_folder}/")
    folder = base / entry.default_folder if (base / entry.default_folder).is_dir() else base
    return entry.loader(folder, **options)
