"""``few-shot``: probes fitted on ``n`` labelled rows per class, scored on the test split.

For every dataset, probe (``knn``, ``linear``) and ``n`` in ``shots`` (default 1, 5, 10,
20) one record (target ``<dataset>@<n>shot-<probe>``) holds ``draws`` (default 5)
supports drawn from the train split (:func:`fer_bench.splits.few_shot_support`: seeded,
class-balanced, nested over ``n``); the queries are always the whole test split (or the
subject holdout of datasets without one, :mod:`fer_bench.protocols.data_parts`), so a
support never shares a row with the queries. The record's per-seed entries are the
draws (``seed`` = draw number): mean and std over draws are the curve's point and band.

A class with fewer than ``n`` train rows contributes all of them (clamped); the record
lists such classes in ``details["short_classes"]``.

Probes, with nothing tuned on the queries:
- ``knn``: the weighted kNN of :mod:`fer_bench.probes.knn` (k=20, T=0.07, k clamped to
  the support size), bank = the support;
- ``linear``: logistic regression on L2-normalised features at a fixed C (default 1.0,
  scikit-learn's default, as in Tian et al. 2020, "Rethinking Few-Shot Image
  Classification: a Good Embedding Is All You Need", ECCV). With ``Cs`` given, C is chosen
  instead by stratified cross-validation on the support only (at most ``cv_folds`` folds,
  one row per class per fold at least), which needs ``n >= 2``; 1-shot keeps the fixed C
  (the ``support-linear`` probe, :class:`fer_bench.probes.linear.SupportLinearProbe`);
- any other registered probe (:mod:`fer_bench.probes.registry`) by its name, fitted on
  the support.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fer_bench.probes.knn import DEFAULT_K, DEFAULT_T
from fer_bench.protocols.base import ProbeConfig, Protocol, Task, register_protocol
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.protocols.evaluation import check_probe, few_shot_evaluation, few_shot_probe
from fer_bench.protocols.scoring import Evaluation

PROBES = ("knn", "linear")


@dataclass(frozen=True)
class FewShotConfig(ProbeConfig):
    shots: tuple[int, ...] = (1, 5, 10, 20)
    draws: int = 5
    draw_seed: int = 0
    probes: tuple[str, ...] = PROBES         # "linear" is the support-linear probe
    # linear probe: fixed C, or C chosen by cross-validation on the support when Cs is set
    C: float = 1.0
    Cs: tuple[float, ...] = ()
    cv_folds: int = 5
    # kNN probe
    k: int = DEFAULT_K
    T: float = DEFAULT_T
    classes: tuple[str, ...] | None = None   # None: the dataset's declared classes

    def __post_init__(self) -> None:
        if not self.shots or min(self.shots) < 1:
            raise ProtocolError(f"few-shot shots must be >= 1, got {self.shots}")
        if self.draws < 1:
            raise ProtocolError(f"few-shot draws must be >= 1, got {self.draws}")
        if not self.probes:
            raise ProtocolError(f"few-shot probes must be among {PROBES}, got {self.probes}")
        for probe in self.probes:
            check_probe(few_shot_probe(probe), f"few-shot probes ({probe!r})")


@dataclass(frozen=True)
class FewShotTask(Task):
    probe: str = "knn"
    shots: int = 1


def few_shot_target(spec: str, shots: int, probe: str) -> str:
    return f"{spec}@{shots}shot-{probe}"


@register_protocol
class FewShotProtocol(Protocol):
    name = "few-shot"
    version = 2  # 2: linear fits to scikit-learn's gradient; C tie rule; stratified intervals
    Config = FewShotConfig

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        return [FewShotTask(self.name, (spec,), few_shot_target(spec, n, probe), probe, n)
                for spec in datasets for probe in self.config.probes
                for n in self.config.shots]

    def evaluate(self, ctx: RunContext, task: FewShotTask) -> Evaluation:
        (spec,) = task.datasets
        cfg = self.config
        classes = tuple(cfg.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, cfg.holdout_fraction)
        ev = few_shot_evaluation(ctx, task, {spec: "eval"}, parts.train, parts.test,
                                 task.shots, task.probe, cfg.draws, cfg.draw_seed, cfg, {})
        ev.dropped = parts.dropped
        ev.details["test_origin"] = parts.test_origin
        return ev
