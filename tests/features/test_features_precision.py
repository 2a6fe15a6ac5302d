"""Extraction precision: fp32 (today's features and keys, unchanged) or bf16 autocast,
whose features are other numbers and so live under a key of their own."""
from __future__ import annotations

import hashlib
import socket

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from features_support import TinyEncoder, png_dataset, write_images

import fer_bench.datasets.registry as registry
from fer_bench.cli import main
from fer_bench.features.entry import read_entry
from fer_bench.features.key import canonical_json, feature_key, key_inputs
from fer_bench.features.store import FeatureStore

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class _Rows:
    """What the key reads of a dataset, fixed."""
    face_crop = {"detector": "haar", "margin": 0.2}

    def manifest_digest(self):
        return "m" * 64

    def content_digest(self):
        return "c" * 64


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("img")
    write_images(root, 12)
    return png_dataset(root)


def _bf16(encoder):
    encoder.precision = "bf16"
    return encoder


def _get(store, encoder, dataset):
    return store.get(encoder, dataset, batch_size=4, num_workers=0, progress=False)


def test_fp32_keys_are_todays_keys(dataset):
    # computed by the key function before precision existed, for these inputs
    assert feature_key(TinyEncoder().info, _Rows()) == (
        "7db6e685b65457c42e3b12c1b24a999a088905553386261eb680e354e87f26d7")
    info = TinyEncoder().info
    inputs = key_inputs(info, dataset)
    assert "precision" not in inputs
    assert key_inputs(info, dataset, "fp32") == inputs
    assert feature_key(info, dataset, "fp32") == feature_key(info, dataset) == (
        hashlib.sha256(canonical_json(inputs).encode()).hexdigest())


def test_bf16_has_a_key_of_its_own(dataset):
    info = TinyEncoder().info
    assert key_inputs(info, dataset, "bf16") == {**key_inputs(info, dataset), "precision": "bf16"}
    assert feature_key(info, dataset, "bf16") != feature_key(info, dataset)
    assert feature_key(info, _Rows(), "bf16") == feature_key(info, _Rows(), "bf16")


def test_unknown_precision_is_refused(dataset):
    with pytest.raises(ValueError, match="precision"):
        TinyEncoder().precision = "fp16"
    with pytest.raises(ValueError, match="precision"):
        feature_key(TinyEncoder().info, dataset, "int8")


def test_bf16_forward_gives_other_float32_features():
    images = torch.randint(0, 256, (6, 3, 20, 20), dtype=torch.uint8)
    fp32, bf16 = TinyEncoder().embed(images), _bf16(TinyEncoder()).embed(images)
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape
    assert not torch.equal(bf16, fp32)  # the product ran in bf16 (8-bit mantissa)
    cosine = torch.nn.functional.cosine_similarity(bf16, fp32)
    assert cosine.min() > 0.99
    assert torch.equal(TinyEncoder().embed(images), fp32)  # fp32: the same bytes again


def test_store_keeps_bf16_and_fp32_entries_apart(tmp_path, dataset):
    store = FeatureStore(tmp_path, shard_size=4)
    fp32 = _get(store, TinyEncoder(), dataset)
    assert store.lookup(TinyEncoder().info, dataset, "bf16") is None
    bf16 = _get(store, _bf16(TinyEncoder()), dataset)
    assert bf16.key == feature_key(TinyEncoder().info, dataset, "bf16") != fp32.key
    assert bf16.meta["key_inputs"]["precision"] == "bf16"
    assert "precision" not in fp32.meta["key_inputs"]
    read_entry(bf16.path, key=bf16.key)  # its key inputs hash to its key
    assert store.lookup(TinyEncoder().info, dataset).key == fp32.key
    assert store.lookup(TinyEncoder().info, dataset, "bf16").key == bf16.key
    assert not np.array_equal(np.asarray(bf16.X), np.asarray(fp32.X))
    again = TinyEncoder()
    assert _get(store, _bf16(again), dataset).key == bf16.key and not again.loaded


def test_extract_command_takes_precision(tmp_path, dataset, monkeypatch):
    monkeypatch.setattr(registry, "load_dataset", lambda spec, root=None: dataset)

    def extract(*more):
        return CliRunner().invoke(main, [
            "extract", "--encoder", "features_support:tiny_encoder", "--dataset", "tiny-pngs",
            "--cache-dir", str(tmp_path), "--workers", "0", "--device", "cpu", *more])

    plain = extract()
    assert plain.exit_code == 0, plain.output
    assert "bf16" not in plain.output
    first = extract("--precision", "bf16")
    assert first.exit_code == 0, first.output
    assert "tiny-pngs/train: 9 x 8  extracted" in first.output and "bf16" in first.output
    assert "tiny-pngs/train: 9 x 8  cached  bf16" in extract("--precision", "bf16").output
    store = FeatureStore.in_cache(tmp_path)
    assert store.lookup(TinyEncoder().info, dataset.subset("train"), "bf16") is not None
    assert extract("--precision", "fp16").exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_extraction_writes_the_bf16_entry(tmp_path, dataset, monkeypatch):
    """A world of one (gloo) writes the entry a single process writes: same key, bytes."""
    from fer_bench.features.distributed import extract_distributed

    for name, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
                        "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1"}.items():
        monkeypatch.setenv(name, value)
    merged = extract_distributed(FeatureStore(tmp_path / "a", shard_size=4),
                                 _bf16(TinyEncoder()), dataset, batch_size=4, num_workers=0)
    single = _get(FeatureStore(tmp_path / "b", shard_size=4), _bf16(TinyEncoder()), dataset)
    assert merged.key == single.key == feature_key(TinyEncoder().info, dataset, "bf16")
    np.testing.assert_array_equal(np.asarray(merged.X), np.asarray(single.X))


@pytest.mark.gpu
@needs_cuda
def test_cuda_bf16_resnet_features_agree_with_fp32():
    from fer_bench.encoder_registry import get_encoder

    images = torch.randint(0, 256, (64, 3, 112, 112), dtype=torch.uint8)
    fp32 = get_encoder("random-resnet18", device="cuda").embed(images)
    bf16 = _bf16(get_encoder("random-resnet18", device="cuda")).embed(images)
    assert not torch.equal(fp32, bf16)
    assert torch.nn.functional.cosine_similarity(fp32, bf16).min() > 0.99
