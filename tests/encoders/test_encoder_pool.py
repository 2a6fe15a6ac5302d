"""ChunkPool: chunks over worker processes, back in order, the bytes of one process (the
lbp and hog parity over workers is in test_encoder_pretrained_classic.py, dlib-face's in
test_encoder_pretrained_dlib.py)."""
from __future__ import annotations

from functools import partial

import numpy as np

from fer_bench.encoder_pool import ChunkPool

# Spawned workers import this module to rebuild row_sums: keep its imports light.


def row_sums(scale: float):
    """A per-chunk function built in the worker: each image's sum, times ``scale``."""
    return lambda images: (images.reshape(len(images), -1).sum(axis=1, keepdims=True)
                           * scale).astype(np.float32)


def test_chunks_come_back_in_order_and_equal_one_process():
    images = np.arange(40 * 3 * 3, dtype=np.uint8).reshape(40, 3, 3)
    one = ChunkPool(partial(row_sums, 0.5), workers=1)
    two = ChunkPool(partial(row_sums, 0.5), workers=2)
    try:
        expected = images.reshape(40, -1).sum(axis=1, keepdims=True) * 0.5
        assert np.array_equal(one(images), expected)
        assert np.array_equal(two(images), expected)
        assert two._executor is not None          # the batch really went to the workers
        small = images[:5]                         # too few images to split: in-process
        assert np.array_equal(two(small), expected[:5])
    finally:
        two.close()
