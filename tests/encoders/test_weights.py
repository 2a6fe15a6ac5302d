"""fer-bench's encoder weights format, and safe loading of official CRS-CONT checkpoints."""
from __future__ import annotations

import argparse
import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from fer_bench.encoders.resnet import build_resnet18_trunk
from fer_bench.weights import (FORMAT, INDEX_NAME, WeightsError, load_encoder_weights,
                               load_official_crs_checkpoint, read_encoder_metadata,
                               save_encoder_weights, tensor_digest)

META = {"encoder": "crs-cont", "revision": "test", "input_size": 64,
        "pretrained_on": ["synth-wild"], "lr": 0.5}


def small_state(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"conv.weight": torch.randn(8, 3, 3, 3, generator=g),   # 864 bytes in fp32
            "bn.weight": torch.rand(8, generator=g) + 0.5,
            "bn.num_batches_tracked": torch.tensor(7),
            "fc.weight": torch.randn(4, 8, generator=g)}


def test_single_file_round_trip_fp32(tmp_path):
    state = small_state()
    files = save_encoder_weights(state, tmp_path / "w.safetensors", META, dtype=torch.float32)
    assert files == [tmp_path / "w.safetensors"]
    loaded, meta = load_encoder_weights(files[0])
    assert loaded.keys() == state.keys()
    for k in state:
        assert torch.equal(loaded[k], state[k])
    assert loaded["bn.num_batches_tracked"].dtype == torch.int64
    assert meta["format"] == FORMAT and meta["pretrained_on"] == ["synth-wild"]
    assert meta["tensor_digest"] == tensor_digest(state)


def test_fp16_export_halves_the_file_and_loads_as_float32(tmp_path):
    state = small_state()
    [f16] = save_encoder_weights(state, tmp_path / "h.safetensors", META)  # fp16 by default
    [f32] = save_encoder_weights(state, tmp_path / "f.safetensors", META, dtype=torch.float32)
    with safe_open(str(f16), framework="pt") as f:
        assert f.get_tensor("conv.weight").dtype == torch.float16
        assert f.get_tensor("bn.num_batches_tracked").dtype == torch.int64  # ints untouched
    loaded, meta = load_encoder_weights(f16)
    assert loaded["conv.weight"].dtype == torch.float32
    assert torch.equal(loaded["conv.weight"], state["conv.weight"].half().float())
    # the digest is of what is stored: fp16 bytes differ from fp32 ones
    assert meta["tensor_digest"] != read_encoder_metadata(f32)["tensor_digest"]
    assert f16.stat().st_size < f32.stat().st_size


def test_sharded_round_trip_has_the_single_file_digest(tmp_path):
    state = small_state()
    [single] = save_encoder_weights(state, tmp_path / "one.safetensors", META)
    files = save_encoder_weights(state, tmp_path / "sharded", META, max_shard_bytes=500)
    # fp16: conv 432 B, fc 64 B, bn 16 B, counter 8 B = 520 B; greedy in sorted name
    # order: bn.num_batches_tracked, bn.weight, conv.weight (456 B) | fc.weight
    assert [f.name for f in files] == ["model-00001-of-00002.safetensors",
                                       "model-00002-of-00002.safetensors", INDEX_NAME]
    index = json.loads((tmp_path / "sharded" / INDEX_NAME).read_text())
    assert index["weight_map"]["fc.weight"] == "model-00002-of-00002.safetensors"
    assert index["metadata"]["total_size"] == 432 + 64 + 16 + 8
    a, meta_a = load_encoder_weights(single)
    for where in (tmp_path / "sharded", tmp_path / "sharded" / INDEX_NAME):
        b, meta_b = load_encoder_weights(where)
        assert meta_b["tensor_digest"] == meta_a["tensor_digest"]
        assert all(torch.equal(a[k], b[k]) for k in a) and a.keys() == b.keys()


def test_no_sharding_below_the_limit(tmp_path):
    files = save_encoder_weights(small_state(), tmp_path / "w.safetensors", META,
                                 max_shard_bytes=1 << 20)
    assert files == [tmp_path / "w.safetensors"] and files[0].is_file()


def test_overwrite_replaces_file_with_shards_and_back(tmp_path):
    out = tmp_path / "w"
    save_encoder_weights(small_state(0), out, META)
    save_encoder_weights(small_state(1), out, META, max_shard_bytes=500)
    assert out.is_dir()
    assert torch.equal(load_encoder_weights(out)[0]["fc.weight"],
                       small_state(1)["fc.weight"].half().float())
    save_encoder_weights(small_state(2), out, META)
    assert out.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_edited_tensor_is_caught_by_the_digest(tmp_path):
    path = tmp_path / "w.safetensors"
    save_encoder_weights(small_state(), path, META)
    header = {"fer_bench": json.dumps(read_encoder_metadata(path))}
    tampered = {k: v.clone() for k, v in load_encoder_weights(path)[0].items()}
    tampered["fc.weight"][0, 0] += 1
    save_file({k: v.half() if v.is_floating_point() else v for k, v in tampered.items()},
              str(path), metadata=header)
    with pytest.raises(WeightsError, match=r"w\.safetensors.*do not match the digest"):
        load_encoder_weights(path)


def test_missing_shard_is_named(tmp_path):
    save_encoder_weights(small_state(), tmp_path / "s", META, max_shard_bytes=500)
    (tmp_path / "s" / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(WeightsError, match="model-00002-of-00002.safetensors, which does not"):
        load_encoder_weights(tmp_path / "s")


def test_foreign_files_are_refused_with_their_name(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(WeightsError, match=r"plain\.safetensors.*not exported by fer-bench"):
        load_encoder_weights(plain)
    future = tmp_path / "future.safetensors"
    save_file({"w": torch.zeros(2)}, str(future),
              metadata={"fer_bench": json.dumps({"format": "fer-bench-encoder/9"})})
    with pytest.raises(WeightsError, match=r"future\.safetensors.*fer-bench-encoder/9"):
        load_encoder_weights(future)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a tensor file")
    with pytest.raises(WeightsError, match=r"junk\.safetensors.*not a safetensors"):
        load_encoder_weights(junk)
    with pytest.raises(WeightsError, match="no such"):
        load_encoder_weights(tmp_path / "absent.safetensors")


def test_export_refuses_nan_and_fp16_overflow(tmp_path):
    with pytest.raises(ValueError, match="bn.weight: holds NaN"):
        save_encoder_weights({**small_state(), "bn.weight": torch.tensor([float("nan")])},
                             tmp_path / "w", META)
    with pytest.raises(ValueError, match="big: values overflow"):
        save_encoder_weights({"big": torch.tensor([1e6])}, tmp_path / "w", META)
    assert not list(tmp_path.iterdir())


def test_digest_depends_on_names_shapes_dtypes_and_values():
    base = {"a": torch.zeros(2, 3)}
    d = tensor_digest(base)
    assert tensor_digest({"a": torch.zeros(2, 3)}) == d
    for other in ({"b": torch.zeros(2, 3)}, {"a": torch.zeros(3, 2)},
                  {"a": torch.zeros(2, 3, dtype=torch.float64)}, {"a": torch.ones(2, 3)}):
        assert tensor_digest(other) != d


# -- official CRS-CONT checkpoints ---------------------------------------------------------
def official_checkpoint(trunk: nn.Module, data_parallel: bool) -> dict:
    """What the authors' pretrain.py saves, built from a torchvision trunk."""
    model = {}
    for key, value in trunk.state_dict().items():
        key = key.replace(".downsample.", ".shortcut.")
        model[f"encoder.module.{key}" if data_parallel else f"encoder.{key}"] = value.clone()
    model.update({"head.0.weight": torch.randn(512, 512), "head.0.bias": torch.zeros(512),
                  "head.2.weight": torch.randn(128, 512), "head.2.bias": torch.zeros(128),
                  "linear_classifier.weight": torch.randn(4, 128),
                  "linear_classifier.bias": torch.zeros(4)})
    opt = argparse.Namespace(model="resnet18", dataset="Mix", size=224, method="CRS-CONT",
                             learning_rate=0.5, lr_decay_epochs=[700, 800, 900])
    return {"opt": opt, "model": model, "optimizer": {"state": {}, "param_groups": []},
            "epoch": 100}


@pytest.mark.parametrize("data_parallel", [False, True])
def test_official_checkpoint_loads_safely(tmp_path, data_parallel):
    torch.manual_seed(0)
    trunk = build_resnet18_trunk()
    path = tmp_path / "last.pth"
    torch.save(official_checkpoint(trunk, data_parallel), path)
    # the pickled Namespace is why a plain weights-only load refuses the file
    with pytest.raises(Exception, match="Namespace"):
        torch.load(path, weights_only=True)
    state, meta = load_official_crs_checkpoint(path)
    expected = trunk.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    assert "layer2.0.downsample.0.weight" in state
    assert meta["input_size"] == 224 and meta["channels"] == "bgr" and meta["epoch"] == 100
    assert meta["pretrained_on"] == ["rafdb", "affectnet"]
    assert meta["opt"]["lr_decay_epochs"] == [700, 800, 900]


class Payload:
    """Stands for any pickled object beyond argparse.Namespace (which could run code)."""


def test_official_loader_refuses_other_pickled_objects(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": {"encoder.conv1.weight": torch.zeros(1)}, "opt": Payload()}, path)
    with pytest.raises(WeightsError, match=r"evil\.pth.*weights-only"):
        load_official_crs_checkpoint(path)


def test_official_loader_names_the_file_without_encoder_keys(tmp_path):
    path = tmp_path / "classifier.pth"
    torch.save({"model": {"fc.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(WeightsError, match=r"classifier\.pth.*no 'encoder\.\*' tensors.*fc"):
        load_official_crs_checkpoint(path)
