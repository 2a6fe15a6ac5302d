"""``linear``: a logistic-regression probe on one dataset's official splits.

C is swept on the validation split only (official val, else a seeded stratified tenth
of train, one carve per seed), the probe is refit on train + val at the chosen C and
scored once on test (:class:`fer_bench.probes.linear.LinearProbe`); datasets without a
test split hold out a fixed fifth of their subjects (:mod:`fer_bench.protocols.data_parts`).
With an official val the whole procedure is deterministic, so it runs once (with the
first seed, which also seeds the bootstrap); with a carved val it runs once per seed.
The chosen C is the smallest whose validation score is within 0.005 of the best (each
run's ``details["selection"]`` states the rule); a choice at an end of the C grid is
listed in the record's ``details["C_at_grid_edge"]``.
"""
from __future__ import annotations

from dataclasses import dataclass

from fer_bench.protocols.base import (LinearProbeOptions, ProbeConfig, Protocol, Task,
                                      TestItemsOption, register_protocol)
from fer_bench.protocols.context import RunContext
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.protocols.evaluation import probe_evaluation
from fer_bench.protocols.scoring import Evaluation
from fer_bench.protocols.test_items import check_test_items, scored_items, target_name


@dataclass(frozen=True)
class LinearConfig(ProbeConfig, LinearProbeOptions, TestItemsOption):
    classes: tuple[str, ...] | None = None       # None: the dataset's declared classes

    def __post_init__(self) -> None:
        check_test_items(self.test_items)


@register_protocol
class LinearProtocol(Protocol):
    name = "linear"
    # 2: C grid 1e-3..1e6, tie rule (smallest C within 0.005 of the best validation
    # score), fits converged on scikit-learn's gradient and thread-count independent;
    # class-averaged intervals resampled within each class.
    version = 2
    Config = LinearConfig
    added_options = ("test_items",)

    def tasks(self, datasets):
        return [Task(self.name, (spec,), target_name(spec, self.config.test_items))
                for spec in datasets]

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, self.config.holdout_fraction)
        scored, about = scored_items(ctx, spec, parts.test, self.config.test_items)
        evaluation = probe_evaluation(ctx, task, {spec: "eval"}, parts, scored, "linear",
                                      self.config)
        evaluation.details.update(about)
        return evaluation
