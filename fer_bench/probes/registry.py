"""Probes by name: the built-in ones (``linear``, ``knn``, ``support-linear``, found by a
scan of this package) and any class decorated with
:func:`fer_bench.probes.base.register_probe` in a module imported before the look-up.

A new probe is one class: a :class:`~fer_bench.probes.base.Probe` dataclass decorated
with ``@register_probe``, in a module of ``fer_bench/probes/`` (or anywhere else). Protocols
that take a probe name (``cross-dataset:probe=NAME``, ``subject-folds:probe=NAME``,
``few-shot:probes=NAME``, ``unseen-expression:probes=NAME``) then accept it, with no
change to them.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from fer_bench.probes.base import Probe, registered_probes
from fer_bench.suggest import did_you_mean

_LOADED = False


def _load_builtins() -> None:
    """Import every module of this package once, so their probes register."""
    global _LOADED
    if _LOADED:
        return
    import fer_bench.probes as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "registry":
            importlib.import_module(f"{package.__name__}.{module.name}")
    _LOADED = True


class UnknownProbe(ValueError):
    """A probe name that no registered class has."""


def probe_names() -> list[str]:
    _load_builtins()
    return sorted(registered_probes())


def probe_class(name: str) -> type[Probe]:
    _load_builtins()
    probes = registered_probes()
    if name not in probes:
        raise UnknownProbe(f"unknown probe {name!r}{did_you_mean(name, probes)}; known: "
                           f"{', '.join(sorted(probes))}")
    return probes[name]


def make_probe(name: str, options: Any = None, **overrides: Any) -> Probe:
    """A new, unfitted probe ``name`` with its options taken from ``options`` (a protocol
    config or a mapping: the fields it shares with the probe) and ``overrides``."""
    return probe_class(name).from_options(options, **overrides)
