"""A dataset's face detections, looked up by each row's image content digest.

:func:`row_detections` builds, in the main process, what the image loader's workers need
to crop a row without running the detector again: the row's key (the sha256 of its
image file, from :mod:`fer_bench.datasets.file_digests`) and the detections the cache
(:class:`fer_bench.images.detections.DetectionCache`, ``<cache>/detections/``) already
holds for those keys. A worker that finds a row's key there uses the stored detection;
otherwise it runs the detector and returns the new result with the batch
(:meth:`RowDetections.find`). The main process collects those and merges them into the
cache file after the pass (``fer_bench.datasets.loader.ImageLoader``), so every encoder,
protocol and ``datasets prepare --detect`` shares one detection per image.

A row whose pixel file is shared with other rows (rows of one CSV) or missing has no key:
it is detected every time and never stored.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.file_digests import MISSING, file_digests
from fer_bench.images.detections import (DetectionCache, decode, detect, detector_spec,
                                         encode)
from fer_bench.images.face_detect import FaceDetection
from fer_bench.paths import cache_dir


def row_keys(dataset: Dataset) -> list[str | None]:
    """Per row, the sha256 of its pixel file, or None when the file is missing or holds
    the pixels of other rows too."""
    files = [str(f) for f in dataset.pixel_files()]
    uses = Counter(files)
    return [d if d != MISSING and uses[f] == 1 else None
            for f, d in zip(files, file_digests(files))]


@dataclass
class RowDetections:
    """The detections a loader pass starts with; picklable, so it travels to workers."""
    crop_spec: dict
    keys: list[str | None]                  # per row (see row_keys)
    known: dict[str, list | None] = field(default_factory=dict)   # key -> stored result
    cache: DetectionCache | None = None     # where new results go (main process)

    def find(self, row: int, image) -> tuple[FaceDetection | None, tuple | None]:
        """The row's detection, from the cache or fresh, and (key, result) to store when
        it was fresh and the row has a key (else None)."""
        key = self.keys[row]
        if key is not None and key in self.known:
            return decode(self.known[key]), None
        found = detect(image, self.crop_spec)
        return found, (None if key is None else (key, encode(found)))

    def cached(self, row: int) -> bool:
        key = self.keys[row]
        return key is not None and key in self.known

    def save(self, new: dict[str, list | None]) -> None:
        """Store fresh results (main process): in the cache file and in ``known``."""
        if new and self.cache is not None:
            self.cache.save(new)
        self.known.update(new)


def row_detections(dataset: Dataset) -> RowDetections | None:
    """The cached detections of ``dataset``'s rows under its crop's detector; None when
    its face crop runs no detector (no crop, or the manifest's boxes)."""
    spec = dataset.face_crop
    if detector_spec(spec) is None:
        return None
    keys = row_keys(dataset)
    cache = DetectionCache(cache_dir(), dataset.name, spec)
    stored = cache.load()
    known = {k: stored[k] for k in keys if k is not None and k in stored}
    return RowDetections(spec, keys, known, cache)
