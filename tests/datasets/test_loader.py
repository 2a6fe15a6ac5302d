"""The image loader: workers decode, crop and resize; features match direct embedding."""
from __future__ import annotations

import pytest
import torch
from features_support import TinyEncoder, png_dataset, write_images

from fer_bench.datasets.loader import BadImage, image_loader, raise_bad_image
from fer_bench.images.decode import ImageDecodeError, decode_file
from fer_bench.images.facecrop import apply_face_crop


@pytest.fixture
def dataset(tmp_path):
    write_images(tmp_path / "img", 10)
    return png_dataset(tmp_path / "img")


def _batches(n, size):
    return [list(range(b, min(b + size, n))) for b in range(0, n, size)]


def _loaded(dataset, pre, batch_size=4, workers=0):
    out = list(image_loader(dataset, pre, _batches(len(dataset), batch_size),
                            num_workers=workers))
    assert all(not isinstance(b, BadImage) for b in out)
    return torch.cat([b.rows for b in out]), torch.cat([b.images for b in out])


@pytest.mark.parametrize("channels", ["rgb", "grey"])
def test_loader_yields_the_encoder_input_of_every_row_in_order(dataset, channels):
    pre = TinyEncoder(channels=channels).info.preprocessing
    rows, images = _loaded(dataset, pre)
    assert rows.tolist() == list(range(10))
    assert images.dtype == torch.uint8 and images.shape == (10, pre.in_channels, 16, 16)
    for i in range(10):  # mixed grey / RGB files of different sizes, each resized alone
        assert torch.equal(images[i], pre.resize_uint8(decode_file(dataset.image_path(i))))


def test_loader_features_equal_direct_embedding_of_the_decoded_images(dataset):
    enc = TinyEncoder()
    _, images = _loaded(dataset, enc.info.preprocessing, batch_size=4)
    via_loader = torch.cat([enc.embed(images[b:b + 4]) for b in range(0, 10, 4)])
    # The same rows embedded straight from the decoded files, one at a time: the uint8
    # resize stage is idempotent, so only the network's batch arithmetic could differ.
    direct = torch.cat([enc.embed(decode_file(dataset.image_path(i))[None]) for i in range(10)])
    torch.testing.assert_close(via_loader, direct, rtol=1e-6, atol=1e-6)
    resized = [enc.info.preprocessing.resize_uint8(decode_file(dataset.image_path(i)))
               for i in range(10)]
    same_batches = torch.cat([enc.embed(torch.stack(resized[b:b + 4])) for b in range(0, 10, 4)])
    assert torch.equal(via_loader, same_batches)


def test_worker_processes_give_the_same_batches_as_the_main_process(dataset):
    pre = TinyEncoder().info.preprocessing
    rows0, images0 = _loaded(dataset, pre, workers=0)
    rows2, images2 = _loaded(dataset, pre, workers=2)
    assert torch.equal(rows0, rows2) and torch.equal(images0, images2)


def test_face_crop_hook_runs_before_the_resize(dataset):
    m = dataset.manifest
    m["box_x"], m["box_y"], m["box_w"], m["box_h"] = 2, 3, 12, 10
    dataset.face_crop = {"method": "box", "margin": 0.1}
    pre = TinyEncoder().info.preprocessing
    _, images = _loaded(dataset, pre)
    raw = decode_file(dataset.image_path(0))
    cropped = apply_face_crop(raw, (2, 3, 12, 10), dataset.face_crop)
    assert cropped.shape[1:] != raw.shape[1:]
    assert torch.equal(images[0], pre.resize_uint8(cropped))


def test_unreadable_image_is_reported_with_sample_and_file(dataset):
    dataset.image_path(3).write_bytes(b"\x89PNG not really")
    pre = TinyEncoder().info.preprocessing
    bad = [b for b in image_loader(dataset, pre, _batches(10, 4), num_workers=0)
           if isinstance(b, BadImage)]
    assert [b.row for b in bad] == [3]
    with pytest.raises(ImageDecodeError, match=r"sample 's0003'.*img0003\.png"):
        raise_bad_image(dataset, bad[0])
