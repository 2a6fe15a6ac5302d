"""``knn``: a temperature-weighted k-nearest-neighbour probe on one dataset.

The bank is the train split and the queries are the test split (datasets without a
test split: the subject holdout of :mod:`fer_bench.protocols.data_parts`), as in DINO's kNN
evaluation (Caron et al. 2021, k=20, T=0.07 headline; :mod:`fer_bench.probes.knn`).
The validation split is not used: nothing is tuned, every other k is logged for
reading, never for choosing. The probe is deterministic, so it runs once (the first seed
seeds the bootstrap interval).
"""
from __future__ import annotations

from dataclasses import dataclass

from fer_bench.metrics import classification_metrics
from fer_bench.probes.knn import DEFAULT_K, DEFAULT_KS, DEFAULT_T, clamp_k, knn_probe
from fer_bench.protocols.base import ProbeConfig, Protocol, Task, register_protocol
from fer_bench.protocols.context import LabelledSplit, RunContext
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.protocols.data_parts import DataParts, dataset_parts
from fer_bench.records.schema import SCORE_METRICS


@dataclass(frozen=True)
class KnnConfig(ProbeConfig):
    k: int = DEFAULT_K                       # the headline k
    T: float = DEFAULT_T
    ks: tuple[int, ...] = DEFAULT_KS         # also scored and logged in the record's details
    index_kind: str = "flat"                 # exact search; "ivf"/"hnsw" for huge banks
    classes: tuple[str, ...] | None = None   # None: the dataset's declared classes


def knn_run(ctx: RunContext, bank: LabelledSplit, queries: LabelledSplit,
            config: KnnConfig, seed: int) -> tuple[SeedRun, dict]:
    """Predictions at the headline k, and every logged k's scores on ``queries``."""
    n_classes = len(bank.classes)
    ks = tuple(sorted(set(config.ks) | {config.k}))
    predictions = knn_probe(bank.X, bank.y, queries.X, n_classes, ks=ks, T=config.T,
                            index_kind=config.index_kind, device=ctx.device)
    by_k = {}
    for k in ks:
        m = classification_metrics(queries.y, predictions[k], n_classes)
        by_k[str(k)] = {"k_effective": clamp_k(k, len(bank)),
                        **{name: m[name] for name in SCORE_METRICS}}
    run = SeedRun(seed, predictions[config.k],
                  {"k": config.k, "k_effective": clamp_k(config.k, len(bank)), "T": config.T})
    return run, by_k


@register_protocol
class KnnProtocol(Protocol):
    name = "knn"
    version = 2  # 2: class-averaged intervals resampled within each class
    Config = KnnConfig

    def evaluate(self, ctx: RunContext, task: Task) -> Evaluation:
        (spec,) = task.datasets
        classes = tuple(self.config.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, self.config.holdout_fraction)
        return knn_evaluation(ctx, task, {spec: "eval"}, parts, parts.test, self.config)


def knn_evaluation(ctx: RunContext, task: Task, roles: dict[str, str], parts: DataParts,
                   scored: LabelledSplit, config: KnnConfig) -> Evaluation:
    """Bank = ``parts.train`` (never the validation split), queries = ``scored``."""
    run, by_k = knn_run(ctx, parts.train, scored, config, ctx.seeds[0])
    return Evaluation(
        target=task.target, roles=roles, class_set=parts.train.classes, scored=scored,
        parts=[parts.train, scored], dropped=parts.dropped, runs=[run],
        sample_sizes={"train": len(parts.train), "test": len(scored)},
        hyperparameters=run.hyperparameters,
        details={"test_origin": parts.test_origin, "by_k": by_k})
