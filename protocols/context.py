"""What a protocol runs with: one encoder, the feature store, datasets, seeds, device.

A :class:`RunContext` is made per encoder by the runner. It hands protocols labelled
feature matrices (:meth:`RunContext.split`) over a declared class set, extracting each
(dataset, split) once through the feature store and keeping it in memory for the other
protocols and dataset pairs of the same run. The encoder stays lazy: its weights load
only when the store misses.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer_bench.datasets import load_dataset
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.encoder import Encoder
from fer_bench.records.overlap import find_overlaps, parse_entry
from fer_bench.records.schema import SIDES, Flags

# Seeds for everything stochastic (carving a validation split, bootstrap resampling).
DEFAULT_SEEDS = (0, 1, 2)


class ProtocolError(ValueError):
    """A protocol cannot run on the data it was given (message says why and on what)."""


class TaskNotApplicable(ProtocolError):
    """A task with nothing to score for this encoder (e.g. no class of the dataset is
    unseen by it): the runner writes no record, reports the reason and goes on."""


@dataclass(frozen=True)
class LabelledSplit:
    """One split of one dataset restricted to a class set, features aligned to rows."""
    dataset: str                    # dataset spec
    split: str
    classes: tuple[str, ...]        # y indexes into this
    ids: np.ndarray                 # (N,) str
    X: np.ndarray                   # (N, D) float32
    y: np.ndarray                   # (N,) int64 in [0, len(classes))
    rows: pd.DataFrame              # the kept manifest rows (subject, sequence, ...)
    dropped: dict[str, int]         # label -> rows dropped for lying outside `classes`
    feature_key: str

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.split}"

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.y, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    @classmethod
    def concat(cls, parts: list[LabelledSplit], split: str) -> LabelledSplit:
        """Several splits of one dataset (same classes) as one, named ``split``."""
        first = parts[0]
        if any(p.dataset != first.dataset or p.classes != first.classes for p in parts):
            raise ValueError("can only pool splits of one dataset over one class set")
        dropped: dict[str, int] = {}
        for p in parts:
            for label, n in p.dropped.items():
                dropped[label] = dropped.get(label, 0) + n
        return cls(first.dataset, split, first.classes,
                   np.concatenate([p.ids for p in parts]), np.concatenate([p.X for p in parts]),
                   np.concatenate([p.y for p in parts]),
                   pd.concat([p.rows for p in parts], ignore_index=True),
                   dict(sorted(dropped.items())),
                   "+".join(dict.fromkeys(p.feature_key for p in parts)))

    def take(self, index: np.ndarray, split: str | None = None) -> LabelledSplit:
        """Rows ``index`` of this split (e.g. a carved validation part), renamed ``split``."""
        return LabelledSplit(self.dataset, split or self.split, self.classes, self.ids[index],
                             self.X[index], self.y[index],
                             self.rows.iloc[index].reset_index(drop=True), {},
                             self.feature_key)


@dataclass
class TaskLog:
    """Seconds one protocol task spent getting features (extraction on a store miss,
    loading on a hit; nothing when an earlier task of the run already read them) and
    auditing a dataset for duplicates (computing the audit, or reading it back)."""
    extract_s: float = 0.0
    audit_s: float = 0.0


@dataclass
class RunContext:
    encoder: Encoder
    store: Any                              # FeatureStore (or anything with .get)
    load: Callable[[str], Dataset] = None   # dataset spec -> Dataset; default load_dataset
    data_root: Path | None = None
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    device: str = "cpu"
    progress: bool = True
    batch_size: int = 64
    num_workers: int | None = None
    # Protocols may cache work shared between their tasks here (e.g. a probe fitted on a
    # source and scored on several targets), keyed by anything hashable.
    memo: dict = field(default_factory=dict)
    # Fitted sweeps kept across runs (a fer_bench.probes.fit_store.FitStore); None: this
    # run's memo only.
    fit_store: Any = None
    _features: dict = field(default_factory=dict, repr=False)
    _digests: dict = field(default_factory=dict, repr=False)
    _logs: list[TaskLog] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("RunContext needs at least one seed")
        info = self.encoder.info
        for entry in info.pretrained_on:   # refused now, not after a task has computed
            try:
                parse_entry(entry)
            except ValueError as e:
                raise ValueError(f"encoder {info.name}: pretrained_on: {e}") from None
        self.seeds = tuple(int(s) for s in self.seeds)
        if self.load is None:
            self.load = lambda spec: load_dataset(spec, root=self.data_root)

    # -- bookkeeping --------------------------------------------------------------
    @contextmanager
    def task_log(self) -> Iterator[TaskLog]:
        log = TaskLog()
        self._logs.append(log)
        try:
            yield log
        finally:
            self._logs.remove(log)

    # -- data ---------------------------------------------------------------------
    def dataset(self, spec: str) -> Dataset:
        return self.load(spec)

    def dataset_digests(self, spec: str) -> dict[str, str]:
        """The manifest, content and labels digests of a dataset, computed once per
        context (records keep them; the runner compares them)."""
        if spec not in self._digests:
            ds = self.dataset(spec)
            self._digests[spec] = {"manifest_digest": ds.manifest_digest(),
                                   "content_digest": ds.content_digest(),
                                   "labels_digest": ds.labels_digest()}
        return self._digests[spec]

    def spent_auditing(self, seconds: float) -> None:
        """Charge ``seconds`` of duplicate audit to the tasks running (not to probing)."""
        for log in self._logs:
            log.audit_s += seconds

    def features(self, spec: str, split: str):
        """Store features of every row of one split (labels play no part in the key, so
        fixing a label map never invalidates them)."""
        key = (spec, split)
        start = time.perf_counter()
        if key not in self._features:
            part = self.dataset(spec).subset(split)
            self._features[key] = (part, self.store.get(
                self.encoder, part, batch_size=self.batch_size, num_workers=self.num_workers,
                progress=self.progress))
        part, feats = self._features[key]
        for log in self._logs:
            log.extract_s += time.perf_counter() - start
        return part, feats

    def split(self, spec: str, split: str, classes: tuple[str, ...],
              rows: np.ndarray | None = None, name: str | None = None) -> LabelledSplit:
        """Rows of ``split`` whose label is in ``classes``, with their features; rows with
        any other label (or none) are dropped and counted per label. ``rows`` (a boolean
        mask over the split's manifest rows) narrows it first, e.g. to a subject holdout;
        ``name`` renames the result."""
        manifest, X, key = self.rows(spec, split)
        ids = manifest["id"].astype(str).to_numpy()
        lookup = {c: i for i, c in enumerate(classes)}
        y = manifest["label"].map(lambda v: lookup.get(v, -1)).to_numpy(np.int64)
        inside = np.ones(len(ids), bool) if rows is None else np.asarray(rows, bool)
        keep = inside & (y >= 0)
        dropped = manifest.loc[inside & ~keep, "label"].fillna("").astype(str).value_counts()
        return LabelledSplit(spec, name or split, tuple(classes), ids[keep], X[keep], y[keep],
                             manifest.loc[keep].reset_index(drop=True),
                             {str(k): int(v) for k, v in sorted(dropped.items())}, key)

    def rows(self, spec: str, split: str) -> tuple[pd.DataFrame, np.ndarray, str]:
        """Every manifest row of ``split`` (labelled or not), its features in row order,
        and their store key: for protocols whose labels are not the expression classes
        (action units, valence and arousal)."""
        part, feats = self.features(spec, split)
        manifest = part.manifest
        X = _align(np.asarray(feats.X), np.asarray(feats.ids).astype(str),
                   manifest["id"].astype(str).to_numpy(), f"{spec}/{split}")
        return manifest, X, feats.key

    def has_split(self, spec: str, split: str) -> bool:
        return split in self.dataset(spec).splits

    def pretraining_flags(self, sides: dict[str, dict[str, Collection[str]]],
                          test_selected: bool = False) -> Flags:
        """A record's flags: ``sides`` maps each dataset spec it read to the splits of its
        rows per side ("source": fitted on, "target": scored). An entry of the encoder's
        ``pretrained_on`` overlaps a side when it names the dataset (spec, adapter name)
        or its image family, case-insensitively, and covers one of those splits (a bare
        name covers every split); e.g. FERPlus shares FER2013's images and splits."""
        found = []
        for spec, by_side in sides.items():
            ds = self.dataset(spec)
            found += find_overlaps(self.encoder.info.pretrained_on, spec,
                                   {spec, spec.split(":", 1)[0], ds.name}, ds.image_family,
                                   {side: by_side[side] for side in SIDES if side in by_side})
        return Flags(test_selected, tuple(sorted({o.dataset for o in found})),
                     overlap=tuple(found))


def row_splits(part: LabelledSplit) -> tuple[str, ...]:
    """The dataset splits ``part``'s rows come from (a carved validation part comes from
    train, a subject hold-out from every split), by the manifest's ``split`` column."""
    if "split" in part.rows:
        return tuple(sorted(set(part.rows["split"].astype(str))))
    return (part.split,)


def _align(X: np.ndarray, feature_ids: np.ndarray, wanted: np.ndarray, what: str) -> np.ndarray:
    """Rows of X in the order of ``wanted`` ids (the store may order rows differently)."""
    if len(feature_ids) == len(wanted) and np.array_equal(feature_ids, wanted):
        return X
    position = pd.Index(feature_ids).get_indexer(wanted)
    if (position < 0).any():
        missing = wanted[position < 0][:5].tolist()
        raise DatasetError(f"{what}: features lack {int((position < 0).sum())} manifest ids, "
                           f"e.g. {missing}")
    return X[position]
