"""``linear``: a logistic-regression probe on one dataset's official splits.

C is swept on the validation split only (official val, else a seeded stratified tenth
of train, one carve per seed), the probe is refit on train + val at the chosen C and
scored once on test (:func:`fer_bench.probes.linear.linear_probe`); datasets without a
test split hold out a fixed fifth of their subjects (:mod:`fer_bench.protocols.data_parts`).
With an official val the whole procedure is deterministic, so it runs once (with the
first seed, which also seeds the bootstrap); with a carved val it runs once per seed.
The chosen C is the smallest whose validation score is within 0.005 of the best (each
run's ``details["selection"]`` states the rule); a choice at an end of the C grid is
listed in the record's ``details["C_at_grid_edge"]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_bench.probes.linear import DEFAULT_CS, LinearProbeResult, linear_probe
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import ProbeConfig, Protocol, Task, register_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.protocols.data_parts import (DataParts, FitSplits, dataset_parts, fit_splits,
                                            seeds_for_fit)


@dataclass(frozen=True)
class LinearConfig(ProbeConfig):
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
    """A seed's run: the chosen C, the validation curve that chose it and how (the tie
    rule, a choice at an end of the grid, fits that hit the iteration limit)."""
    return SeedRun(seed, y_pred, {"C": result.best_C},
                   {"n_train": len(fit.train), "n_val": len(fit.val),
                    "val_curve": [[c, s] for c, s in sorted(result.val_curve.items())],
                    "selection": result.selection()})


def grid_edge_flags(runs: list[SeedRun]) -> list[str]:
    """The ends of the C grid chosen by any run ("smallest", "largest"): there the best C
    may lie outside the grid. Empty when every choice is inside it."""
    return sorted({r.details["selection"]["grid_edge"] for r in runs} - {None})


@register_protocol
class LinearProtocol(Protocol):
    name = "linear"
    # 2: C grid 1e-3..1e6, tie rule (smallest C within 0.005 of the best validation
    # score), fits converged on scikit-learn's gradient and thread-count independent;
    # class-averaged intervals resampled within each class.
    version = 2
    Config = LinearConfig

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, self.config.holdout_fraction)
        return linear_evaluation(ctx, task, {spec: "eval"}, parts, parts.test, self.config)


def linear_evaluation(ctx: RunContext, task: Task, roles: dict[str, str], parts: DataParts,
                      scored, config: LinearConfig, fits: dict | None = None) -> Evaluation:
    """Fit on ``parts`` (once per seed that matters) and predict ``scored``; ``fits``
    caches fits by seed for reuse across scored sets."""
    fits = {} if fits is None else fits
    runs, used = [], None
    for seed in seeds_for_fit(ctx, parts):
        if seed not in fits:
            fit = fit_splits(parts, seed, config.val_fraction)
            fits[seed] = (fit, fit_linear(ctx, fit, scored.X, len(parts.train.classes), config))
        fit, result = fits[seed]
        y_pred = result.model.predict(l2_normalize(scored.X))
        runs.append(linear_run(seed, fit, result, y_pred))
        used = used or fit
    return Evaluation(
        target=task.target, roles=roles, class_set=parts.train.classes, scored=scored,
        parts=[used.train, used.val, scored], dropped=parts.dropped, runs=runs,
        sample_sizes={"train": len(used.train), "val": len(used.val), "test": len(scored)},
        hyperparameters={"C": [r.hyperparameters["C"] for r in runs]},
        details={"test_origin": parts.test_origin, "val_origin": used.val_origin,
                 "C_at_grid_edge": grid_edge_flags(runs)})
