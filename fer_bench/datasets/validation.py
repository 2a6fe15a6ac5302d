"""Checks on a manifest before anything is extracted.

Cheap checks run on every load: paths that leave the dataset root (absolute, or with a
``..`` part), duplicate ids (naming both lines) and listed images that are not on disk
(one directory listing per folder, not one stat per file, so 35k-image sets load in well
under a second). Deep checks decode every image
(``datasets prepare --check-images``) or run the face detector (no_face="skip").
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.policy import BadData


def drop_escaping_paths(rows: pd.DataFrame, where: pd.Series, bad: BadData) -> np.ndarray:
    """Boolean keep-mask of rows whose ``path`` stays inside the dataset root: relative,
    no drive, no ``..`` part (a label file must not point at files elsewhere)."""
    paths = rows["path"].astype(str).str.replace("\\", "/", regex=False)
    escaping = (paths.str.startswith("/") | paths.str.match(r"[A-Za-z]:")
                | paths.str.contains(r"(?:^|/)\.\.(?:/|$)", regex=True)).to_numpy()
    for i in np.flatnonzero(escaping):
        bad("path outside the dataset root", where.iat[i],
            f"a path relative to the dataset root without '..', found {rows['path'].iat[i]!r}")
    return ~escaping


def drop_duplicate_ids(rows: pd.DataFrame, where: pd.Series, bad: BadData) -> np.ndarray:
    """Boolean keep-mask: the first row of each id; each later one is reported."""
    dup = rows["id"].duplicated(keep="first").to_numpy()
    if dup.any():
        first_at = dict(zip(rows["id"][~dup], where[~dup]))
        for i in np.flatnonzero(dup):
            image_id = rows["id"].iat[i]
            bad("duplicate id", where.iat[i], f"unique image ids; {image_id!r} is already "
                f"listed at {first_at[image_id]}")
    return ~dup


def drop_missing_files(rows: pd.DataFrame, root: Path, where: pd.Series,
                       bad: BadData) -> np.ndarray:
    """Boolean keep-mask of rows whose ``path`` is in its folder's listing."""
    listings: dict[str, set[str]] = {}
    keep = np.ones(len(rows), dtype=bool)
    for i, rel in enumerate(rows["path"].astype(str)):
        folder, _, name = rel.rpartition("/")
        if folder not in listings:
            try:
                listings[folder] = set(os.listdir(root / folder))
            except OSError:
                listings[folder] = set()
        if name not in listings[folder]:
            keep[i] = False
            bad("listed image missing", where.iat[i], f"an image file at {root / rel}")
    return keep


def check_images(dataset: Dataset, progress: bool = False) -> pd.DataFrame:
    """Decode every image; a frame (id, path, error) of those that fail."""
    from fer_bench.images.decode import ImageDecodeError

    failures = []
    rows = range(len(dataset))
    if progress:
        from tqdm import tqdm
        rows = tqdm(rows, desc=f"decoding {dataset.name}", unit="img")
    for i in rows:
        try:
            img = dataset.read_image(i)
            if img.ndim != 3 or min(img.shape[1:]) == 0:
                raise ImageDecodeError(f"decoded to an empty image of shape {tuple(img.shape)}")
        except (ImageDecodeError, OSError, ValueError) as e:
            failures.append((dataset.manifest.at[i, "id"], str(dataset.manifest.at[i, "path"]),
                             str(e)))
    return pd.DataFrame(failures, columns=["id", "path", "error"])


def face_outcomes(dataset: Dataset, progress: bool = False) -> pd.Series:
    """Run the dataset's detector crop on every image: outcome per row
    ("aligned", "face", "no face", or "box" for box crops)."""
    from fer_bench.images.facecrop import apply_face_crop, detect_and_crop

    spec = dataset.face_crop
    outcomes = []
    rows = range(len(dataset))
    if progress:
        from tqdm import tqdm
        rows = tqdm(rows, desc=f"detecting faces in {dataset.name}", unit="img")
    for i in rows:
        image = dataset.read_image(i)
        if spec is None:
            outcomes.append("uncropped")
        elif spec.get("method") == "haar":
            outcomes.append(detect_and_crop(image, spec)[1])
        else:
            stats: Counter = Counter()
            apply_face_crop(image, dataset.box(i), spec, stats)
            outcomes.append(next(iter(stats)))
    return pd.Series(outcomes, index=dataset.manifest["id"], name="face")


def drop_faceless(dataset: Dataset, progress: bool = False) -> Dataset:
    """The no_face="skip" policy: rows where the detector finds no face are dropped and
    counted in ``info["skipped"]["no face"]``, before any feature is extracted."""
    outcomes = face_outcomes(dataset, progress).to_numpy()
    kept = dataset.subset(outcomes != "no face")
    n = int((outcomes == "no face").sum())
    kept.info = {**dataset.info, "skipped": {**dataset.info.get("skipped", {})}}
    if n:
        kept.info["skipped"]["no face"] = n
    return kept
