"""Continuous targets from frozen features: ``valence-arousal``, ``head-pose`` and
``expression-intensity``, one ridge probe per target (:mod:`fer_bench.probes.ridge`,
penalty by validation error), on the rows coded for it.

Scores per target and their mean over targets: the concordance correlation coefficient
(``mean_ccc``, the headline of affect benchmarks such as AffectNet and Aff-Wild: it
punishes bias and scale as well as scatter), Pearson r (``mean_pearson_r``) and RMSE in
the target's units (``mean_rmse``). Rows as in ``au``: official train/val/test, else 3
subject-independent folds (:mod:`fer_bench.protocols.target_parts`).

``head-pose`` reads the other way round: it measures how much head pose (yaw, pitch,
roll, degrees) an encoder *keeps*. An expression encoder meant to be pose-invariant
should score low there, a face-geometry one high; tables print it like the others and
the docs say how to read it. ``targets=...`` probes any numeric manifest columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_bench.datasets.targets import continuous_labels
from fer_bench.protocols.base import Task, register_protocol
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from fer_bench.protocols.target_base import (TargetProbeConfig, TargetProtocol, division_sizes,
                                             place, ridge_predictions, sample_sizes,
                                             scored_origin)
from fer_bench.protocols.target_parts import dataset_rows, seeds_that_matter
from fer_bench.protocols.target_scoring import (FamilyPredictions, MetricPlan, TargetEvaluation,
                                                TargetRun)

VALUES = "values"
METRICS = (MetricPlan("mean_ccc", VALUES, "ccc"),
           MetricPlan("mean_pearson_r", VALUES, "pearson_r"),
           MetricPlan("mean_rmse", VALUES, "rmse"))


@dataclass(frozen=True)
class ContinuousConfig(TargetProbeConfig):
    targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.targets:
            raise ProtocolError("name at least one target column (targets=...)")


class ContinuousProtocol(TargetProtocol):
    """Ridge probes of a protocol's continuous ``targets``; subclasses name them."""
    # Why a dataset without these columns is not applicable, for the runner's message.
    missing_reason = ""

    def evaluate(self, ctx: RunContext, task: Task) -> TargetEvaluation:
        (spec,) = task.datasets
        cfg = self.config
        rows = dataset_rows(ctx, spec)
        try:
            values = continuous_labels(rows.table, cfg.targets)
        except ValueError as e:
            raise ProtocolError(f"{spec}: {e}") from None
        absent = [t for t in cfg.targets if t not in rows.table.columns]
        if len(absent) == len(cfg.targets):
            raise TaskNotApplicable(f"{spec} has no {'/'.join(cfg.targets)} labels (no such "
                                    f"manifest column){self.missing_reason}")
        seeds = seeds_that_matter(ctx, spec)
        first = self.divisions(ctx, rows, seeds[0])
        scored, _ = place(first)
        keep, skipped = [], {t: "no such manifest column" for t in absent}
        for j, name in enumerate(cfg.targets):
            coded = values[scored, j][~np.isnan(values[scored, j])]
            if name in absent:
                continue
            if len(coded) < cfg.min_rows or coded.std() == 0:
                skipped[name] = f"{len(coded)} coded scored rows, spread {coded.std():.3g}" \
                    if len(coded) else "no coded scored rows"
                continue
            keep.append(j)
        if not keep:
            raise TaskNotApplicable(f"{spec}: no target can be scored ({skipped})")
        names = tuple(cfg.targets[j] for j in keep)
        values = values[:, keep]
        runs = []
        for seed in seeds:
            parts = first if seed == seeds[0] else self.divisions(ctx, rows, seed)
            pred, log = ridge_predictions(rows, values, parts, cfg.alphas)
            runs.append(TargetRun(seed, {VALUES: FamilyPredictions(names, values[scored], pred)},
                                  details={"divisions": division_sizes(parts), "ridge": log}))
        coded = (~np.isnan(values[scored])).sum(axis=0)
        return TargetEvaluation(
            target=task.target, roles={spec: "eval"}, targets=names,
            scored_ids=rows.ids[scored], runs=runs, metrics=METRICS,
            sample_sizes=sample_sizes(first, scored),
            split_sizes={spec: {"scored": len(scored)}},
            feature_keys=rows.feature_keys,
            target_counts={f"{spec}/scored": dict(zip(names, coded.tolist()))},
            hyperparameters={"alphas": list(cfg.alphas)},
            details={"test_origin": scored_origin(ctx, spec, cfg.folds), "skipped": skipped,
                     "probe": "per-target ridge (alpha by val MSE)"})


@dataclass(frozen=True)
class ValenceArousalConfig(ContinuousConfig):
    targets: tuple[str, ...] = ("valence", "arousal")


@dataclass(frozen=True)
class HeadPoseConfig(ContinuousConfig):
    targets: tuple[str, ...] = ("yaw", "pitch", "roll")


@dataclass(frozen=True)
class IntensityConfig(ContinuousConfig):
    targets: tuple[str, ...] = ("intensity",)


@register_protocol
class ValenceArousalProtocol(ContinuousProtocol):
    name = "valence-arousal"
    version = 1
    Config = ValenceArousalConfig
    missing_reason = ("; valence and arousal come with AffectNet (and a folder dataset's "
                      "manifest); the generated faces carry AUs, intensity and pose instead")


@register_protocol
class HeadPoseProtocol(ContinuousProtocol):
    name = "head-pose"
    version = 1
    Config = HeadPoseConfig


@register_protocol
class ExpressionIntensityProtocol(ContinuousProtocol):
    name = "expression-intensity"
    version = 1
    Config = IntensityConfig
