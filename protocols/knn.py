"""``knn``: a temperature-weighted k-nearest-neighbour probe on one dataset.

The bank is the train split and the queries are the test split (datasets without a
test split: the subject holdout of :mod:`fer_bench.protocols.data_parts`), as in DINO's kNN
evaluation (Caron et al. 2021, k=20, T=0.07 headline; :mod:`fer_bench.probes.knn`).
The validation split is not used: nothing is tuned, every other k is logged for
reading, never for choosing. The probe is deterministic, so it runs once (the first seed
seeds the bootstrap interval).
"""
from __future__ import annotations

from dataclasses import dataclass

from fer_bench.protocols.base import (KnnProbeOptions, ProbeConfig, Protocol, Task,
                                      TestItemsOption, register_protocol)
from fer_bench.protocols.context import RunContext
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.protocols.evaluation import probe_evaluation
from fer_bench.protocols.scoring import Evaluation
from fer_bench.protocols.test_items import check_test_items, scored_items, target_name


@dataclass(frozen=True)
class KnnConfig(ProbeConfig, KnnProbeOptions, TestItemsOption):
    classes: tuple[str, ...] | None = None   # None: the dataset's declared classes

    def __post_init__(self) -> None:
        check_test_items(self.test_items)


@register_protocol
class KnnProtocol(Protocol):
    name = "knn"
    version = 2  # 2: class-averaged intervals resampled within each class
    Config = KnnConfig
    added_options = ("test_items",)

    def tasks(self, datasets):
        return [Task(self.name, (spec,), target_name(spec, self.config.test_items))
                for spec in datasets]

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        """Bank = the train part (never the validation split), queries = the test part."""
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, self.config.holdout_fraction)
        scored, about = scored_items(ctx, spec, parts.test, self.config.test_items)
        evaluation = probe_evaluation(ctx, task, {spec: "eval"}, parts, scored, "knn",
                                      self.config)
        evaluation.details.update(about)
        return evaluation
