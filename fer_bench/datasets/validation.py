"""Checks on a manifest before anything is extracted.

Cheap checks run on every load: paths that leave the dataset root (absolute, or with a
``..`` part), duplicate ids (naming both lines) and listed images that are not on disk
(one directory listing per folder, not one stat per file, so 35k-image sets load in well
under a second). Deep checks decode every image
(``datasets prepare --check-images``) or run the face detector (``datasets prepare
--detect``, no_face="skip"); detections go through the detection cache
(:mod:`fer_bench.datasets.detections`), so they are shared with feature extraction.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.detections import RowDetections, row_detections
from fer_bench.datasets.policy import BadData
from fer_bench.runtime import worker_count


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


@dataclass
class DetectionPass:
    """The face detector's outcome on every row of a dataset (:func:`detect_rows`)."""
    outcomes: pd.Series         # per id: "aligned", "face" (found, not aligned), "no face"
    cached: int                 # rows whose detection came from the cache
    detected: int               # rows the detector ran on
    seconds: float
    cache_file: Path | None     # where the detections are kept


class _RowDetector:
    """Map-style rows -> (row, outcome, new detection or None, error or None), for a
    DataLoader whose workers read and detect the rows the cache does not hold."""

    def __init__(self, dataset: Dataset, detections: RowDetections):
        self.dataset, self.detections = dataset, detections

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, row: int) -> tuple:
        from fer_bench.images.decode import ImageDecodeError
        from fer_bench.images.facecrop import outcome

        try:
            image = self.dataset.read_image(row)
        except (ImageDecodeError, DatasetError, ValueError, OSError) as e:
            return row, None, None, f"{type(e).__name__}: {e}"
        found, new = self.detections.find(row, image)
        return row, outcome(found, self.dataset.face_crop), new, None


def detect_rows(dataset: Dataset, progress: bool = False,
                num_workers: int | None = None) -> DetectionPass:
    """The face detector of ``dataset``'s crop on every row: cached results are read
    (no image decoded), the others detected in ``num_workers`` processes (default
    min(4, CPUs)) and saved to the detection cache. ValueError when the crop runs no
    detector."""
    from fer_bench.images.decode import ImageDecodeError
    from fer_bench.images.detections import decode
    from fer_bench.images.facecrop import outcome

    start = time.perf_counter()
    detections = row_detections(dataset)
    if detections is None:
        raise ValueError(f"{dataset.name}: face crop {dataset.face_crop} runs no detector")
    outcomes: list[str | None] = [None] * len(dataset)
    todo = []
    for row in range(len(dataset)):
        if detections.cached(row):
            outcomes[row] = outcome(decode(detections.known[detections.keys[row]]),
                                    dataset.face_crop)
        else:
            todo.append(row)
    bar = None
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc=f"detecting faces in {dataset.name}", unit="img")
    pending: dict = {}
    try:
        for batch in _row_batches(dataset, detections, todo, num_workers):
            for row, found, new, error in batch:
                if error is not None:
                    raise ImageDecodeError(
                        f"{dataset.name}: cannot read image of sample "
                        f"{dataset.manifest.at[row, 'id']!r} (row {row}): {error}")
                outcomes[row] = found
                if new is not None:
                    pending[new[0]] = new[1]
            if len(pending) >= 500:
                detections.save(pending)
                pending = {}
            if bar is not None:
                bar.update(len(batch))
    finally:
        detections.save(pending)
        if bar is not None:
            bar.close()
    return DetectionPass(pd.Series(outcomes, index=dataset.manifest["id"], name="face"),
                         len(dataset) - len(todo), len(todo), time.perf_counter() - start,
                         detections.cache.path if detections.cache else None)


def _row_batches(dataset: Dataset, detections: RowDetections, rows: list[int],
                 num_workers: int | None):
    if not rows:
        return []
    from torch.utils.data import DataLoader

    workers = worker_count(4) if num_workers is None else num_workers
    batches = [rows[i:i + 16] for i in range(0, len(rows), 16)]
    return DataLoader(_RowDetector(dataset, detections), batch_sampler=batches,
                      num_workers=min(workers, len(batches)), collate_fn=list)


def face_outcomes(dataset: Dataset, progress: bool = False) -> pd.Series:
    """Run the dataset's detector crop on every image: outcome per row
    ("aligned", "face", "no face", or "box" for box crops)."""
    from fer_bench.images.detections import detector_spec
    from fer_bench.images.facecrop import apply_face_crop

    spec = dataset.face_crop
    if detector_spec(spec) is not None:
        return detect_rows(dataset, progress).outcomes
    outcomes = []
    for i in range(len(dataset)):
        if spec is None:
            outcomes.append("uncropped")
        else:
            stats: Counter = Counter()
            apply_face_crop(dataset.read_image(i), dataset.box(i), spec, stats)
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
