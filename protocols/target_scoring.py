"""From per-target predictions (action units, valence/arousal, head pose) to a result
record, the way :mod:`fer_bench.protocols.scoring` does it for expression classes.

A protocol's ``evaluate`` returns a :class:`TargetEvaluation`: the scored rows, one
:class:`TargetRun` per seed holding, per family of targets, truth and predictions as
(rows, targets) arrays (NaN where a row is not coded for a target), and the record's
metrics as :class:`MetricPlan` s: e.g. ``mean_f1`` = the mean over AUs of each AU's F1
on the rows coded for it.

Intervals: percentile bootstrap over the scored rows, one resample shared by every
target (a resample is a face drawn with all of its codes), the mean over targets
recomputed in each; the record's interval is the mean of the per-seed bounds, as for
the expression protocols. A target whose score a resample leaves undefined (an AUC
without a positive) is left out of that resample's mean.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fer_bench.protocols.context import RunContext, TaskLog
from fer_bench.protocols.scoring import dataset_refs, run_fields, seed_summaries
from fer_bench.protocols.target_parts import side_splits
from fer_bench.records.schema import ResultRecord
from fer_bench.target_metrics import (BINARY_SCORES, auc, continuous_scores, f1, interval,
                                      resample_weights)

INTERVALS = {"method": "percentile bootstrap over the scored rows (a resample keeps each "
                       "drawn row's codes for every target); mean over targets per resample",
             "seeds": "mean of the per-seed bounds"}


@dataclass(frozen=True)
class MetricPlan:
    """One record metric: ``name`` (e.g. ``mean_f1``) = the mean over ``family``'s
    targets of per-target ``score`` (a :mod:`fer_bench.target_metrics` score)."""
    name: str
    family: str
    score: str


@dataclass
class FamilyPredictions:
    """Truth and predictions of one family of targets on the scored rows: (n, T) arrays,
    NaN where a row is not coded; ``scores``: real-valued decision values (binary
    families, for AUC)."""
    targets: tuple[str, ...]
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None = None


@dataclass
class TargetRun:
    seed: int
    families: dict[str, FamilyPredictions]
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TargetEvaluation:
    target: str
    roles: dict[str, str]
    targets: tuple[str, ...]            # the record's class set: every target scored
    scored_ids: np.ndarray
    runs: list[TargetRun]
    metrics: tuple[MetricPlan, ...]     # the first is the headline
    sample_sizes: dict[str, int]
    split_sizes: dict[str, dict[str, int]]   # spec -> part -> rows (the record's datasets)
    feature_keys: tuple[str, ...]
    target_counts: dict[str, dict[str, int]]  # "<spec>/<part>" -> target -> coded rows
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def target_scores(family: FamilyPredictions, scores: tuple[str, ...],
                  weights=None) -> dict[str, np.ndarray]:
    """Per-target ``scores`` of ``family``, each (T,) floats, or (B, T) for a batch of
    resample ``weights`` (B, n); the continuous scores of a target come from one pass."""
    columns: dict[str, list] = {score: [] for score in scores}
    for j in range(len(family.targets)):
        coded = ~np.isnan(family.y_true[:, j])
        w = None if weights is None else weights[..., coded]
        truth, pred = family.y_true[coded, j], family.y_pred[coded, j]
        continuous = None
        for score in scores:
            if score == "f1":
                value = f1(truth.astype(bool), pred.astype(bool), w)
            elif score == "auc":
                value = auc(truth.astype(bool), family.scores[coded, j], w)
            else:
                continuous = continuous or continuous_scores(truth, pred, w)
                value = continuous[score]
            columns[score].append(np.asarray(value, dtype=np.float64))
    return {score: np.stack(values, axis=-1) for score, values in columns.items()}


def _mean_over_targets(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():   # a resample where every target is undefined
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=-1)


def score_run(run: TargetRun, plans: tuple[MetricPlan, ...], n_boot: int,
              alpha: float) -> tuple[dict, dict[str, dict[str, float]]]:
    """A run's record entry (metrics, intervals, hyper-parameters) and its per-target
    scores."""
    n = len(next(iter(run.families.values())).y_true)
    blocks = resample_weights(n, n_boot, run.seed)
    metrics, intervals, per_target = {}, {}, {}
    for name, family in run.families.items():
        family_plans = [p for p in plans if p.family == name]
        wanted = tuple(p.score for p in family_plans)
        values = target_scores(family, wanted)
        boots = [target_scores(family, wanted, w) for w in blocks]
        for plan in family_plans:
            for target, v in zip(family.targets, values[plan.score]):
                per_target.setdefault(target, {})[plan.score] = float(v)
            metrics[plan.name] = float(_mean_over_targets(values[plan.score]))
            boot = np.concatenate([_mean_over_targets(b[plan.score]) for b in boots])
            intervals[plan.name] = list(interval(boot, alpha))
    metrics = {p.name: metrics[p.name] for p in plans}        # the plans' order
    intervals = {p.name: intervals[p.name] for p in plans}
    entry = {"seed": run.seed, "metrics": metrics, "interval": intervals,
             "hyperparameters": run.hyperparameters}
    if run.details:
        entry["details"] = run.details
    return entry, per_target


def _per_target_means(per_run: list[dict[str, dict[str, float]]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for scores in per_run:
        for target, values in scores.items():
            for score, v in values.items():
                out.setdefault(target, {}).setdefault(score, []).append(v)
    return {t: {s: float(np.mean(v)) for s, v in scores.items()} for t, scores in out.items()}


def predictions_frame(ev: TargetEvaluation) -> pd.DataFrame:
    """Per-sample predictions, one row per (seed, scored item, target, family) coded."""
    frames = []
    for run in ev.runs:
        for name, family in run.families.items():
            for j, target in enumerate(family.targets):
                coded = ~np.isnan(family.y_true[:, j])
                frame = pd.DataFrame({"id": ev.scored_ids[coded], "seed": run.seed,
                                      "target": target, "family": name,
                                      "y_true": family.y_true[coded, j],
                                      "y_pred": family.y_pred[coded, j]})
                if family.scores is not None:
                    frame["score"] = family.scores[coded, j]
                frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def build_target_record(protocol, ctx: RunContext, ev: TargetEvaluation, log: TaskLog,
                        total_s: float) -> tuple[ResultRecord, pd.DataFrame]:
    """Score ``ev`` and assemble its record (not yet written) and predictions."""
    if not ev.runs:
        raise ValueError(f"{protocol.name} on {ev.target}: no runs to score")
    cfg = protocol.config
    scored = [score_run(run, ev.metrics, cfg.n_boot, cfg.alpha) for run in ev.runs]
    per_seed = [entry for entry, _ in scored]
    binary = {p.family for p in ev.metrics if p.score in BINARY_SCORES}
    record = ResultRecord(
        **run_fields(protocol, ctx, log, total_s),
        target=ev.target,
        datasets=dataset_refs(ctx, ev.roles, ev.split_sizes),
        class_set=list(ev.targets),
        metrics=seed_summaries(per_seed, [p.name for p in ev.metrics]),
        per_seed=per_seed,
        per_class_recall={},
        confusion=[],
        class_counts=ev.target_counts,
        dropped_labels={},
        hyperparameters=ev.hyperparameters,
        details={"sample_sizes": ev.sample_sizes, "intervals": INTERVALS,
                 "per_target": _per_target_means([s for _, s in scored]),
                 "binary_families": sorted(binary), **ev.details},
        flags=ctx.pretraining_flags({spec: side_splits(ctx, spec) for spec in ev.roles}),
        feature_keys=list(ev.feature_keys),
        headline_metric=ev.metrics[0].name,
    )
    return record, predictions_frame(ev)
