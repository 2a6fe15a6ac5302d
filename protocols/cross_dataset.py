"""``cross-dataset``: a probe fitted on a source dataset, scored on a target dataset.

For each ordered pair (source, target) the class set is the classes both declare
(:func:`fer_bench.vocabulary.shared_classes`, canonical order): the probe is fitted on
the source's train (+ val) rows of those classes and scored on the target's test rows
of those classes. The diagonal (source == target) is the in-domain reference over the
source's own declared classes, i.e. the ``linear`` (or ``knn``) protocol's number, so a
row of the source x target matrix reads "what is left of in-domain skill elsewhere".

Pairs: every ordered pair of the datasets given (plus the diagonal); by default the
generated presets, i.e. synth-lab -> synth-wild and synth-wild -> synth-lab. The linear
probe (default) selects C on the source's validation split only; a fit is reused for
every target with the same class set.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Sequence

from fer_bench.probes.knn import DEFAULT_K, DEFAULT_KS, DEFAULT_T
from fer_bench.probes.linear import DEFAULT_CS
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import Protocol, ScoringConfig, Task, register_protocol
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.knn import KnnConfig, knn_run
from fer_bench.protocols.linear import LinearConfig, fit_linear, linear_run
from fer_bench.protocols.scoring import Evaluation
from fer_bench.protocols.splits import (fit_splits, parts_read, require_split, seeds_for_fit,
                                        scored_split)
from fer_bench.records.io import pair_target
from fer_bench.vocabulary import shared_classes

PROBES = ("linear", "knn")


@dataclass(frozen=True)
class CrossDatasetConfig(ScoringConfig):
    probe: str = "linear"                    # "linear" or "knn"
    include_diagonal: bool = True            # the in-domain reference cells
    # linear probe
    Cs: tuple[float, ...] = DEFAULT_CS
    select_metric: str = "mean_class_accuracy"
    val_fraction: float = 0.1
    # kNN probe
    k: int = DEFAULT_K
    T: float = DEFAULT_T
    ks: tuple[int, ...] = DEFAULT_KS
    index_kind: str = "flat"

    def __post_init__(self) -> None:
        if self.probe not in PROBES:
            raise ProtocolError(f"cross-dataset probe must be one of {PROBES}, got {self.probe!r}")


def pair_classes(ctx: RunContext, source: str, target: str) -> tuple[str, ...]:
    """The class set of a pair: the source's own classes on the diagonal, else the
    classes both datasets declare (at least two, or there is nothing to classify)."""
    src_classes = tuple(ctx.dataset(source).classes)
    if source == target:
        return src_classes
    classes = shared_classes(src_classes, tuple(ctx.dataset(target).classes))
    if len(classes) < 2:
        raise ProtocolError(f"{source} and {target} share {len(classes)} class(es) "
                            f"({list(classes)}); a cross-dataset probe needs at least 2")
    return classes


@register_protocol
class CrossDatasetProtocol(Protocol):
    name = "cross-dataset"
    version = 1
    Config = CrossDatasetConfig

    def default_datasets(self) -> tuple[str, ...]:
        return ("synth-lab", "synth-wild")

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        datasets = list(dict.fromkeys(datasets))
        if len(datasets) < 2:
            raise ProtocolError(f"cross-dataset needs at least two datasets, got {datasets}")
        return [Task(self.name, (s, t), pair_target(s, t))
                for s, t in product(datasets, datasets)
                if s != t or self.config.include_diagonal]

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        source, target = task.datasets
        classes = pair_classes(ctx, source, target)
        scored = scored_split(ctx, target, classes)
        if self.config.probe == "linear":
            runs, sizes, hyper = self._linear(ctx, source, classes, scored)
            parts = parts_read(ctx, source, classes, ("train", "val"))
        else:
            runs, sizes, hyper = self._knn(ctx, source, classes, scored)
            parts = parts_read(ctx, source, classes, ("train",))
        parts.append(scored)
        roles = {source: "eval"} if source == target else {source: "source", target: "target"}
        return Evaluation(
            target=task.target, roles=roles, class_set=classes, scored=scored, parts=parts,
            runs=runs, sample_sizes={**sizes, "test": len(scored)}, hyperparameters=hyper,
            details={"source": source, "target": target, "probe": self.config.probe})

    def _linear(self, ctx, source, classes, scored):
        cfg = LinearConfig(Cs=self.config.Cs, select_metric=self.config.select_metric,
                           val_fraction=self.config.val_fraction)
        runs = []
        for seed in seeds_for_fit(ctx, source):
            # One fit per (source, class set, seed), shared by every target it is scored on.
            memo_key = (self.name, "linear", source, classes, seed, cfg)
            if memo_key not in ctx.memo:
                fit = fit_splits(ctx, source, classes, seed, cfg.val_fraction)
                ctx.memo[memo_key] = (fit, fit_linear(ctx, fit, scored.X, len(classes), cfg))
            fit, result = ctx.memo[memo_key]
            y_pred = result.model.predict(l2_normalize(scored.X))
            runs.append(linear_run(seed, fit, result, y_pred))
        sizes = {"train": runs[0].details["n_train"], "val": runs[0].details["n_val"]}
        return runs, sizes, {"C": [r.hyperparameters["C"] for r in runs]}

    def _knn(self, ctx, source, classes, scored):
        cfg = KnnConfig(k=self.config.k, T=self.config.T, ks=self.config.ks,
                        index_kind=self.config.index_kind)
        require_split(ctx, source, "train", "the kNN bank is the source's train split")
        bank = ctx.split(source, "train", classes)
        run, by_k = knn_run(ctx, bank, scored, cfg, ctx.seeds[0])
        run.details["by_k"] = by_k
        return [run], {"train": len(bank)}, run.hyperparameters
