"""What an adapter module imports to register itself: :func:`register_dataset`.

Kept apart from :mod:`fer_bench.datasets.registry`, whose look-ups import every adapter
first: an adapter imports this module, the registry imports the adapters, and nothing
imports back.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fer_bench.datasets.base import Dataset


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


def registered() -> Mapping[str, DatasetEntry]:
    """The entries registered so far (the adapters imported so far)."""
    return _REGISTRY
