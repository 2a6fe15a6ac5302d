"""What an adapter module imports to register itself: :func:`register_dataset`.

One :class:`DatasetEntry` per dataset holds everything known about it without reading a
file: its loader, one-line description, default folder and card. Look-ups go through
:mod:`fer_bench.datasets.registry`, which scans ``fer_bench.datasets.adapters`` and the
``fer_bench.datasets`` entry points of installed packages first.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.plugins import Registry

ENTRY_POINT_GROUP = "fer_bench.datasets"


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    loader: Callable[..., Dataset]
    description: str
    default_folder: str | None     # folder under the data root; None = generated, no root
    generated: bool = False
    card: DatasetCard | None = None

    @property
    def takes_path(self) -> bool:
        """Read from a path given in the spec (``folder:PATH``), not from the data root."""
        return not self.generated and self.default_folder is None


def _same_loader(a: DatasetEntry, b: DatasetEntry) -> bool:
    def where(entry):
        return (entry.loader.__module__, entry.loader.__qualname__)
    return where(a) == where(b)          # a re-imported module is no clash


DATASETS: Registry[DatasetEntry] = Registry("dataset", "fer_bench.datasets.adapters",
                                            ENTRY_POINT_GROUP, same=_same_loader)


def register_dataset(name: str, description: str, default_folder: str | None = None,
                     generated: bool = False, card: DatasetCard | None = None):
    """``register_dataset(name, description, default_folder=..., card=...)(loader)``; an
    installed package's entry point names such a registered loader's module."""
    def wrap(fn: Callable[..., Dataset]) -> Callable[..., Dataset]:
        DATASETS.register(name, DatasetEntry(name, fn, description, default_folder, generated,
                                             card))
        return fn
    return wrap
