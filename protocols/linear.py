"""``linear``: a logistic-regression probe on one dataset's official splits.

C is swept on the validation split only (official val, else a seeded stratified tenth
of train, one carve per seed), the probe is refit on train + val at the chosen C and
scored once on test (:func:`fer_bench.probes.linear.linear_probe`). With an official val
the whole procedure is deterministic, so it runs once (with the first seed, which also
seeds the bootstrap); with a carved val it runs once per seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fer_bench.probes.linear import DEFAULT_CS, LinearProbeResult, linear_probe
from fer_bench.protocols.base import Protocol, ScoringConfig, Task, register_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.protocols.splits import FitSplits, fit_splits, parts_read, seeds_for_fit, scored_split


@dataclass(frozen=True)
class LinearConfig(ScoringConfig):
    Cs: tuple[float, ...] = DEFAULT_CS
    select_metric: str = "mean_class_accuracy"   # what the C sweep maximises on val
    val_fraction: float = 0.1                    # carved from train when no official val
    classes: tuple[str, ...] | None = None       # None: the dataset's declared classes


def fit_linear(ctx: RunContext, fit: FitSplits, X_eval: np.ndarray, n_classes: int,
               config: LinearConfig) -> LinearProbeResult:
    return linear_probe(fit.train.X, fit.train.y, fit.val.X, fit.val.y, X_eval, n_classes,
                        Cs=config.Cs, select_metric=config.select_metric, device=ctx.device)


def linear_run(seed: int, fit: FitSplits, result: LinearProbeResult,
               y_pred: np.ndarray) -> SeedRun:
    """A seed's run: the chosen C, plus the validation curve that chose it."""
    return SeedRun(seed, y_pred, {"C": result.best_C},
                   {"val_origin": fit.val_origin, "n_train": len(fit.train),
                    "n_val": len(fit.val),
                    "val_curve": [[c, s] for c, s in sorted(result.val_curve.items())]})


@register_protocol
class LinearProtocol(Protocol):
    name = "linear"
    version = 1
    Config = LinearConfig

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        return [Task(self.name, (spec,), spec) for spec in datasets]

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        test = scored_split(ctx, spec, classes)
        runs = []
        for seed in seeds_for_fit(ctx, spec):
            fit = fit_splits(ctx, spec, classes, seed, self.config.val_fraction)
            result = fit_linear(ctx, fit, test.X, len(classes), self.config)
            runs.append(linear_run(seed, fit, result, result.test_pred))
        return Evaluation(
            target=task.target, roles={spec: "eval"}, class_set=classes, scored=test,
            parts=parts_read(ctx, spec, classes), runs=runs,
            sample_sizes={"train": runs[0].details["n_train"],
                          "val": runs[0].details["n_val"], "test": len(test)},
            hyperparameters={"C": [r.hyperparameters["C"] for r in runs]})
