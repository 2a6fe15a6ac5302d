"""The feature key changes with what changes features, and with nothing else."""
from __future__ import annotations

import dataclasses
import os

import pytest
from features_support import TinyEncoder, png_dataset, write_images

from fer_bench.encoder import Preprocessing
from fer_bench.features.key import feature_key, key_inputs


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("img")
    write_images(root, 8)
    return png_dataset(root)


def _info(**changes):
    info = TinyEncoder().info
    return dataclasses.replace(info, **changes)


def _copy(dataset):
    return dataset.subset([True] * len(dataset))


def test_key_is_a_sha256_hex_digest_and_stable(dataset):
    key = feature_key(_info(), dataset)
    assert len(key) == 64 and int(key, 16) >= 0
    assert feature_key(_info(), _copy(dataset)) == key


@pytest.mark.parametrize("change", [
    {"revision": "2"},
    {"weights_digest": "sha256:abc"},
    {"layer": "layer3"},
    {"name": "other"},
    {"preprocessing": Preprocessing(input_size=24, mean=(0.5,) * 3, std=(0.25,) * 3)},
    {"preprocessing": Preprocessing(input_size=16, mean=(0.4,) * 3, std=(0.25,) * 3)},
    {"preprocessing": Preprocessing(input_size=16, channels="bgr", mean=(0.5,) * 3,
                                    std=(0.25,) * 3)},
    {"preprocessing": Preprocessing(input_size=16, mean=(0.5,) * 3, std=(0.25,) * 3,
                                    resize="area")},
])
def test_key_changes_with_the_encoder(dataset, change):
    assert feature_key(_info(**change), dataset) != feature_key(_info(), dataset)


def test_key_ignores_encoder_metadata_that_does_not_change_features(dataset):
    described = _info(description="new words", licence="MIT", pretrained_on=("x",))
    assert feature_key(described, dataset) == feature_key(_info(), dataset)


def test_key_ignores_device(dataset):
    cpu, gpu = TinyEncoder(device="cpu"), TinyEncoder(device="cuda:1")
    assert feature_key(cpu.info, dataset) == feature_key(gpu.info, dataset)


def test_key_changes_with_the_manifest(dataset):
    base = feature_key(_info(), dataset)
    renamed = _copy(dataset)
    renamed.manifest.loc[0, "id"] = "other-id"
    moved = _copy(dataset)
    moved.manifest.loc[1, "path"] = "elsewhere.png"
    reordered = _copy(dataset)
    reordered.manifest = reordered.manifest.iloc[::-1].reset_index(drop=True)
    boxed = _copy(dataset)
    boxed.manifest[["box_x", "box_y", "box_w", "box_h"]] = [1, 2, 10, 10]
    keys = {feature_key(_info(), d) for d in (renamed, moved, reordered, boxed)}
    assert base not in keys and len(keys) == 4
    assert feature_key(_info(), dataset.subset("train")) != base


def test_key_changes_with_face_crop_settings(dataset):
    a, b = _copy(dataset), _copy(dataset)
    a.face_crop = {"method": "box", "margin": 0.1}
    b.face_crop = {"method": "box", "margin": 0.2}
    keys = {feature_key(_info(), d) for d in (dataset, a, b)}
    assert len(keys) == 3


def test_key_ignores_labels_subjects_and_split_names(dataset):
    relabelled = _copy(dataset)
    relabelled.manifest["label"] = "anger"
    relabelled.manifest["subject"] = "someone"
    relabelled.manifest["split"] = "train"
    relabelled.classes = ("anger",)
    assert feature_key(_info(), relabelled) == feature_key(_info(), dataset)


def test_key_changes_when_images_are_replaced_in_place(tmp_path):
    write_images(tmp_path, 6)
    before = feature_key(_info(), png_dataset(tmp_path))
    write_images(tmp_path, 6, seed=1)               # same file names, other pixels
    assert feature_key(_info(), png_dataset(tmp_path)) != before


def test_key_sees_a_same_size_rewrite_whose_mtime_was_put_back(tmp_path):
    write_images(tmp_path, 3)
    image = tmp_path / "img0001.png"
    old = os.stat(image)
    before = feature_key(_info(), png_dataset(tmp_path))
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))
    os.utime(image, ns=(old.st_atime_ns, old.st_mtime_ns))      # as `cp -p` or rsync -t do
    assert os.stat(image).st_size == old.st_size
    assert feature_key(_info(), png_dataset(tmp_path)) != before


def test_key_ignores_where_the_labels_came_from_but_not_the_image_bytes(tmp_path):
    write_images(tmp_path, 4)
    ds = png_dataset(tmp_path)
    relabelled = _copy(ds)
    relabelled.manifest["label"] = relabelled.manifest["label"].iloc[::-1].to_numpy()
    assert feature_key(_info(), relabelled) == feature_key(_info(), ds)
    assert key_inputs(_info(), ds)["content_digest"] == ds.content_digest()
