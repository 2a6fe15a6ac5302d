"""``au``: how much of the facial action units (FACS) frozen features encode.

Per action unit, from the features of every row coded for it (expression label or not):

- occurrence: a binary linear probe per AU on standardised features
  (:mod:`fer_bench.probes.multilabel`; its regularisation and decision threshold both
  chosen by validation F1, per AU): a ridge classifier by default
  (``occurrence_probe=ridge``: one decomposition serves every AU and penalty) or logistic
  regression (``occurrence_probe=logistic``, one L-BFGS sweep per AU, several times
  slower; docs/targets.md compares them); scored by F1 of the positive class (the field's
  headline, averaged over AUs: ``mean_f1``) and ROC AUC (``mean_auc``);
- intensity, where the dataset codes it: a ridge probe per AU (penalty by validation
  error); scored by ICC(3,1) (``mean_icc``), Pearson r (``mean_pearson_r``) and the mean
  absolute error in FACS intensity units 0-5 (``mean_mae``).

Occurrence is the dataset's own occurrence code where it has one, else intensity at or
above ``occurrence_threshold`` (0.25 on fer-bench's [0, 1] scale: FACS B or above).
Rows: official train/val/test where the dataset has a test split (validation drawn by
subject when it has no val split), else 3 subject-independent folds
(:mod:`fer_bench.protocols.target_parts`). An AU is scored when the scored rows hold at
least ``min_rows`` positives and ``min_rows`` negatives; the others are listed in
``details["skipped"]`` with the reason.

On generated faces the labels are the renderer's exact AU intensities: a probe on
features that are those values (``scripts/au_sanity.py``) scores near the top, which
checks the protocol; pixels and a random network show the floor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_bench.datasets.targets import FACS_SCALE, OCCURRENCE_THRESHOLD, action_units, au_name
from fer_bench.probes.multilabel import DEFAULT_AU_CS, OCCURRENCE_PROBES
from fer_bench.protocols.base import Task, register_protocol
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from fer_bench.protocols.target_base import (TargetProbeConfig, TargetProtocol, division_sizes,
                                             place, ridge_predictions, sample_sizes,
                                             scored_origin)
from fer_bench.protocols.target_parts import dataset_rows, seeds_that_matter
from fer_bench.protocols.target_scoring import (FamilyPredictions, MetricPlan, TargetEvaluation,
                                                TargetRun)

OCCURRENCE, INTENSITY = "occurrence", "intensity"
METRICS = (MetricPlan("mean_f1", OCCURRENCE, "f1"), MetricPlan("mean_auc", OCCURRENCE, "auc"),
           MetricPlan("mean_icc", INTENSITY, "icc"),
           MetricPlan("mean_pearson_r", INTENSITY, "pearson_r"),
           MetricPlan("mean_mae", INTENSITY, "mae"))


@dataclass(frozen=True)
class AuConfig(TargetProbeConfig):
    occurrence_probe: str = "ridge"         # "ridge" or "logistic"
    Cs: tuple[float, ...] = DEFAULT_AU_CS   # the logistic probe's C grid
    occurrence_threshold: float = OCCURRENCE_THRESHOLD
    aus: tuple[int, ...] | None = None      # None: every AU the dataset codes

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.occurrence_probe not in OCCURRENCE_PROBES:
            raise ProtocolError(f"occurrence_probe must be one of {sorted(OCCURRENCE_PROBES)}, "
                                f"got {self.occurrence_probe!r}")


@register_protocol
class AuProtocol(TargetProtocol):
    name = "au"
    version = 1
    Config = AuConfig

    def evaluate(self, ctx: RunContext, task: Task) -> TargetEvaluation:
        (spec,) = task.datasets
        cfg = self.config
        rows = dataset_rows(ctx, spec)
        try:
            labels = action_units(rows.table, cfg.aus, cfg.occurrence_threshold)
        except ValueError as e:
            raise ProtocolError(f"{spec}: {e}") from None
        if labels is None:
            raise TaskNotApplicable(f"{spec} has no action-unit labels (its manifest has no "
                                    "au_<N> columns)")
        seeds = seeds_that_matter(ctx, spec)
        first = self.divisions(ctx, rows, seeds[0])
        scored, _ = place(first)
        chosen, intense, skipped = _scorable(labels, scored, cfg.min_rows)
        if not chosen:
            raise TaskNotApplicable(f"{spec}: no action unit has {cfg.min_rows} positive and "
                                    f"{cfg.min_rows} negative scored rows ({skipped})")
        occurrence = labels.occurrence[:, chosen]
        intensity = (labels.intensity[:, intense] * FACS_SCALE) if intense else None
        names = tuple(au_name(labels.aus[j]) for j in chosen)
        runs = []
        for seed in seeds:
            parts = first if seed == seeds[0] else self.divisions(ctx, rows, seed)
            families, details = {}, {"divisions": division_sizes(parts)}
            bases = [{} for _ in parts]   # one decomposition per division, shared
            families[OCCURRENCE], details["occurrence"] = _occurrence(
                rows, occurrence, parts, cfg, names, bases)
            if intensity is not None:
                pred, details["intensity"] = ridge_predictions(rows, intensity, parts,
                                                               cfg.alphas, bases)
                families[INTENSITY] = FamilyPredictions(
                    tuple(au_name(labels.aus[j]) for j in intense), intensity[scored], pred)
            runs.append(TargetRun(seed, families, details=details))
        plans = METRICS if intensity is not None else METRICS[:2]
        n_pos = np.nansum(occurrence[scored], axis=0).astype(int)
        return TargetEvaluation(
            target=task.target, roles={spec: "eval"}, targets=names,
            scored_ids=rows.ids[scored], runs=runs, metrics=plans,
            sample_sizes=sample_sizes(first, scored),
            split_sizes={spec: {"scored": len(scored)}},
            feature_keys=rows.feature_keys,
            target_counts={f"{spec}/scored": dict(zip(names, n_pos.tolist()))},
            hyperparameters={"occurrence_probe": cfg.occurrence_probe, "alphas": list(cfg.alphas),
                             **({"Cs": list(cfg.Cs)} if cfg.occurrence_probe == "logistic"
                                else {})},
            details={"test_origin": scored_origin(ctx, spec, cfg.folds),
                     "occurrence_rule": (f"the dataset's occurrence code, else intensity >= "
                                         f"{cfg.occurrence_threshold} (FACS B or above)"),
                     "intensity_targets": [au_name(labels.aus[j]) for j in intense],
                     "mae_units": "FACS intensity, 0-5", "skipped": skipped,
                     "probe": f"per-AU {cfg.occurrence_probe} occurrence probe (penalty by "
                              "val AUC, threshold by val F1); per-AU ridge for intensity "
                              "(alpha by val MSE)"})


def _scorable(labels, scored: np.ndarray, min_rows: int
              ) -> tuple[list[int], list[int], dict[str, str]]:
    """AUs (column positions) scored for occurrence and for intensity, and the reasons
    for the others."""
    chosen, intense, skipped = [], [], {}
    for j, au in enumerate(labels.aus):
        occ = labels.occurrence[scored, j]
        pos, neg = int(np.nansum(occ == 1)), int(np.nansum(occ == 0))
        if pos < min_rows or neg < min_rows:
            skipped[au_name(au)] = f"{pos} positive and {neg} negative scored rows " \
                                   f"(needs {min_rows} of each)"
            continue
        chosen.append(j)
        if labels.intensity is not None:
            values = labels.intensity[scored, j]
            coded = values[~np.isnan(values)]
            if len(coded) >= min_rows and coded.std() > 0:
                intense.append(j)
    return chosen, intense, skipped


def _occurrence(rows, occurrence: np.ndarray, parts, cfg: AuConfig, names, bases
                ) -> tuple[FamilyPredictions, list[dict]]:
    """Occurrence predictions and decision values for the scored rows, pooled over the
    divisions; an AU a division cannot fit (one class among its training or validation
    rows) predicts that division's majority with a constant score, and is listed."""
    scored, where = place(parts)
    pred = np.full((len(scored), occurrence.shape[1]), np.nan)
    score = np.full_like(pred, np.nan)
    log = []
    for d, at, shared in zip(parts, where, bases):
        if cfg.occurrence_probe == "logistic":
            probe = OCCURRENCE_PROBES["logistic"](Cs=cfg.Cs)
        else:
            probe = OCCURRENCE_PROBES["ridge"](alphas=cfg.alphas)
        probe.fit(rows.X[d.fit], occurrence[d.fit], rows.X[d.val], occurrence[d.val], shared)
        score[at] = probe.decision_function(rows.X[d.test])
        pred[at] = probe.predict(rows.X[d.test])
        for j in probe.unfit:
            majority = float(np.nanmean(occurrence[d.fit, j]) >= 0.5)
            pred[at, j], score[at, j] = majority, 0.0
        log.append({"division": d.name,
                    ("C" if cfg.occurrence_probe == "logistic" else "alpha"):
                        [None if np.isnan(c) else float(c) for c in probe.chosen],
                    "threshold": [None if np.isnan(t) else round(float(t), 6)
                                  for t in probe.thresholds],
                    "unfit": [names[j] for j in probe.unfit]})
    return FamilyPredictions(names, occurrence[scored], pred, score), log
