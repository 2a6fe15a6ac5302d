"""What the protocols of non-categorical targets share (``au``, ``valence-arousal``,
``head-pose``, ``expression-intensity``): their config, their record, and how a probe's
per-division predictions are pooled into the scored rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from fer_bench.probes.ridge import DEFAULT_ALPHAS, RidgeProbe
from fer_bench.protocols.base import Protocol, ScoringConfig
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.target_parts import (DatasetRows, Division, divisions,
                                              scored_positions, uses_folds)
from fer_bench.protocols.target_scoring import build_target_record

# Every generated preset: each carries the renderer's exact AUs, intensity and pose.
GENERATED_TARGET_DATASETS = ("synth-wild", "synth-lab", "synth-compound")
# A target is scored only with at least this many coded rows among the scored ones (for
# AU occurrence: this many positives and this many negatives).
DEFAULT_MIN_ROWS = 10


@dataclass(frozen=True)
class TargetProbeConfig(ScoringConfig):
    alphas: tuple[float, ...] = DEFAULT_ALPHAS   # ridge penalties swept on validation
    val_fraction: float = 0.2    # share of the training subjects that validates
    folds: int = 3               # subject folds on datasets without a test split
    fold_seed: int = 0
    min_rows: int = DEFAULT_MIN_ROWS

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ProtocolError(f"folds must be at least 2, got {self.folds}")
        if not 0 < self.val_fraction < 1:
            raise ProtocolError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


class TargetProtocol(Protocol):
    """A protocol whose records score per-target predictions
    (:mod:`fer_bench.protocols.target_scoring`)."""

    def default_datasets(self) -> tuple[str, ...]:
        return GENERATED_TARGET_DATASETS

    def run_task(self, ctx, task):
        started = time.perf_counter()
        with ctx.task_log() as log:
            evaluation = self.evaluate(ctx, task)
        return build_target_record(self, ctx, evaluation, log, time.perf_counter() - started)

    def divisions(self, ctx: RunContext, rows: DatasetRows, seed: int) -> list[Division]:
        cfg = self.config
        return divisions(ctx, rows, seed=seed, val_fraction=cfg.val_fraction,
                         folds=cfg.folds, fold_seed=cfg.fold_seed)


def scored_origin(ctx: RunContext, spec: str, folds: int) -> str:
    return f"{folds} subject folds, pooled" if uses_folds(ctx, spec) else "official test split"


def division_sizes(parts: list[Division]) -> list[dict]:
    return [{"name": d.name, "n_fit": len(d.fit), "n_val": len(d.val), "n_test": len(d.test)}
            for d in parts]


def sample_sizes(parts: list[Division], scored: np.ndarray) -> dict[str, int]:
    """A record's sample sizes: rows scored, and the rows a division fitted and validated
    on (averaged over folds)."""
    return {"test": len(scored), "train": int(np.mean([len(d.fit) for d in parts])),
            "val": int(np.mean([len(d.val) for d in parts]))}


def place(parts: list[Division]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The scored row positions and, per division, where its test rows sit among them."""
    scored = scored_positions(parts)
    return scored, [np.searchsorted(scored, d.test) for d in parts]


def ridge_predictions(rows: DatasetRows, values: np.ndarray, parts: list[Division],
                      alphas: tuple[float, ...], bases: list[dict] | None = None
                      ) -> tuple[np.ndarray, list[dict]]:
    """Ridge predictions of ``values`` (all rows x targets, NaN = not coded) for the
    scored rows, pooled over ``parts``; and per division the chosen alphas (``bases``:
    per division, decompositions shared with other probes of its rows). A target a
    division cannot fit (no coded training or validation rows) is predicted as the mean
    of its coded training rows, and listed."""
    scored, where = place(parts)
    out = np.full((len(scored), values.shape[1]), np.nan)
    log = []
    for d, at, shared in zip(parts, where, bases or [None] * len(parts)):
        probe = RidgeProbe(alphas=alphas).fit(rows.X[d.fit], values[d.fit], rows.X[d.val],
                                              values[d.val], shared)
        pred = probe.predict(rows.X[d.test])
        for j in probe.unfit:
            coded = values[d.fit, j][~np.isnan(values[d.fit, j])]
            pred[:, j] = coded.mean() if len(coded) else 0.0
        out[at] = pred
        log.append({"division": d.name, "alpha": [None if np.isnan(a) else float(a)
                                                  for a in probe.chosen_alpha],
                    "unfit": list(probe.unfit)})
    return out, log
