"""``subject-folds``: subject-independent k-fold cross-validation for lab datasets.

The usual protocol of CK+, Oulu-CASIA, JAFFE and their kin (10 folds by subject): every
labelled row of the class set is scored exactly once, by a probe that never saw its
subject. Folds come from :func:`fer_bench.splits.subject_kfold` over the dataset's
manifest (:func:`fer_bench.datasets.folds.subject_folds`; scikit-learn's
``StratifiedGroupKFold`` over all rows, shuffled with ``fold_seed``: the same folds for
every encoder and seed); rows of every split are pooled, since lab sets ship no
standard split.

Linear probe (default): for each test fold, C is swept on an inner validation part
carved *by subject* from the training folds (``val_fraction`` of their subjects, one
carve per seed, :func:`fer_bench.splits.subject_holdout`), the probe is refit
on all training folds and predicts the test fold. kNN probe: the bank is the training
folds; it is deterministic, so it runs once. Any registered probe
(:mod:`fer_bench.probes.registry`) is fitted the same way: with the inner validation part
when it tunes on validation data (once per seed), else on all training folds (once).

Datasets that ship a test split (synth-wild, FERPlus, RAF-DB, ...) are reported as not
applicable (no record): their subject-independent score is ``linear`` or ``knn`` on that
split, and folding them would only cost time. ``with_test_split=true`` folds them anyway.

Scores: the record's metrics are *pooled* over the k test folds (one prediction per
row, per seed), the convention that keeps tiny folds from dominating; fold-wise scores,
their mean and std, and the subjects of every test fold are in ``details``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_bench.datasets.folds import subject_folds
from fer_bench.metrics import classification_metrics, summarize_seeds
from fer_bench.probes.knn import DEFAULT_K, DEFAULT_T
from fer_bench.probes.linear import DEFAULT_CS
from fer_bench.probes.registry import probe_class
from fer_bench.protocols.base import Protocol, ScoringConfig, Task, register_protocol
from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext, TaskNotApplicable
from fer_bench.protocols.data_parts import held_out_rows
from fer_bench.protocols.evaluation import (check_probe, new_probe, record_hyperparameters,
                                            val_fraction)
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.records.schema import SCORE_METRICS
from fer_bench.splits import fold_of_rows

INNER_VAL = "val-subjects"


@dataclass(frozen=True)
class SubjectFoldsConfig(ScoringConfig):
    folds: int = 10
    fold_seed: int = 0
    probe: str = "linear"              # a registered probe: "linear", "knn", ...
    # linear probe
    Cs: tuple[float, ...] = DEFAULT_CS
    select_metric: str = "mean_class_accuracy"
    val_fraction: float = 0.1          # share of the training folds' subjects
    # kNN probe
    k: int = DEFAULT_K
    T: float = DEFAULT_T
    classes: tuple[str, ...] | None = None   # None: the dataset's declared classes
    with_test_split: bool = False            # also fold datasets that ship a test split

    def __post_init__(self) -> None:
        check_probe(self.probe, "subject-folds probe")
        if self.folds < 2:
            raise ProtocolError(f"subject-folds needs at least 2 folds, got {self.folds}")


def pooled_rows(ctx: RunContext, spec: str, classes: tuple[str, ...]) -> LabelledSplit:
    """Every split's rows of the class set, as one pool (lab sets have no standard split)."""
    parts = [ctx.split(spec, s, classes) for s in ctx.dataset(spec).splits]
    return LabelledSplit.concat(parts, "all")


def pool_folds(ctx: RunContext, spec: str, pool: LabelledSplit, k: int,
               seed: int) -> np.ndarray:
    """The test fold of every pool row (folds are made over the whole manifest, so the
    same subjects share a fold whatever the class set)."""
    dataset = ctx.dataset(spec)
    manifest_fold = fold_of_rows(subject_folds(dataset, k, seed), len(dataset.manifest))
    by_id = dict(zip(dataset.manifest["id"].astype(str), manifest_fold))
    return np.array([by_id[i] for i in pool.ids], dtype=np.int64)


def inner_validation(train: LabelledSplit, fraction: float,
                     seed: int) -> tuple[LabelledSplit, LabelledSplit]:
    """(fit, val) of the training folds: ``fraction`` of their subjects, drawn with
    ``seed``, validate; the rest fit. No subject is on both sides."""
    held = held_out_rows(train.rows, fraction, seed)
    return train.take(np.flatnonzero(~held)), train.take(np.flatnonzero(held), INNER_VAL)


def fit_fold(ctx: RunContext, train: LabelledSplit, test: LabelledSplit, seed: int,
             cfg: SubjectFoldsConfig, shared=None) -> tuple[np.ndarray, dict, dict]:
    """A probe fitted on the training folds (on an inner validation part carved by subject
    when it tunes on validation data): its predictions for ``test``, the fold's log line
    and the probe's hyper-parameters. ``shared``: what the probe computed once for the
    whole pool (:meth:`~fer_bench.probes.base.Probe.share_pool`)."""
    probe = new_probe(ctx, cfg.probe, cfg).use_pool(shared)
    n_classes = len(train.classes)
    if probe.uses_validation:
        fit, val = inner_validation(train, val_fraction(probe), seed)
        probe.fit(fit.X, fit.y, n_classes, X_val=val.X, y_val=val.y, seed=seed)
        sizes = {"n_train": len(fit), "n_val": len(val)}
    else:
        probe.fit(train.X, train.y, n_classes, seed=seed)
        sizes = {"n_train": len(train)}
    hyper = probe.hyperparameters()
    info = {**{name: hyper[name] for name in probe.fit_dependent}, **sizes,
            **probe.fit_summary()}
    return probe.predict(test.X), info, hyper


@register_protocol
class SubjectFoldsProtocol(Protocol):
    name = "subject-folds"
    version = 2  # 2: the linear probe's rules of linear v2; stratified intervals
    Config = SubjectFoldsConfig

    def default_datasets(self) -> tuple[str, ...]:
        return ("synth-lab",)

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        (spec,) = task.datasets
        cfg = self.config
        if ctx.has_split(spec, "test") and not cfg.with_test_split:
            raise TaskNotApplicable(f"{spec} ships a test split: score it with linear or knn "
                                    "(or fold it anyway with subject-folds:with_test_split=true)")
        classes = tuple(cfg.classes or ctx.dataset(spec).classes)
        pool = pooled_rows(ctx, spec, classes)
        if len(pool) == 0:
            raise ProtocolError(f"{spec} has no rows in the classes {list(classes)}")
        fold = pool_folds(ctx, spec, pool, cfg.folds, cfg.fold_seed)
        probe = probe_class(cfg.probe)
        shared = new_probe(ctx, cfg.probe, cfg).share_pool(pool.X)
        # a probe that tunes on a carved validation part: once per seed; else once
        seeds = ctx.seeds if probe.uses_validation else ctx.seeds[:1]
        fold_info = [{"fold": f, "n_test": int((fold == f).sum()),
                      "test_subjects": sorted(set(pool.rows["subject"][fold == f]))}
                     for f in range(cfg.folds)]
        runs = []
        for seed in seeds:
            y_pred = np.full(len(pool), -1, dtype=np.int64)
            per_fold = []
            for f in range(cfg.folds):
                test_idx = np.flatnonzero(fold == f)
                if len(test_idx) == 0:      # a fold of unlabelled rows only
                    continue
                train = pool.take(np.flatnonzero(fold != f), "train-folds")
                y_pred[test_idx], info, hyper = fit_fold(ctx, train, pool.take(test_idx), seed,
                                                         cfg, shared)
                m = classification_metrics(pool.y[test_idx], y_pred[test_idx], len(classes))
                per_fold.append({"fold": f, **info, **{k: m[k] for k in SCORE_METRICS}})
            # the settings once, what was chosen on validation data fold by fold
            fixed = {n: v for n, v in hyper.items() if n not in probe.fit_dependent}
            runs.append(SeedRun(seed, y_pred,
                                {**fixed, **{n: [p[n] for p in per_fold] for n in probe.selected}},
                                {"folds": per_fold}))
        return Evaluation(
            target=task.target, roles={spec: "eval"}, class_set=classes, scored=pool,
            parts=[pool], fitted=[pool],
            dropped={p: d for p, d in [(pool.name, pool.dropped)] if d},
            runs=runs, sample_sizes={"test": len(pool)},
            hyperparameters=record_hyperparameters(probe, [r.hyperparameters for r in runs]),
            details={"folds": fold_info, "fold_scores": fold_scores(runs),
                     "probe": cfg.probe, "pooling": "predictions of all test folds"})


def fold_scores(runs: list[SeedRun]) -> dict[str, dict]:
    """Per metric: mean and std over folds of the fold-wise scores (averaged over seeds
    fold by fold first)."""
    out = {}
    for metric in SCORE_METRICS:
        by_fold: dict[int, list[float]] = {}
        for run in runs:
            for entry in run.details["folds"]:
                by_fold.setdefault(entry["fold"], []).append(entry[metric])
        s = summarize_seeds([float(np.mean(v)) for _, v in sorted(by_fold.items())])
        out[metric] = {"mean": s["mean"], "std": s["std"], "values": s["values"]}
    return out
