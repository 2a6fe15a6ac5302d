"""Turning the rows an adapter parsed into a checked :class:`Dataset`.

Every adapter ends here, so every dataset gets the same checks and the same record of
what was left out: ``info["skipped"]`` (bad rows dropped under on_error="skip", by
reason), ``info["dropped"]`` (rows the label rules leave out by design, e.g. FERPlus
"unknown", AffectNet "none"), ``info["skipped_examples"]`` (a few full messages).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.policy import BadData
from fer_bench.datasets.validation import (drop_duplicate_ids, drop_escaping_paths, drop_faceless,
                                           drop_missing_files)


def assemble(name: str, root: Path, classes: tuple[str, ...], rows: pd.DataFrame | list[dict],
             where: list[str] | pd.Series, bad: BadData, *, layout: str,
             image_family: str = "", face_crop: dict | None = None, official_val: bool = False,
             dropped: Counter | dict | None = None, info: dict | None = None,
             check_files: bool = True, dataset_cls: type[Dataset] = Dataset) -> Dataset:
    """``rows`` has the manifest columns; ``where[i]`` names the file (and line) row i came
    from. ``check_files`` compares listed paths with folder listings (off for readers
    whose paths are not files, e.g. fer2013.csv rows)."""
    manifest = pd.DataFrame(rows).reset_index(drop=True)
    where = pd.Series(list(where), dtype=object)
    if manifest.empty:
        raise DatasetError(f"{name}: no labelled images found under {root}; expected layout:\n"
                           f"{layout}")
    for column in ("id", "path", "label", "split", "subject"):
        manifest[column] = manifest[column].astype(str)
    keep = drop_escaping_paths(manifest, where, bad)
    manifest, where = manifest[keep].reset_index(drop=True), where[keep].reset_index(drop=True)
    keep = drop_duplicate_ids(manifest, where, bad)
    manifest, where = manifest[keep].reset_index(drop=True), where[keep].reset_index(drop=True)
    if check_files:
        keep = drop_missing_files(manifest, root, where, bad)
        manifest = manifest[keep].reset_index(drop=True)
    dataset = dataset_cls(name=name, root=root, classes=tuple(classes), manifest=manifest,
                          image_family=image_family, face_crop=face_crop,
                          official_val=official_val)
    dataset.info = {**(info or {}), **bad.record(), "dropped": dict(dropped or {})}
    if face_crop is not None and face_crop.get("no_face") == "skip":
        dataset = drop_faceless(dataset)
    return dataset
