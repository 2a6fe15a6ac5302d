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

from typing import Any

from fer_bench.plugins import UnknownName
from fer_bench.probes.base import PROBES, Probe


class UnknownProbe(UnknownName):
    """A probe name that no registered class has."""


def probe_names() -> list[str]:
    return PROBES.names()


def probe_class(name: str) -> type[Probe]:
    if name not in PROBES:
        raise UnknownProbe(str(PROBES.unknown(name)))
    return PROBES.get(name)


def make_probe(name: str, options: Any = None, **overrides: Any) -> Probe:
    """A new, unfitted probe ``name`` with its options taken from ``options`` (a protocol
    config or a mapping: the fields it shares with the probe) and ``overrides``."""
    return probe_class(name).from_options(options, **overrides)
