"""Split rules: which rows a probe learns from, tunes on and is scored on.

Pure functions over labels, class names, subject ids and manifest tables (no features,
no datasets, no protocols), so each rule is tested on hand-made arrays:

- :mod:`.holdout`: :func:`subject_holdout`, a seeded share of the subjects held out;
- :mod:`.validation`: :func:`stratified_val_split`, a seeded stratified validation part;
- :mod:`.folds`: :func:`subject_kfold`, subject-independent k folds, and
  :func:`fold_of_rows`, the test fold of every row;
- :mod:`.classes`: :func:`unseen_and_seen`, which of a dataset's classes an encoder saw in
  pre-training;
- :mod:`.support`: :func:`few_shot_support`, a seeded, class-balanced support of ``n``
  rows per class.

How a protocol applies them to a dataset (official splits first, the subject hold-out of
lab sets, cross-dataset targets) is :mod:`fer_bench.protocols.data_parts`.
"""
from __future__ import annotations

from fer_bench.splits.classes import ClassGroups, unseen_and_seen
from fer_bench.splits.folds import fold_of_rows, subject_kfold
from fer_bench.splits.holdout import subject_holdout
from fer_bench.splits.support import SupportDraw, few_shot_support
from fer_bench.splits.validation import stratified_val_split

__all__ = [
    "ClassGroups", "SupportDraw", "few_shot_support", "fold_of_rows", "stratified_val_split",
    "subject_holdout", "subject_kfold", "unseen_and_seen",
]
