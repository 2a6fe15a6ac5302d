"""From a protocol's predictions to a result record, the same way for every protocol.

A protocol's ``evaluate`` returns an :class:`Evaluation`: the scored rows, one
:class:`SeedRun` of predictions per seed it ran, and the data it read. This module scores
each run (:func:`fer_bench.metrics.classification_metrics`), bootstraps a 95% interval per
run and metric over the test items, summarises the runs (mean, sample std), and fills in
everything else a record carries.

Interval over seeds: the record's interval is the mean of the per-seed interval bounds.
The bootstrap measures test-set sampling noise of one model; averaging the bounds keeps
that meaning for the seed-averaged score (the seed-to-seed spread is the separate std).
Accuracy resamples the whole test set; the class-averaged metrics resample within each
true class (:func:`fer_bench.metrics.bootstrap_interval`), as ``details["intervals"]``
states in every record.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from fer_bench.metrics import (CLASS_AVERAGED, bootstrap_interval, classification_metrics,
                               summarize_seeds)
from fer_bench.protocols.context import LabelledSplit, RunContext, TaskLog, row_splits
from fer_bench.records.environment import describe_environment
from fer_bench.records.schema import (SCORE_METRICS, DatasetRef, MetricSummary, ResultRecord,
                                      portable_encoder)

# How every record's intervals are made (kept in its details).
INTERVALS = {"method": "percentile bootstrap over the test predictions",
             "resampling": {m: "within each true class" if m in CLASS_AVERAGED
                            else "whole test set" for m in SCORE_METRICS}}


@dataclass
class SeedRun:
    seed: int
    y_pred: np.ndarray                       # class ids, aligned with Evaluation.scored
    hyperparameters: dict[str, Any] = field(default_factory=dict)  # selected (C, k, ...)
    details: dict[str, Any] = field(default_factory=dict)          # e.g. the val curve


@dataclass
class Evaluation:
    target: str
    roles: dict[str, str]              # dataset spec -> role ("eval", "source", "target")
    class_set: tuple[str, ...]
    scored: LabelledSplit              # the rows the predictions are for (test)
    parts: list[LabelledSplit]         # the parts used, incl. `scored` (for class counts)
    dropped: dict[str, dict[str, int]]  # per split read: label -> rows outside class_set
    runs: list[SeedRun]
    sample_sizes: dict[str, int]       # rows the probe trained on, validated on, scored
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    test_selected: bool = False
    # The parts the probe learnt from (the record's source side); None: every part but
    # `scored`. Subject folds name their pool: each row is scored by folds fitted on others.
    fitted: list[LabelledSplit] | None = None


def seed_summaries(per_run: list[dict], names=SCORE_METRICS) -> dict[str, MetricSummary]:
    """Each metric of ``names`` over the runs: mean, std, values, and the mean of the
    runs' interval bounds."""
    out = {}
    for metric in names:
        s = summarize_seeds([r["metrics"][metric] for r in per_run])
        lows = [r["interval"][metric][0] for r in per_run]
        highs = [r["interval"][metric][1] for r in per_run]
        out[metric] = MetricSummary(s["mean"], s["std"], tuple(s["values"]),
                                    (float(np.mean(lows)), float(np.mean(highs))))
    return out


def _score_run(run: SeedRun, y_true: np.ndarray, n_classes: int, n_boot: int,
               alpha: float) -> tuple[dict, np.ndarray, np.ndarray]:
    m = classification_metrics(y_true, np.asarray(run.y_pred, dtype=np.int64), n_classes)
    interval = {metric: list(bootstrap_interval(y_true, run.y_pred, metric, n_boot=n_boot,
                                                seed=run.seed, alpha=alpha,
                                                n_classes=n_classes))
                for metric in SCORE_METRICS}
    entry = {"seed": run.seed, "metrics": {k: m[k] for k in SCORE_METRICS},
             "interval": interval, "hyperparameters": run.hyperparameters}
    if run.details:
        entry["details"] = run.details
    return entry, np.asarray(m["per_class_recall"]), np.asarray(m["confusion"])


def dataset_refs(ctx: RunContext, roles: dict[str, str],
                 sizes: dict[str, dict[str, int]]) -> list[DatasetRef]:
    """The record's datasets: each spec in its role, with its digests and the rows used
    per part (``sizes``: spec -> part name -> rows)."""
    refs = []
    for spec, role in roles.items():
        ds = ctx.dataset(spec)
        digests = ctx.dataset_digests(spec)
        refs.append(DatasetRef(spec, role, digests["manifest_digest"], ds.image_family,
                               sizes.get(spec, {}), digests["content_digest"],
                               digests["labels_digest"]))
    return refs


def _dataset_refs(ctx: RunContext, ev: Evaluation) -> list[DatasetRef]:
    return dataset_refs(ctx, ev.roles, {spec: {p.split: len(p) for p in ev.parts
                                               if p.dataset == spec} for spec in ev.roles})


def overlap_sides(ev: Evaluation) -> dict[str, dict[str, set[str]]]:
    """Per dataset spec, the splits of the rows on each side: "source" (the parts the
    probe learnt from), "target" (the scored rows)."""
    fitted = ev.fitted if ev.fitted is not None else [p for p in ev.parts if p is not ev.scored]
    sides: dict[str, dict[str, set[str]]] = {}
    for side, parts in (("source", fitted), ("target", [ev.scored])):
        for part in parts:
            sides.setdefault(part.dataset, {}).setdefault(side, set()).update(row_splits(part))
    return sides


def run_fields(protocol, ctx: RunContext, log: TaskLog, total_s: float) -> dict[str, Any]:
    """The record fields every protocol fills the same way, from the run itself: the
    encoder, the protocol and its resolved config, the seeds, the seconds spent getting
    features, auditing the data for duplicates (only when it used an audit), probing and in all,
    the environment and the time of writing."""
    audit = {"audit_s": round(log.audit_s, 3)} if log.audit_s else {}
    return {
        "encoder": portable_encoder(ctx.encoder.info.to_dict()),
        "protocol": protocol.name,
        "protocol_version": protocol.version,
        "config": protocol.resolved_config(),
        "seeds": list(ctx.seeds),
        "timings": {"extract_s": round(log.extract_s, 3), **audit,
                    "probe_s": round(max(total_s - log.extract_s - log.audit_s, 0.0), 3),
                    "total_s": round(total_s, 3)},
        "environment": describe_environment(ctx.device),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _feature_keys(ev: Evaluation) -> list[str]:
    """Store keys of the features behind every part used (pooled parts join theirs)."""
    keys = [k for p in ev.parts for k in p.feature_key.split("+")]
    return list(dict.fromkeys(keys))


def predictions_frame(ev: Evaluation) -> pd.DataFrame:
    """Per-sample predictions, one row per (seed, scored item), class names spelled out."""
    names = np.asarray(ev.class_set, dtype=object)
    frames = [pd.DataFrame({"id": ev.scored.ids, "seed": run.seed,
                            "y_true": names[ev.scored.y], "y_pred": names[run.y_pred]})
              for run in ev.runs]
    return pd.concat(frames, ignore_index=True)


def build_record(protocol, ctx: RunContext, ev: Evaluation, log: TaskLog,
                 total_s: float) -> tuple[ResultRecord, pd.DataFrame]:
    """Score ``ev`` and assemble the record (not yet written) and its predictions."""
    if not ev.runs:
        raise ValueError(f"{protocol.name} on {ev.target}: no runs to score")
    n_classes = len(ev.class_set)
    cfg = protocol.config
    scored = [_score_run(r, ev.scored.y, n_classes, cfg.n_boot, cfg.alpha) for r in ev.runs]
    per_seed = [s[0] for s in scored]
    with warnings.catch_warnings():  # a class absent from the test split has NaN recall
        warnings.simplefilter("ignore", RuntimeWarning)
        recall = np.nanmean(np.stack([s[1] for s in scored]), axis=0)
    confusion = np.sum([s[2] for s in scored], axis=0)
    record = ResultRecord(
        **run_fields(protocol, ctx, log, total_s),
        target=ev.target,
        datasets=_dataset_refs(ctx, ev),
        class_set=list(ev.class_set),
        metrics=seed_summaries(per_seed),
        per_seed=per_seed,
        per_class_recall={c: float(r) for c, r in zip(ev.class_set, recall)},
        confusion=confusion.astype(int).tolist(),
        class_counts={p.name: p.class_counts() for p in ev.parts},
        dropped_labels=ev.dropped,
        hyperparameters=ev.hyperparameters,
        details={"sample_sizes": ev.sample_sizes, "intervals": INTERVALS, **ev.details},
        flags=ctx.pretraining_flags(overlap_sides(ev), ev.test_selected),
        feature_keys=_feature_keys(ev),
    )
    return record, predictions_frame(ev)
