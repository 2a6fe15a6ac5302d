"""Which rows a probe learns from, tunes on and is scored on.

- train: the dataset's ``train`` split;
- val: its official ``val`` split when the dataset has one and declares it official
  (``Dataset.official_val``), else a seeded stratified part of train
  (:func:`fer_bench.probes.linear.stratified_val_split`, one carve per seed);
- test: its ``test`` split, only ever scored, never used to choose anything.

Every part is restricted to the protocol's class set; rows outside it are dropped and
counted in the record.
"""
from __future__ import annotations

from dataclasses import dataclass

from fer_bench.probes.linear import stratified_val_split
from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext

CARVED_VAL = "val-carved"


@dataclass(frozen=True)
class FitSplits:
    train: LabelledSplit
    val: LabelledSplit
    val_origin: str            # "official" or "carved"


def require_split(ctx: RunContext, spec: str, split: str, purpose: str) -> None:
    if not ctx.has_split(spec, split):
        raise ProtocolError(f"{spec} has no {split!r} split (it has "
                            f"{', '.join(ctx.dataset(spec).splits)}); {purpose}")


def has_official_val(ctx: RunContext, spec: str) -> bool:
    return ctx.dataset(spec).official_val and ctx.has_split(spec, "val")


def fit_splits(ctx: RunContext, spec: str, classes: tuple[str, ...], seed: int,
               val_fraction: float) -> FitSplits:
    """Train and validation parts of ``spec`` over ``classes`` (``seed`` only matters
    when the validation part is carved out of train)."""
    require_split(ctx, spec, "train", "a probe is fitted on the train split")
    train = ctx.split(spec, "train", classes)
    if len(train) == 0:
        raise ProtocolError(f"{spec}/train has no rows in the classes {list(classes)}")
    if has_official_val(ctx, spec):
        return FitSplits(train, ctx.split(spec, "val", classes), "official")
    train_idx, val_idx = stratified_val_split(train.y, val_fraction, seed)
    if len(val_idx) == 0:
        raise ProtocolError(f"{spec}/train is too small to carve a validation part "
                            f"({len(train)} rows)")
    return FitSplits(train.take(train_idx), train.take(val_idx, CARVED_VAL), "carved")


def scored_split(ctx: RunContext, spec: str, classes: tuple[str, ...]) -> LabelledSplit:
    require_split(ctx, spec, "test", "scores are computed on the test split")
    test = ctx.split(spec, "test", classes)
    if len(test) == 0:
        raise ProtocolError(f"{spec}/test has no rows in the classes {list(classes)}")
    return test


def seeds_for_fit(ctx: RunContext, spec: str) -> tuple[int, ...]:
    """Seeds that change a fit on ``spec``: all of them when validation is carved (one
    carve per seed), else only the first (the L-BFGS fit is deterministic, so more seeds
    would repeat the same numbers)."""
    return ctx.seeds[:1] if has_official_val(ctx, spec) else ctx.seeds


def parts_read(ctx: RunContext, spec: str, classes: tuple[str, ...],
               splits: tuple[str, ...] = ("train", "val", "test")) -> list[LabelledSplit]:
    """The whole official splits a protocol read from ``spec`` (for the record's class
    counts and dropped-label counts); ``val`` only when it is the official validation."""
    out = []
    for split in splits:
        if split == "val" and not has_official_val(ctx, spec):
            continue
        if ctx.has_split(spec, split):
            out.append(ctx.split(spec, split, classes))
    return out
