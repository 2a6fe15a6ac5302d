"""Per-image encoders over worker processes: the same bytes as one process, in order."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from fer_bench.encoder_pool import ChunkPool
from fer_bench.encoder_registry import get_encoder
from fer_bench.synth import sample_faces


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


@pytest.mark.parametrize("name", ["lbp", "hog"])
def test_descriptors_over_two_workers_are_the_bytes_of_one(name):
    pytest.importorskip("skimage")
    faces, _ = sample_faces(24, size=64, seed=5)
    faces = torch.as_tensor(faces)
    one = get_encoder(name, workers=1).embed(faces).numpy()
    enc = get_encoder(name, workers=2)
    two = enc.embed(faces).numpy()
    assert one.shape == (24, enc.info.embed_dim)
    assert one.tobytes() == two.tobytes()
    # the worker count is not part of the encoder's identity (nor of the feature key)
    assert get_encoder(name, workers=1).info == get_encoder(name, workers=2).info
