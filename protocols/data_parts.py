"""The data parts of a protocol: which of a dataset's rows a probe learns from, tunes on
and is scored on, read from a :class:`RunContext` (the rules themselves, pure functions,
are :mod:`fer_bench.splits`).

For a dataset with an official ``test`` split:
- train: its ``train`` split;
- val: its official ``val`` split when the dataset declares one (``Dataset.official_val``),
  else a seeded stratified part of train
  (:func:`fer_bench.splits.stratified_val_split`, one carve per seed);
- test: its ``test`` split, only ever scored, never used to choose anything.

A dataset without a test split (lab sets such as CK+, JAFFE, synth-lab: one pool of
posed sequences) is divided by subject instead: a fixed, seeded fifth of the subjects is
held out as test (:func:`fer_bench.splits.subject_holdout`, seed 0, so every run and
every protocol scores the same rows) and the other subjects are the train pool (val carved
from it per seed). No subject is in both; a subject's sequence frames never straddle the
cut. Subject-independent k-fold, the usual lab-set protocol, is ``subject-folds``.

A cross-dataset *target* (a dataset the probe was not fitted on) is scored on its official
test split when it has one, else on all of its rows (:meth:`DataParts.target`): the probe
never saw any of them, so scoring only a held-out fifth of the subjects would just leave
test items out (of CK+48, 753 of its 981 faces and 51 of its 54 contempt faces). Its own
diagonal cell, where it is the source, keeps the subject hold-out.

Every part is restricted to the protocol's class set; rows outside it are dropped and
counted in the record.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext
from fer_bench.splits import stratified_val_split, subject_holdout

CARVED_VAL = "val-carved"
HOLDOUT_TEST = "test-holdout"
HOLDOUT_SEED = 0
ALL_ROWS = "all-rows"  # the part (and test origin) of a cross-dataset target without test


@dataclass(frozen=True)
class FitSplits:
    train: LabelledSplit
    val: LabelledSplit
    val_origin: str                   # "official" or "carved"


def require_split(ctx: RunContext, spec: str, split: str, purpose: str) -> None:
    if not ctx.has_split(spec, split):
        raise ProtocolError(f"{spec} has no {split!r} split (it has "
                            f"{', '.join(ctx.dataset(spec).splits)}); {purpose}")


def has_official_val(ctx: RunContext, spec: str) -> bool:
    return ctx.dataset(spec).official_val and ctx.has_split(spec, "val")


def held_out_rows(rows, fraction: float, seed: int = HOLDOUT_SEED) -> np.ndarray:
    """:func:`fer_bench.splits.subject_holdout` of manifest ``rows``, its refusals raised
    as :class:`ProtocolError` (the runner reports them as a protocol that cannot run)."""
    try:
        return subject_holdout(rows, fraction, seed)
    except ValueError as e:
        raise ProtocolError(str(e)) from None


def _holdout_parts(ctx: RunContext, spec: str, classes: tuple[str, ...],
                   fraction: float) -> tuple[LabelledSplit, LabelledSplit]:
    """(train pool, held-out test) of a dataset without a test split."""
    dataset = ctx.dataset(spec)
    held = held_out_rows(dataset.manifest, fraction)
    split_of = dataset.manifest["split"].to_numpy()
    train, test = [], []
    for split in dataset.splits:
        in_split = held[split_of == split]
        train.append(ctx.split(spec, split, classes, rows=~in_split, name="train"))
        test.append(ctx.split(spec, split, classes, rows=in_split, name=HOLDOUT_TEST))
    return LabelledSplit.concat(train, "train"), LabelledSplit.concat(test, HOLDOUT_TEST)


class DataParts:
    """How one dataset is divided for probing, over one class set. Each part is read
    (features extracted or loaded) on first use only: a cross-dataset target never
    touches its train split, a kNN probe never its validation split."""

    def __init__(self, ctx: RunContext, spec: str, classes: tuple[str, ...],
                 holdout_fraction: float):
        self._ctx, self.spec, self.classes = ctx, spec, tuple(classes)
        self.holdout_fraction = holdout_fraction
        self.test_origin = "official" if ctx.has_split(spec, "test") else "subject-holdout"

    def _checked(self, part: LabelledSplit) -> LabelledSplit:
        if len(part) == 0:
            raise ProtocolError(f"{part.name} has no rows in the classes {list(self.classes)}")
        return part

    @cached_property
    def _holdout(self) -> tuple[LabelledSplit, LabelledSplit]:
        return _holdout_parts(self._ctx, self.spec, self.classes, self.holdout_fraction)

    @cached_property
    def train(self) -> LabelledSplit:
        if self.test_origin == "subject-holdout":
            return self._checked(self._holdout[0])
        require_split(self._ctx, self.spec, "train", "a probe is fitted on the train split")
        return self._checked(self._ctx.split(self.spec, "train", self.classes))

    @cached_property
    def val(self) -> LabelledSplit | None:
        """The official validation split, None when the dataset has none."""
        if self.test_origin == "official" and has_official_val(self._ctx, self.spec):
            return self._ctx.split(self.spec, "val", self.classes)
        return None

    @cached_property
    def test(self) -> LabelledSplit:
        if self.test_origin == "subject-holdout":
            return self._checked(self._holdout[1])
        return self._checked(self._ctx.split(self.spec, "test", self.classes))

    @cached_property
    def all_rows(self) -> LabelledSplit:
        """Every row of every split, over the class set."""
        parts = [self._ctx.split(self.spec, split, self.classes)
                 for split in self._ctx.dataset(self.spec).splits]
        return self._checked(LabelledSplit.concat(parts, ALL_ROWS))

    def target(self) -> tuple[LabelledSplit, str]:
        """(rows scored, their origin) when this dataset is a cross-dataset target: its
        official test split, else all of its rows."""
        if self.test_origin == "official":
            return self.test, self.test_origin
        return self.all_rows, ALL_ROWS

    @property
    def dropped(self) -> dict[str, dict[str, int]]:
        """Per part read so far: label -> rows dropped for lying outside the class set."""
        read = [self.__dict__.get(name) for name in ("train", "val", "test", "all_rows")]
        return {p.name: p.dropped for p in read if p is not None and p.dropped}


def dataset_parts(ctx: RunContext, spec: str, classes: tuple[str, ...],
                  holdout_fraction: float) -> DataParts:
    """The (memoised) :class:`DataParts` of ``spec`` over ``classes``."""
    key = ("dataset_parts", spec, tuple(classes), holdout_fraction)
    if key not in ctx.memo:
        ctx.memo[key] = DataParts(ctx, spec, classes, holdout_fraction)
    return ctx.memo[key]


def fit_splits(parts: DataParts, seed: int, val_fraction: float) -> FitSplits:
    """Train and validation rows for fitting a probe (``seed`` picks the carve when the
    dataset has no official validation split)."""
    if parts.val is not None:
        return FitSplits(parts.train, parts.val, "official")
    train_idx, val_idx = stratified_val_split(parts.train.y, val_fraction, seed)
    if len(val_idx) == 0:
        raise ProtocolError(f"{parts.train.name} is too small to carve a validation part "
                            f"({len(parts.train)} rows)")
    return FitSplits(parts.train.take(train_idx), parts.train.take(val_idx, CARVED_VAL),
                     "carved")


def seeds_for_fit(ctx: RunContext, parts: DataParts) -> tuple[int, ...]:
    """Seeds that change a fit: all of them when validation is carved (one carve per
    seed), else only the first (the L-BFGS fit is deterministic, so more seeds would
    repeat the same numbers)."""
    return ctx.seeds[:1] if parts.val is not None else ctx.seeds
