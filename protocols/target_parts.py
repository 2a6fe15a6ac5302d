"""Which rows fit, validate and are scored, for probes of targets other than the
expression classes (action units, valence/arousal, head pose): every row of a dataset,
labelled with an expression or not, since a DISFA frame has AU codes and no category.

Identity-disjoint everywhere, as in the expression protocols:

- a dataset with a ``test`` split: fit on ``train``; validate on the official ``val``
  split when the dataset declares one, else on a seeded share of the training *subjects*
  (:func:`fer_bench.splits.subject_holdout`, one draw per seed); score ``test``;
- a dataset without one (DISFA, BP4D, CK+, synth-lab): subject-independent k folds
  (:func:`fer_bench.splits.subject_kfold`, 3 by the AU literature's convention for DISFA
  and BP4D), the validation part drawn by subject from the training folds, predictions
  of the k test folds pooled, so every row is scored once.

The divisions are the same for every encoder (folds from ``fold_seed``, validation draws
from the run's seeds).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.protocols.data_parts import has_official_val, held_out_rows
from fer_bench.splits import subject_kfold


@dataclass(frozen=True)
class DatasetRows:
    """Every row of one dataset: its manifest rows (with their ``split``), features in
    the same order and the feature store keys read."""
    spec: str
    table: pd.DataFrame
    X: np.ndarray
    feature_keys: tuple[str, ...]

    @property
    def ids(self) -> np.ndarray:
        return self.table["id"].astype(str).to_numpy()


@dataclass(frozen=True)
class Division:
    """One fit: row positions (into :class:`DatasetRows`) that fit, validate and are
    scored."""
    name: str                 # "test", or "fold-<k>"
    fit: np.ndarray
    val: np.ndarray
    test: np.ndarray


def dataset_rows(ctx: RunContext, spec: str) -> DatasetRows:
    """All rows of every split of ``spec`` with their features (read once per run)."""
    key = ("dataset_rows", spec)
    if key not in ctx.memo:
        tables, features, keys = [], [], []
        for split in ctx.dataset(spec).splits:
            table, X, feature_key = ctx.rows(spec, split)
            tables.append(table)
            features.append(X)
            keys.append(feature_key)
        ctx.memo[key] = DatasetRows(spec, pd.concat(tables, ignore_index=True),
                                    np.concatenate(features), tuple(dict.fromkeys(keys)))
    return ctx.memo[key]


def uses_folds(ctx: RunContext, spec: str) -> bool:
    return not ctx.has_split(spec, "test")


def _subject_val(rows: DatasetRows, candidates: np.ndarray, fraction: float,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, val) positions: a seeded ``fraction`` of the subjects of ``candidates``
    validates."""
    held = held_out_rows(rows.table.iloc[candidates], fraction, seed)
    return candidates[~held], candidates[held]


def divisions(ctx: RunContext, rows: DatasetRows, *, seed: int, val_fraction: float,
              folds: int, fold_seed: int) -> list[Division]:
    """The fits of one seed (see the module doc)."""
    split = rows.table["split"].astype(str).to_numpy()
    if not uses_folds(ctx, rows.spec):
        train = np.flatnonzero(split == "train")
        if len(train) == 0:
            raise ProtocolError(f"{rows.spec} has a test split but no train split")
        if has_official_val(ctx, rows.spec):
            fit, val = train, np.flatnonzero(split == "val")
        else:
            fit, val = _subject_val(rows, train, val_fraction, seed)
        return [Division("test", fit, val, np.flatnonzero(split == "test"))]
    subjects = rows.table["subject"].fillna("").astype(str).to_numpy()
    labels = rows.table["label"].fillna("").astype(str).to_numpy()
    try:
        pairs = subject_kfold(subjects, labels, folds, fold_seed)
    except ValueError as e:
        raise ProtocolError(f"{rows.spec}: {e}") from None
    out = []
    for k, (train, test) in enumerate(pairs):
        fit, val = _subject_val(rows, np.asarray(train), val_fraction, seed)
        out.append(Division(f"fold-{k}", fit, val, np.asarray(test)))
    return out


def side_splits(ctx: RunContext, spec: str) -> dict[str, tuple[str, ...]]:
    """The splits a probe of :func:`divisions` learns from ("source": train, and the
    official val when declared) and scores ("target": test); with folds, every split on
    both sides."""
    if uses_folds(ctx, spec):
        splits = tuple(ctx.dataset(spec).splits)
        return {"source": splits, "target": splits}
    fit = ("train", "val") if has_official_val(ctx, spec) else ("train",)
    return {"source": fit, "target": ("test",)}


def seeds_that_matter(ctx: RunContext, spec: str) -> tuple[int, ...]:
    """Seeds that change a fit: only the first when the dataset has an official
    validation split (the fits are deterministic), else all of them (one validation draw
    per seed)."""
    if not uses_folds(ctx, spec) and has_official_val(ctx, spec):
        return ctx.seeds[:1]
    return ctx.seeds


def scored_positions(division_list: list[Division]) -> np.ndarray:
    """Every scored row position, in order (the test split, or all folds' rows)."""
    return np.sort(np.concatenate([d.test for d in division_list]))
