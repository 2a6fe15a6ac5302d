"""Protocols: the registry and the base class every protocol subclasses.

A protocol has a ``name``, an integer ``version`` (bump it whenever a change can move a
score: a new split rule, a new default C grid, ...; records of different versions never
mix), a frozen ``Config`` dataclass, and turns one encoder's features into result
records. Work is cut into :class:`Task` s, one per record, known *before* anything is
computed, so the runner can skip tasks whose record exists without loading the encoder::

    @register_protocol
    class MyProtocol(Protocol):
        name, version, Config = "my-protocol", 1, MyConfig
        def tasks(self, datasets): ...          # -> [Task], one per record
        def evaluate(self, ctx, task): ...      # -> Evaluation (predictions per seed)

Scoring (metrics, seeds, intervals) and the record itself are built by
:mod:`fer_bench.protocols.scoring`, the same way for every protocol.
"""
from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar

import pandas as pd

from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.probes.knn import DEFAULT_K, DEFAULT_KS, DEFAULT_T
from fer_bench.probes.linear import DEFAULT_CS
from fer_bench.plugins import (Registry, SpecError, declared_options, declared_types, parse_spec,
                               typed_options)
from fer_bench.records.schema import ResultRecord

# Generated presets used when no --dataset is given (fer_bench.datasets.adapters.generated).
GENERATED_PRESETS = ("synth-wild", "synth-lab")


@dataclass(frozen=True)
class Task:
    """One record's worth of work: ``datasets`` are the specs it reads (one for
    single-dataset protocols; source then target for cross-dataset), ``target`` the
    record's target name."""
    protocol: str
    datasets: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class ScoringConfig:
    """Scoring settings shared by every protocol (part of each resolved config)."""
    n_boot: int = 1000       # bootstrap resamples of the test predictions
    alpha: float = 0.05      # 95% intervals


@dataclass(frozen=True)
class ProbeConfig(ScoringConfig):
    """Settings of protocols that probe a dataset's train/test division."""
    # Share of subjects held out as test on datasets without a test split
    # (fer_bench.protocols.data_parts).
    holdout_fraction: float = 0.2


@dataclass(frozen=True)
class LinearProbeOptions:
    """The linear probe's settings, for every protocol that offers it (one definition)."""
    Cs: tuple[float, ...] = DEFAULT_CS
    select_metric: str = "mean_class_accuracy"   # what the C sweep maximises on val
    val_fraction: float = 0.1                    # carved from train when no official val


@dataclass(frozen=True)
class TestItemsOption:
    """Score every test item ("all", as published) or only those without a near-duplicate
    in train/val ("deduplicated", the record ``<dataset>@deduplicated``;
    :mod:`fer_bench.protocols.test_items`)."""
    test_items: str = "all"


@dataclass(frozen=True)
class KnnProbeOptions:
    """The kNN probe's settings, for every protocol that offers it (one definition)."""
    k: int = DEFAULT_K                       # the headline k
    T: float = DEFAULT_T
    ks: tuple[int, ...] = DEFAULT_KS         # also scored and logged in the record's details
    index_kind: str = "flat"                 # exact search; "ivf"/"hnsw" for huge banks


class Protocol(ABC):
    name: ClassVar[str]
    version: ClassVar[int]
    Config: ClassVar[type] = ScoringConfig
    # Config fields that only choose which records are planned, never how one is
    # computed (e.g. unseen-expression's probes and scopes): a record written under
    # another choice answers the same question, so staleness ignores them.
    plan_fields: ClassVar[tuple[str, ...]] = ()
    # Options added after records of this version were written, whose default is what
    # those records did: a record without one stays valid (no version bump needed).
    added_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any = None, **overrides: Any):
        config = config if config is not None else self.Config()
        if not isinstance(config, self.Config):
            raise TypeError(f"protocol {self.name!r} takes a {self.Config.__name__}, "
                            f"got {type(config).__name__}")
        known = {f.name for f in fields(self.Config)}
        unknown = set(overrides) - known
        if unknown:
            raise ProtocolError(f"protocol {self.name!r} has no option(s) {sorted(unknown)}; "
                                f"options: {sorted(known)}")
        self.config = replace(config, **overrides)

    def resolved_config(self) -> dict[str, Any]:
        """The config as JSON-ready plain data (tuples become lists)."""
        return json.loads(json.dumps(asdict(self.config)))

    def computing_config(self, config: dict[str, Any] | None = None) -> dict[str, Any]:
        """``config`` (a record's resolved config; default: this protocol's) without the
        :attr:`plan_fields`: what a record's numbers depend on. Options in
        :attr:`added_options` that a record lacks read as their default (how every
        record was computed before the option existed)."""
        config = dict(self.resolved_config() if config is None else config)
        defaults = json.loads(json.dumps(asdict(self.Config())))
        for name in self.added_options:
            config.setdefault(name, defaults[name])
        return {k: v for k, v in config.items() if k not in self.plan_fields}

    def default_datasets(self) -> tuple[str, ...]:
        return GENERATED_PRESETS

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        """The records this protocol would write for ``datasets`` (cheap: no data loaded).

        Default: one record per dataset, named after it; protocols with pairs, shots or
        scopes override this."""
        return [Task(self.name, (spec,), spec) for spec in datasets]

    @abstractmethod
    def evaluate(self, ctx: RunContext, task: Task):
        """Predictions for one task, as a :class:`fer_bench.protocols.scoring.Evaluation`."""

    def run_task(self, ctx: RunContext, task: Task) -> tuple[ResultRecord, pd.DataFrame]:
        """Evaluate ``task`` and score it: (record, per-sample predictions)."""
        from fer_bench.protocols.scoring import build_record

        started = time.perf_counter()
        with ctx.task_log() as log:
            evaluation = self.evaluate(ctx, task)
        total = time.perf_counter() - started
        record, predictions = build_record(self, ctx, evaluation, log, total)
        # A protocol that could not give some class what it asked for (few-shot: fewer
        # train rows than the shots) says so in details["short_classes"]; the flag makes
        # tables stamp the record.
        short = (evaluation.details or {}).get("short_classes")
        if short:
            order = {c: i for i, c in enumerate(record.class_set)}
            record.flags = replace(record.flags, short_classes=tuple(
                sorted(short, key=lambda c: (order.get(c, len(order)), c))))
        return record, predictions


PROTOCOLS: Registry[type[Protocol]] = Registry("protocol", "fer_bench.protocols",
                                               "fer_bench.protocols")


def register_protocol(cls: type[Protocol]) -> type[Protocol]:
    """Class decorator adding a protocol to the registry under ``cls.name``."""
    if not isinstance(getattr(cls, "version", None), int) or cls.version < 1:
        raise TypeError(f"protocol {cls.__name__} needs an integer version >= 1")
    return PROTOCOLS.register(cls.name, cls)


def protocol_names() -> list[str]:
    return PROTOCOLS.names()


class ProtocolSpecError(ProtocolError, SpecError):
    """A protocol spec that names no protocol, an unknown option or a bad value: a
    mistake on the command line, found before anything runs."""


def _protocol_class(name: str) -> type[Protocol]:
    if name not in PROTOCOLS:
        raise ProtocolSpecError(str(PROTOCOLS.unknown(name)))
    return PROTOCOLS.get(name)


def get_protocol(name: str, **options: Any) -> Protocol:
    """An instance of the protocol registered as ``name``, with config ``options``."""
    return _protocol_class(name)(**options)


def protocol_from_spec(spec: str) -> Protocol:
    """``NAME`` or ``NAME:key=value,key=value`` in every plug-in's grammar
    (:mod:`fer_bench.plugins`; sequences /-separated), options typed by the protocol's
    config dataclass: e.g. ``cross-dataset:probe=knn,k=10`` or ``linear:Cs=0.1/1/10``."""
    try:
        parsed = parse_spec(spec, "protocol")
        cls = _protocol_class(parsed.name)
        if parsed.revision is not None:
            raise ProtocolSpecError(f"protocol spec {spec!r}: protocols have no revisions "
                                    f"(their version is fixed: drop '@{parsed.revision}')")
        options = typed_options(parsed, declared_options(cls.Config), "protocol",
                                hints=declared_types(cls.Config))
    except ProtocolSpecError:
        raise
    except SpecError as e:
        raise ProtocolSpecError(str(e)) from None
    try:
        return cls(**options)
    except (ProtocolError, TypeError, ValueError) as e:  # a config's own checks
        raise ProtocolSpecError(f"protocol spec {spec!r}: {e}") from None
