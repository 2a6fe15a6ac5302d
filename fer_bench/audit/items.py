"""The images of an audit, pooled: which dataset, split and row each is, and what the
stages compare (thumbnails, encoder features, file digests).

Features come from the feature store one split at a time, the same entries a protocol
run makes and reads, so an audit after a run extracts nothing.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.file_digests import file_digests
from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.features.store import FeatureStore

SPLIT_ORDER = ("train", "val", "test")


def split_rank(split: str) -> tuple[int, str]:
    """train, val, test first, then other split names alphabetically."""
    return (SPLIT_ORDER.index(split), "") if split in SPLIT_ORDER else (len(SPLIT_ORDER), split)


def ordered_splits(dataset: Dataset) -> list[str]:
    return sorted(dataset.splits, key=split_rank)


@dataclass
class AuditItems:
    table: pd.DataFrame         # dataset, split, id, row (of its dataset's manifest)
    thumbnails: np.ndarray      # (N, S*S) float32, the thumbnail encoder's features
    features: np.ndarray        # (N, D) float32, the search encoder's features
    digests: list[str]          # sha256 of each row's pixel file
    files: list[str]            # that file


def gather_items(datasets: Mapping[str, Dataset], thumbnailer: Encoder, encoder: Encoder,
                 store: FeatureStore, progress: bool = False) -> AuditItems:
    """Every row of every dataset, split by split, with its cached (or now extracted)
    thumbnail and encoder features."""
    tables, thumbs, feats, digests, files = [], [], [], [], []
    for name, dataset in datasets.items():
        row_digests = file_digests(dataset.pixel_files())
        row_files = [str(f) for f in dataset.pixel_files()]
        split_of = dataset.manifest["split"].astype(str).to_numpy()
        for split in ordered_splits(dataset):
            rows = np.flatnonzero(split_of == split)
            part = dataset.subset(split)
            thumbs.append(np.asarray(store.get(thumbnailer, part, progress=progress).X))
            same = encoder_identity(encoder.info) == encoder_identity(thumbnailer.info)
            feats.append(thumbs[-1] if same else
                         np.asarray(store.get(encoder, part, progress=progress).X))
            tables.append(pd.DataFrame({"dataset": name, "split": split,
                                        "id": part.manifest["id"].astype(str).to_numpy(),
                                        "row": rows}))
            digests += [row_digests[r] for r in rows]
            files += [row_files[r] for r in rows]
    return AuditItems(pd.concat(tables, ignore_index=True), np.concatenate(thumbs),
                      np.concatenate(feats), digests, files)


def dataset_identity(name: str, dataset: Dataset) -> dict:
    """What an audit of ``dataset`` depends on: its rows and how they are read (manifest
    digest), the bytes of its images (content digest) and each row's split."""
    splits = hashlib.sha256(pd.util.hash_pandas_object(
        dataset.manifest[["id", "split"]].astype(str), index=False).to_numpy().tobytes())
    return {"name": name, "manifest": dataset.manifest_digest(),
            "content": dataset.content_digest(), "splits": splits.hexdigest()}


def encoder_identity(info: EncoderInfo) -> dict:
    """The parts of an encoder's metadata that change its features (as the feature key)."""
    return {"name": info.name, "revision": info.revision, "weights": info.weights_digest,
            "layer": info.layer, "dim": info.embed_dim,
            "preprocessing": asdict(info.preprocessing)}


def split_sizes(datasets: Mapping[str, Dataset]) -> pd.DataFrame:
    """dataset, split, n: the images of each split (the denominators of the counts)."""
    rows = [{"dataset": name, "split": split,
             "n": int((ds.manifest["split"].astype(str) == split).sum())}
            for name, ds in datasets.items() for split in ordered_splits(ds)]
    return pd.DataFrame(rows, columns=["dataset", "split", "n"])


def canonical_key(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()
