"""``cross-dataset``: a probe fitted on a source dataset, scored on a target dataset.

For each ordered pair (source, target) the class set is the classes both declare
(:func:`fer_bench.vocabulary.shared_classes`, canonical order): the probe is fitted on
the source's train (+ val) rows of those classes and scored on the target's test rows
of those classes, or on all of the target's rows of those classes when it has no test
split (the probe never saw the target; :meth:`fer_bench.protocols.data_parts.DataParts.target`).
The diagonal (source == target) is the in-domain reference over the
source's own declared classes, i.e. the ``linear`` (or ``knn``) protocol's number, so a
row of the source x target matrix reads "what is left of in-domain skill elsewhere".

Pairs: every ordered pair of the datasets given (plus the diagonal); by default the
generated presets, i.e. synth-lab -> synth-wild and synth-wild -> synth-lab. The probe is
any registered one (:mod:`fer_bench.probes.registry`); the linear probe (default) selects
C on the source's validation split only; a fit is reused for every target with the same
class set.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from fer_bench.probes.registry import probe_class
from fer_bench.protocols.base import (KnnProbeOptions, LinearProbeOptions, ProbeConfig, Protocol,
                                      Task, register_protocol)
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.protocols.evaluation import check_probe, probe_evaluation
from fer_bench.protocols.scoring import Evaluation
from fer_bench.records.io import pair_target
from fer_bench.vocabulary import shared_classes


@dataclass(frozen=True)
class CrossDatasetConfig(ProbeConfig, LinearProbeOptions, KnnProbeOptions):
    probe: str = "linear"                    # a registered probe: "linear", "knn", ...
    include_diagonal: bool = True            # the in-domain reference cells

    def __post_init__(self) -> None:
        check_probe(self.probe, "cross-dataset probe")


def pair_classes(ctx: RunContext, source: str, target: str) -> tuple[str, ...]:
    """The class set of a pair: the source's own classes on the diagonal, else the
    classes both datasets declare (at least two, or there is nothing to classify)."""
    src_classes = tuple(ctx.dataset(source).classes)
    if source == target:
        return src_classes
    classes = shared_classes(src_classes, tuple(ctx.dataset(target).classes))
    if len(classes) < 2:  # e.g. a compound-only set against a basic one: skip the pair
        raise TaskNotApplicable(f"{source} and {target} share {len(classes)} class(es) "
                                f"({list(classes)}); a cross-dataset probe needs at least 2")
    return classes


@register_protocol
class CrossDatasetProtocol(Protocol):
    name = "cross-dataset"
    version = 2  # 2: targets without a test split scored on all rows; linear v2 rules
    Config = CrossDatasetConfig

    def default_datasets(self) -> tuple[str, ...]:
        return ("synth-lab", "synth-wild")

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        datasets = list(dict.fromkeys(datasets))
        if len(datasets) < 2:
            raise ProtocolError(f"cross-dataset needs at least two datasets, got {datasets}")
        return [Task(self.name, (s, t), pair_target(s, t))
                for s, t in product(datasets, datasets)
                if s != t or self.config.include_diagonal]

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        source, target = task.datasets
        classes = pair_classes(ctx, source, target)
        cfg = self.config
        fit_parts = dataset_parts(ctx, source, classes, cfg.holdout_fraction)
        target_parts = dataset_parts(ctx, target, classes, cfg.holdout_fraction)
        if source == target:  # in-domain: the rows held out of the fit
            scored, origin = target_parts.test, target_parts.test_origin
        else:
            scored, origin = target_parts.target()
        roles = {source: "eval"} if source == target else {source: "source", target: "target"}
        # One fit per (source, class set, seed), shared by every target it is scored on.
        fits = ctx.memo.setdefault((self.name, source, classes, cfg), {})
        ev = probe_evaluation(ctx, task, roles, fit_parts, scored, cfg.probe, cfg, fits)
        # rows dropped: in the source's parts the probe used, in the target's scored part
        tuned = probe_class(cfg.probe).uses_validation
        used = [fit_parts.train, fit_parts.val if tuned else None, scored]
        ev.dropped = {p.name: p.dropped for p in used if p is not None and p.dropped}
        ev.details.update(source=source, target=target, probe=cfg.probe, test_origin=origin)
        return ev
