"""Embedding shards of dataset rows: image loader -> sealed ``Encoder.embed``.

Batches never cross a shard boundary, so every shard is computed from the same batches
whether the extraction runs at once, resumes, or is split across ranks: the result does
not depend on how the work was cut.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.loader import BadImage, image_loader, raise_bad_image
from fer_bench.encoder import Encoder


def shard_batches(ranges: Sequence[tuple[int, int]], batch_size: int) -> list[list[int]]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    return [list(range(b, min(b + batch_size, stop)))
            for start, stop in ranges for b in range(start, stop, batch_size)]


def iter_shard_features(encoder: Encoder, dataset: Dataset, ranges: Sequence[tuple[int, int]],
                        *, batch_size: int = 64, num_workers: int | None = None,
                        progress=None) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, stop, features)`` for each row range, in order, as each finishes.

    ``progress``: optional callable taking the number of rows just embedded.
    """
    ranges = [r for r in ranges if r[1] > r[0]]
    if not ranges:
        return
    batches = shard_batches(ranges, batch_size)
    loader = image_loader(dataset, encoder.info.preprocessing, batches,
                          num_workers=num_workers, pin_memory=encoder.device.type == "cuda")
    pending = iter(ranges)
    start, stop = next(pending)
    parts: list[np.ndarray] = []
    filled = start
    for batch in loader:
        if isinstance(batch, BadImage):
            raise_bad_image(dataset, batch)
        rows = batch.rows.numpy()
        if rows[0] != filled:  # the loader keeps batch order; anything else is a bug
            raise RuntimeError(f"image loader returned rows {rows[0]}.. while {filled} was due")
        parts.append(encoder.embed(batch.images).numpy())
        filled += len(rows)
        if progress is not None:
            progress(len(rows))
        if filled == stop:
            yield start, stop, np.concatenate(parts)
            parts = []
            nxt = next(pending, None)
            if nxt is None:
                break
            start, stop = nxt
            filled = start

