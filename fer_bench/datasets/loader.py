"""Dataset rows -> batches of uint8 encoder inputs, decoded in DataLoader workers.

A worker reads a row (``dataset.read_image``: torchvision.io decoding), applies the
dataset's face-crop hook, and runs the integer stage of the encoder's preprocessing
(:meth:`Preprocessing.resize_uint8`: channel count and input size) so that images of
any size batch together. Float conversion and normalisation stay inside
``Encoder.embed``: the loader path and ``encoder.embed(raw_image)`` give identical
features, and batches cross the process boundary as uint8 (4x less than float).

A row that cannot be read comes back as :class:`BadImage` instead of an exception, so
the caller raises one clean error naming the file (not a worker traceback) and keeps
the work it already finished.

Face detection (datasets whose crop runs a detector) happens in the workers too, with a
look-up first: :func:`image_loader` hands them the detections the cache already holds
for the rows (:func:`fer_bench.datasets.detections.row_detections`); a row not found
there is detected in the worker, and the new result travels back with its batch
(:attr:`ImageBatch.detections`). :class:`ImageLoader` collects those in the main process
and merges them into the cache when the pass ends or stops (and every 500 new ones), so
no worker writes the cache file and the next encoder runs no detector.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader

from fer_bench.runtime import worker_count
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.detections import RowDetections, row_detections
from fer_bench.images.decode import ImageDecodeError
from fer_bench.images.facecrop import apply_face_crop
from fer_bench.images.preprocess import Preprocessing


def default_workers() -> int:
    """Image-decoding DataLoader workers: up to 4 keep a ResNet-18 fed on a CPU."""
    return worker_count(4)


@dataclass(frozen=True)
class BadImage:
    """A row whose image could not be read or cropped."""
    row: int
    message: str


@dataclass(frozen=True)
class ImageBatch:
    rows: torch.Tensor          # int64 (B,): manifest rows, in batch order
    images: torch.Tensor        # uint8 (B, C, S, S)
    # (content digest, stored form) of the face detections run for this batch, not cached
    detections: tuple = ()

    def pin_memory(self) -> ImageBatch:  # DataLoader(pin_memory=True) calls this
        return ImageBatch(self.rows.pin_memory(), self.images.pin_memory(), self.detections)


class EncoderInputs(torch.utils.data.Dataset):
    """Map-style view of a dataset: row -> (row, uint8 (C, S, S), new detection or None)
    ready to batch. ``detections``: the cached ones, for datasets with a detector crop."""

    def __init__(self, dataset: Dataset, preprocessing: Preprocessing,
                 detections: RowDetections | None = None):
        self.dataset = dataset
        self.preprocessing = preprocessing
        self.detections = detections

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, row: int) -> tuple[int, torch.Tensor, tuple | None] | BadImage:
        ds = self.dataset
        try:
            image = ds.read_image(row)
            new = None
            if self.detections is None:
                image = apply_face_crop(image, ds.box(row), ds.face_crop)
            else:
                found, new = self.detections.find(row, image)
                image = apply_face_crop(image, ds.box(row), ds.face_crop,
                                        detect=lambda _image: found)
            return row, self.preprocessing.resize_uint8(image).contiguous(), new
        except (ImageDecodeError, DatasetError, ValueError, OSError) as e:
            return BadImage(row, f"{type(e).__name__}: {e}")


def collate_images(items: list) -> ImageBatch | BadImage:
    for item in items:
        if isinstance(item, BadImage):
            return item
    rows = torch.tensor([row for row, _, _ in items], dtype=torch.int64)
    return ImageBatch(rows, torch.stack([img for _, img, _ in items]),
                      tuple(new for _, _, new in items if new is not None))


class ImageLoader:
    """The DataLoader of :func:`image_loader` (iterate it the same way; other attributes
    are the DataLoader's) that stores the detections its batches bring back."""
    SAVE_EVERY = 500            # new detections kept in memory before a cache write

    def __init__(self, loader: DataLoader, detections: RowDetections | None):
        self.loader = loader
        self.detections = detections

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name):
        if name == "loader":        # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self) -> Iterator[ImageBatch | BadImage]:
        pending: dict = {}
        try:
            for batch in self.loader:
                if isinstance(batch, ImageBatch) and batch.detections:
                    pending.update(batch.detections)
                    if len(pending) >= self.SAVE_EVERY:
                        self.detections.save(pending)
                        pending = {}
                yield batch
        finally:    # also when the caller stops early or raises: keep what was detected
            if pending:
                self.detections.save(pending)


def image_loader(dataset: Dataset, preprocessing: Preprocessing,
                 batches: Sequence[Sequence[int]], *, num_workers: int | None = None,
                 pin_memory: bool = False) -> ImageLoader:
    """Iterate ``batches`` (lists of manifest rows) as :class:`ImageBatch` (or
    :class:`BadImage`), decoding in ``num_workers`` processes (default min(4, CPUs));
    face detections come from and go to the detection cache."""
    num_workers = default_workers() if num_workers is None else num_workers
    detections = row_detections(dataset)
    loader = DataLoader(EncoderInputs(dataset, preprocessing, detections),
                        batch_sampler=batches, num_workers=num_workers,
                        collate_fn=collate_images, pin_memory=pin_memory,
                        persistent_workers=False, prefetch_factor=4 if num_workers else None)
    return ImageLoader(loader, detections)


def raise_bad_image(dataset: Dataset, bad: BadImage) -> None:
    """One clean error for an unreadable row: dataset, sample id, file, reason."""
    try:
        where = str(dataset.image_path(bad.row))
    except Exception:  # readers that keep pixels elsewhere (CSV rows, arrays)
        where = str(dataset.manifest.at[bad.row, "path"])
    sample = dataset.manifest.at[bad.row, "id"]
    raise ImageDecodeError(f"{dataset.name}: cannot read image of sample {sample!r} "
                           f"(row {bad.row}, file {where}): {bad.message}")
