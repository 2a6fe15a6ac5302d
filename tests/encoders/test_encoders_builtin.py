"""The built-in encoders: random-resnet18, pixels, crs-cont (weights files, official
checkpoints, shipped revisions)."""
from __future__ import annotations

import argparse
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.encoders import crs_cont
from fer_bench.encoders.random_resnet18 import seeded_init_
from fer_bench.encoders.resnet import build_resnet18_trunk
from fer_bench.weights import WeightsError, save_encoder_weights, tensor_digest

# The feature cache trusts "random-resnet18 seed0" to mean these exact weights on every
# machine; if this digest changes, the init recipe changed and INIT_RECIPE must be bumped.
SEED0_DIGEST = "23caa893c0cd0edbb0be58318a96512140dfd0d9f12a6a53b4c81cce10eff29a"


def faces(n=3, size=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)


@pytest.fixture(scope="module")
def trunk_state():
    torch.manual_seed(1)
    model = build_resnet18_trunk()
    # non-trivial BatchNorm statistics, so a key mix-up would show in the features
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return {k: v.clone() for k, v in model.state_dict().items()}


def reference_features(state, images, size, bgr=False):
    """What a plain torchvision pipeline computes for these weights."""
    model = build_resnet18_trunk()
    model.load_state_dict(state)
    x = torch.nn.functional.interpolate(images.float(), size=(size, size), mode="bilinear",
                                        antialias=True, align_corners=False).round() / 255
    x = x.flip(1) if bgr else x
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        return model.eval()((x - mean) / std)


# -- the ResNet-18 trunk ------------------------------------------------------------------
def test_trunk_is_torchvision_resnet18_without_fc():
    from torchvision.models import resnet18

    keys = set(build_resnet18_trunk().state_dict())
    assert keys == {k for k in resnet18().state_dict() if not k.startswith("fc.")}
    assert build_resnet18_trunk().eval()(torch.zeros(1, 3, 64, 64)).shape == (1, 512)


# -- random-resnet18 ----------------------------------------------------------------------
def test_random_resnet18_init_follows_the_recipe():
    model = seeded_init_(build_resnet18_trunk(), seed=0)
    w = model.conv1.weight  # first conv: the first 64*3*7*7 draws of RandomState(0)
    draws = np.random.RandomState(0).standard_normal(w.numel() + 1) * math.sqrt(2 / (64 * 49))
    assert torch.equal(w.flatten(), torch.from_numpy(draws[:-1].astype(np.float32)))
    assert torch.equal(model.bn1.weight, torch.ones(64)) and not model.bn1.bias.any()
    assert tensor_digest(model.state_dict()) == SEED0_DIGEST


def test_random_resnet18_is_seeded_and_independent_of_global_rng():
    a = get_encoder("random-resnet18")
    torch.manual_seed(123)
    b = get_encoder("random-resnet18", seed=0)
    x = faces()
    assert torch.equal(a.embed(x), b.embed(x))
    c = get_encoder("random-resnet18", seed=1)
    assert (a.info.revision, c.info.revision) == ("seed0", "seed1")
    assert a.info.weights_digest != c.info.weights_digest
    conv = torch.nn.Conv2d(3, 4, 3)
    w0 = seeded_init_(conv, 0).weight.clone()
    assert not torch.equal(w0, seeded_init_(conv, 1).weight)
    assert torch.equal(w0, seeded_init_(conv, 0).weight)


def test_random_resnet18_takes_no_weights():
    with pytest.raises(ValueError, match="takes no --weights"):
        get_encoder("random-resnet18", weights="x.safetensors")


# -- pixels -------------------------------------------------------------------------------
def test_pixels_by_hand():
    enc = get_encoder("pixels", size=2)
    img = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    img[0, :, :2, :2] = 255          # white top-left block, black elsewhere
    img[0, 1, 2:, 2:] = 255          # pure green bottom-right block: luma 150
    out = enc.embed(img)
    # block means -> [255, 0, 0, 150] -> /255 -> (x - 0.5) / 0.5
    expected = torch.tensor([[255.0, 0.0, 0.0, 150.0]]) / 255 * 2 - 1
    torch.testing.assert_close(out, expected)
    assert enc.info.embed_dim == 4 and enc.info.weights_digest == "none"


def test_pixels_default_is_576_d_grey():
    enc = get_encoder("pixels")
    assert enc.info.embed_dim == 576 and enc.info.preprocessing.channels == "grey"
    assert enc.embed(faces(2, size=112)).shape == (2, 576)


# -- crs-cont: fer-bench weights ----------------------------------------------------------
META = {"encoder": "crs-cont", "revision": "unit", "architecture": "resnet18",
        "input_size": 48, "channels": "rgb", "pretrained_on": ["synth-wild", "ferplus"],
        "pretrain_classes": ["neutral", "happiness"], "method": "crs-cont"}


def test_crs_cont_from_fer_bench_file(tmp_path, trunk_state):
    path = tmp_path / "enc.safetensors"
    save_encoder_weights(trunk_state, path, META, dtype=torch.float32)
    enc = get_encoder("crs-cont", weights=str(path))
    info = enc.info
    assert not enc.loaded  # header read only
    assert info.preprocessing.input_size == 48 and info.preprocessing.channels == "rgb"
    assert info.pretrained_on == ("synth-wild", "ferplus")
    assert info.pretrain_classes == ("neutral", "happiness")
    assert info.weights_digest == tensor_digest(trunk_state)
    assert info.revision == f"unit-{info.weights_digest[:8]}"
    x = faces()
    torch.testing.assert_close(enc.embed(x), reference_features(trunk_state, x, 48),
                               rtol=1e-4, atol=1e-5)


def test_crs_cont_sharded_equals_single(tmp_path, trunk_state):
    save_encoder_weights(trunk_state, tmp_path / "one.safetensors", META)
    save_encoder_weights(trunk_state, tmp_path / "many", META, max_shard_bytes=4 << 20)
    one = get_encoder("crs-cont", weights=str(tmp_path / "one.safetensors"))
    many = get_encoder("crs-cont", weights=str(tmp_path / "many"))
    # same digest -> same revision and metadata (only the recorded path differs)
    assert replace(one.info, extra={}) == replace(many.info, extra={})
    x = faces(2)
    assert torch.equal(one.embed(x), many.embed(x))


def test_crs_cont_input_size_option(tmp_path, trunk_state):
    save_encoder_weights(trunk_state, tmp_path / "w.safetensors", META)
    trained = get_encoder("crs-cont", weights=str(tmp_path / "w.safetensors"))
    enc = get_encoder("crs-cont", weights=str(tmp_path / "w.safetensors"), input_size=64)
    assert enc.info.preprocessing.input_size == 64
    assert enc.info.revision == trained.info.revision + "-at64"  # results kept apart
    assert enc.info.preprocessing.mean == (0.485, 0.456, 0.406)


def test_crs_cont_wrong_architecture_names_file_keys_and_shapes(tmp_path, trunk_state):
    bad = dict(trunk_state)
    bad["conv1.weight"] = torch.zeros(64, 1, 7, 7)   # a grey-input stem
    del bad["layer4.1.bn2.weight"]
    bad["fc.weight"] = torch.zeros(7, 512)
    path = tmp_path / "grey_stem.safetensors"
    save_encoder_weights(bad, path, META)
    enc = get_encoder("crs-cont", weights=str(path))
    with pytest.raises(WeightsError) as err:
        enc.embed(faces(1))
    msg = str(err.value)
    assert "grey_stem.safetensors" in msg
    assert "missing keys (1): layer4.1.bn2.weight" in msg
    assert "unexpected keys (1): fc.weight" in msg
    assert "conv1.weight (64, 1, 7, 7) (expected (64, 3, 7, 7))" in msg


def test_crs_cont_refuses_other_architectures_from_the_header(tmp_path, trunk_state):
    path = tmp_path / "r50.safetensors"
    save_encoder_weights(trunk_state, path, {**META, "architecture": "resnet50"})
    with pytest.raises(WeightsError, match=r"r50\.safetensors.*resnet50"):
        get_encoder("crs-cont", weights=str(path))


def test_crs_cont_weights_load_on_first_embed_only(tmp_path, trunk_state, monkeypatch):
    path = tmp_path / "w.safetensors"
    save_encoder_weights(trunk_state, path, META)
    calls = []
    real = crs_cont.load_encoder_weights
    monkeypatch.setattr(crs_cont, "load_encoder_weights", lambda p: calls.append(p) or real(p))
    enc = get_encoder("crs-cont", weights=str(path))
    enc.info.to_dict()
    assert calls == []
    enc.embed(faces(1))
    enc.embed(faces(1))
    assert calls == [path]


# -- crs-cont: official checkpoints -------------------------------------------------------
def test_crs_cont_from_official_checkpoint(tmp_path, trunk_state):
    model = {f"encoder.module.{k.replace('.downsample.', '.shortcut.')}": v
             for k, v in trunk_state.items()}
    model["head.0.weight"] = torch.zeros(512, 512)
    opt = argparse.Namespace(model="resnet18", dataset="RAF-DB", size=96, method="CRS-CONT")
    path = tmp_path / "ckpt_epoch_50.pth"
    torch.save({"opt": opt, "model": model, "optimizer": {}, "epoch": 50}, path)
    enc = get_encoder("crs-cont", weights=str(path))
    pre = enc.info.preprocessing
    assert (pre.channels, pre.input_size) == ("bgr", 96)
    assert enc.info.pretrained_on == ("rafdb",) and "contempt" not in enc.info.pretrain_classes
    assert enc.info.weights_digest == tensor_digest(trunk_state)
    assert enc.info.revision == f"official-{enc.info.weights_digest[:8]}"
    x = faces()
    torch.testing.assert_close(enc.embed(x), reference_features(trunk_state, x, 96, bgr=True),
                               rtol=1e-4, atol=1e-5)


# -- crs-cont: shipped revisions ----------------------------------------------------------
def test_crs_cont_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(crs_cont, "SHIPPED_DIR", tmp_path)
    with pytest.raises(WeightsError, match=r"(?s)no trained weights.*fer-bench pretrain "
                                           r"--method crs-cont.*--weights"):
        get_encoder("crs-cont")


def test_crs_cont_picks_the_best_shipped_revision(tmp_path, monkeypatch, trunk_state):
    monkeypatch.setattr(crs_cont, "SHIPPED_DIR", tmp_path)
    save_encoder_weights(trunk_state, tmp_path / "crs-cont-cpu-ferplus-48.safetensors",
                         {**META, "input_size": 48})
    assert get_encoder("crs-cont").info.revision == "cpu-ferplus-48"
    save_encoder_weights(trunk_state, tmp_path / "crs-cont-gpu-ferplus-112", {**META,
                         "input_size": 112}, max_shard_bytes=16 << 20)
    best = get_encoder("crs-cont")
    assert best.info.revision == "gpu-ferplus-112"
    assert best.info.preprocessing.input_size == 112 and best.info.extra["shipped"]
    chosen = get_encoder("crs-cont", revision="cpu-ferplus-48")
    assert chosen.info.revision == "cpu-ferplus-48"
    with pytest.raises(WeightsError, match="no shipped revision 'x'.*gpu-ferplus-112"):
        get_encoder("crs-cont", revision="x")
    with pytest.raises(ValueError, match="either --weights or revision"):
        get_encoder("crs-cont", weights="w.safetensors", revision="cpu-ferplus-48")


def test_crs_cont_missing_weights_file():
    with pytest.raises(WeightsError, match="nowhere.safetensors do not exist"):
        get_encoder("crs-cont", weights="/nowhere.safetensors")
