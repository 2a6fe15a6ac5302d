"""``few-shot``: probes fitted on ``n`` labelled rows per class, scored on the test split.

For every dataset, probe (``knn``, ``linear``) and ``n`` in ``shots`` (default 1, 5, 10,
20) one record (target ``<dataset>@<n>shot-<probe>``) holds ``draws`` (default 5)
supports drawn from the train split (:func:`fer_bench.splits.few_shot_support`: seeded,
class-balanced, nested over ``n``); the queries are always the whole test split (or the
subject holdout of datasets without one, :mod:`fer_bench.protocols.data_parts`), so a
support never shares a row with the queries. The record's per-seed entries are the
draws (``seed`` = draw number): mean and std over draws are the curve's point and band.

A class with fewer than ``n`` train rows contributes all of them (clamped); the record
lists such classes in ``details["short_classes"]``.

Probes, with nothing tuned on the queries:
- ``knn``: the weighted kNN of :mod:`fer_bench.probes.knn` (k=20, T=0.07, k clamped to
  the support size), bank = the support;
- ``linear``: logistic regression on L2-normalised features at a fixed C (default 1.0,
  scikit-learn's default, as in Tian et al. 2020, "Rethinking Few-Shot Image
  Classification: a Good Embedding Is All You Need", ECCV). With ``Cs`` given, C is chosen
  instead by stratified cross-validation on the support only (at most ``cv_folds`` folds,
  one row per class per fold at least), which needs ``n >= 2``; 1-shot keeps the fixed C.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_bench.metrics import classification_metrics
from fer_bench.probes.knn import DEFAULT_K, DEFAULT_T, clamp_k, knn_probe
from fer_bench.probes.linear import fit_logistic, select_C
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import ProbeConfig, Protocol, Task, register_protocol
from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.splits import few_shot_support

PROBES = ("knn", "linear")


@dataclass(frozen=True)
class FewShotConfig(ProbeConfig):
    shots: tuple[int, ...] = (1, 5, 10, 20)
    draws: int = 5
    draw_seed: int = 0
    probes: tuple[str, ...] = PROBES
    # linear probe: fixed C, or C chosen by cross-validation on the support when Cs is set
    C: float = 1.0
    Cs: tuple[float, ...] = ()
    cv_folds: int = 5
    # kNN probe
    k: int = DEFAULT_K
    T: float = DEFAULT_T
    classes: tuple[str, ...] | None = None   # None: the dataset's declared classes

    def __post_init__(self) -> None:
        if not self.shots or min(self.shots) < 1:
            raise ProtocolError(f"few-shot shots must be >= 1, got {self.shots}")
        if self.draws < 1:
            raise ProtocolError(f"few-shot draws must be >= 1, got {self.draws}")
        unknown = set(self.probes) - set(PROBES)
        if unknown or not self.probes:
            raise ProtocolError(f"few-shot probes must be among {PROBES}, got {self.probes}")


@dataclass(frozen=True)
class FewShotTask(Task):
    probe: str = "knn"
    shots: int = 1


def few_shot_target(spec: str, shots: int, probe: str) -> str:
    return f"{spec}@{shots}shot-{probe}"


def support_cv_C(X: np.ndarray, y: np.ndarray, n_classes: int, Cs: Sequence[float],
                 folds: int, seed: int, device=None) -> tuple[float, dict[float, float]]:
    """C by mean-class-accuracy over stratified folds of the support, with the linear
    probe's tie rule (the smallest C within 0.005 of the best,
    :func:`fer_bench.probes.linear.select_C`); ``X`` already L2-normalised."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = {float(C): [] for C in Cs}
    for train, val in splitter.split(X, y):
        for C, fold_scores in scores.items():
            model = fit_logistic(X[train], y[train], n_classes, C, device=device)
            m = classification_metrics(y[val], model.predict(X[val]), n_classes)
            fold_scores.append(m["mean_class_accuracy"])
    curve = {C: float(np.mean(v)) for C, v in scores.items()}
    return select_C(curve), curve


def _linear_predict(ctx: RunContext, support: LabelledSplit, queries: LabelledSplit,
                    config: FewShotConfig, draw: int) -> tuple[np.ndarray, dict, dict]:
    X = l2_normalize(support.X)
    n_classes = len(support.classes)
    C, details = config.C, {}
    if config.Cs:
        smallest = int(np.bincount(support.y)[np.unique(support.y)].min())
        folds = min(config.cv_folds, smallest)
        if folds >= 2:
            C, curve = support_cv_C(X, support.y, n_classes, config.Cs, folds, draw, ctx.device)
            details["cv_curve"] = [[c, s] for c, s in sorted(curve.items())]
        else:
            details["cv"] = f"skipped: {smallest} row(s) in the smallest support class"
    model = fit_logistic(X, support.y, n_classes, C, device=ctx.device)
    return model.predict(l2_normalize(queries.X)), {"C": C}, details


def few_shot_runs(ctx: RunContext, bank: LabelledSplit, queries: LabelledSplit, shots: int,
                  probe: str, config: FewShotConfig) -> tuple[list[SeedRun], list]:
    """One :class:`SeedRun` per draw (and the draws): supports drawn from ``bank``,
    predictions for ``queries``."""
    n_classes = len(bank.classes)
    runs, draws = [], []
    for d in range(config.draws):
        draw = few_shot_support(bank.y, shots, n_classes, config.draw_seed, d)
        support = bank.take(draw.index, "support")
        if probe == "knn":
            k = clamp_k(config.k, len(support))
            y_pred = knn_probe(support.X, support.y, queries.X, n_classes, ks=(config.k,),
                               T=config.T, device=ctx.device)[config.k]
            hyper, details = {"k": config.k, "k_effective": k, "T": config.T}, {}
        else:
            y_pred, hyper, details = _linear_predict(ctx, support, queries, config, d)
        details["support_size"] = len(support)
        runs.append(SeedRun(d, y_pred, hyper, details))
        draws.append(draw)
    return runs, draws


def few_shot_evaluation(ctx: RunContext, task: Task, roles: dict[str, str],
                        bank: LabelledSplit, queries: LabelledSplit, shots: int, probe: str,
                        config: FewShotConfig, dropped: dict) -> Evaluation:
    runs, draws = few_shot_runs(ctx, bank, queries, shots, probe, config)
    first = bank.take(draws[0].index, "support")
    short = {bank.classes[c]: n for c, n in draws[0].short.items()}
    return Evaluation(
        target=task.target, roles=roles, class_set=bank.classes, scored=queries,
        parts=[first, queries], dropped=dropped, runs=runs,
        sample_sizes={"train": len(first), "test": len(queries)},
        hyperparameters={name: [r.hyperparameters[name] for r in runs]
                         for name in runs[0].hyperparameters},
        details={"shots": shots, "probe": probe, "draws": config.draws,
                 "draw_seed": config.draw_seed, "bank_size": len(bank),
                 "short_classes": short,
                 "support_ids": [bank.ids[d.index].tolist() for d in draws]})


@register_protocol
class FewShotProtocol(Protocol):
    name = "few-shot"
    version = 2  # 2: linear fits to scikit-learn's gradient; C tie rule; stratified intervals
    Config = FewShotConfig

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        return [FewShotTask(self.name, (spec,), few_shot_target(spec, n, probe), probe, n)
                for spec in datasets for probe in self.config.probes
                for n in self.config.shots]

    def evaluate(self, ctx: RunContext, task: FewShotTask) -> Evaluation:
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, self.config.holdout_fraction)
        ev = few_shot_evaluation(ctx, task, {spec: "eval"}, parts.train, parts.test,
                                 task.shots, task.probe, self.config, {})
        ev.dropped = parts.dropped
        ev.details["test_origin"] = parts.test_origin
        return ev
