"""pyemotion and mini-xception: architecture, checkpoint reading and the Keras port, on
random weights (always), and the real fetched weights when `fer-bench encoders fetch`
has put them in the test cache (skipped otherwise)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from fer_bench.check_encoder import check_encoder
from fer_bench.encoder_registry import get_encoder
from fer_bench.encoders import mini_xception as mx
from fer_bench.encoders import pyemotion as pe
from fer_bench.fetch import WeightsNotFetched, cached_path
from fer_bench.synth import sample_faces
from fer_bench.vocabulary import canonical

h5py = pytest.importorskip("h5py")


def fetched(pin) -> bool:
    return cached_path(pin).is_file()


# -- metadata ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["pyemotion", "mini-xception"])
def test_fer2013_models_declare_their_training_data(name):
    info = get_encoder(name).info
    assert info.pretrained_on == ("fer2013-images",)  # fires the FERPlus overlap flag
    assert sorted(info.pretrain_classes) == sorted(
        ("neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger"))
    assert all(canonical(c) == c for c in info.pretrain_classes)
    assert info.licence.startswith("MIT")
    assert info.preprocessing.channels == "grey"


def test_missing_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    for name in ("pyemotion", "mini-xception"):
        with pytest.raises(WeightsNotFetched, match=f"fer-bench encoders fetch {name}"):
            get_encoder(name).embed(torch.zeros(1, 1, 48, 48, dtype=torch.uint8))


# -- pyemotion ---------------------------------------------------------------------------
# PyEmotion 1.0.0's main_model.pkl "network" entry, as read from the real file.
PYEMOTION_SHAPES = {
    **{f"conv_{i}.1.weight": (c, c_in, 3, 3) for i, c_in, c in
       [(1, 1, 32), (2, 32, 64), (3, 64, 128), (4, 128, 256)]},
    **{f"conv_{i}.{j}.{p}": (c,) for i, c in [(1, 32), (2, 64), (3, 128), (4, 256)]
       for j, p in [(1, "bias"), (2, "weight"), (2, "bias"), (2, "running_mean"),
                    (2, "running_var")]},
    **{f"conv_{i}.2.num_batches_tracked": () for i in range(1, 5)},
    "linear.0.weight": (256, 9216), "linear.0.bias": (256,),
    "linear.2.weight": (7, 256), "linear.2.bias": (7,),
}


def test_pyemotion_net_has_the_checkpoint_layout():
    state = pe.PyEmotionNet().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == PYEMOTION_SHAPES


def random_state(model: torch.nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in model.state_dict().items():
        if k.endswith("running_var"):
            state[k] = torch.rand(v.shape, generator=g) + 0.5
        elif v.is_floating_point():
            state[k] = torch.randn(v.shape, generator=g) * 0.1
        else:
            state[k] = v.clone()
    return state


def test_pyemotion_reads_a_legacy_checkpoint_weights_only(tmp_path):
    state = random_state(pe.PyEmotionNet())
    path = tmp_path / "main_model.pkl"
    # The real file is a pre-1.6 (non-zip) torch.save of this dict.
    torch.save({"network": state, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3}]},
                "epochs": 50, "accuracy": 0.95}, path, _use_new_zipfile_serialization=False)
    enc = get_encoder("pyemotion", weights=str(path))
    assert enc.info.weights_digest != pe.WEIGHTS[0].sha256  # digest of the given file

    images = sample_faces(4, size=64)[0]
    net = pe.PyEmotionNet()
    net.load_state_dict(state)
    net.eval()
    with torch.no_grad():
        expected = net.features(enc.info.preprocessing.apply(images))
    assert torch.allclose(enc.embed(images), expected, atol=1e-5)


class Smuggled:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pyemotion_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pkl"
    torch.save({"network": Smuggled()}, path)
    with pytest.raises(ValueError, match="evil.pkl: not a weights-only torch checkpoint"):
        pe.load_pyemotion_state(path)


def test_pyemotion_rejects_other_checkpoints(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(ValueError, match="'network' state dict; got dict with keys \\['model'\\]"):
        pe.load_pyemotion_state(path)


# -- mini-xception: Keras semantics ------------------------------------------------------
def test_tf_same_max_pool_pads_at_the_end():
    """3x3/2 'same' on 4x4: TF pads one row/column *after* (total 1), so windows start at
    0 and 2 and the second window covers rows/cols 2..3 only."""
    x = torch.arange(16.0).view(1, 1, 4, 4)
    # rows 0-2 x cols 0-2 -> 10; rows 0-2 x cols 2-3 -> 11; rows 2-3 x cols 0-2 -> 14; -> 15
    assert mx.MaxPool2dSame(3, 2)(x).flatten().tolist() == [10.0, 11.0, 14.0, 15.0]
    # torch's symmetric padding=1 would put the windows at -1 and 1 instead:
    assert torch.nn.functional.max_pool2d(x, 3, 2, padding=1).flatten().tolist() == [5, 7, 13, 15]
    # odd 5x5: output 3, total padding 2 = one before, one after (symmetric)
    y = torch.arange(25.0).view(1, 1, 5, 5)
    expected = [-0.0, -1, -3, -5, -6, -8, -15, -16, -18]  # -(top-left of each window)
    assert mx.MaxPool2dSame(3, 2)(-y).flatten().tolist() == expected


def keras_separable_conv(x: np.ndarray, depthwise: np.ndarray, pointwise: np.ndarray) -> np.ndarray:
    """Keras SeparableConv2D(3x3, same, stride 1) by the definition, channels-last:
    (H, W, C) with depthwise (3, 3, C, 1) and pointwise (1, 1, C, O)."""
    h, w, c = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    dw = np.zeros((h, w, c))
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                dw[i, j, ch] = (padded[i:i + 3, j:j + 3, ch] * depthwise[:, :, ch, 0]).sum()
    return dw @ pointwise[0, 0]


def test_separable_conv_port_matches_the_keras_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 6, 3))
    depthwise, pointwise = rng.normal(size=(3, 3, 3, 1)), rng.normal(size=(1, 1, 3, 4))
    layer = mx.SeparableConv2d(3, 4).double()
    perm_dw = mx._KERAS_WEIGHTS["depthwise_kernel"][1]
    perm_pw = mx._KERAS_WEIGHTS["pointwise_kernel"][1]
    layer.depthwise.weight.data = torch.from_numpy(depthwise).permute(*perm_dw).contiguous()
    layer.pointwise.weight.data = torch.from_numpy(pointwise).permute(*perm_pw).contiguous()
    with torch.no_grad():
        out = layer(torch.from_numpy(x).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, keras_separable_conv(x, depthwise, pointwise), atol=1e-10)


def test_keras_batchnorm_epsilon_is_kept():
    bns = [m for m in mx.MiniXception().modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 14 and all(m.eps == 1e-3 for m in bns)


def test_mini_xception_shapes():
    net = mx.MiniXception().eval()
    x = torch.zeros(2, 1, 64, 64)
    assert net.features(x).shape == (2, 128)
    assert net.features(x, "logits").shape == (2, 7)
    assert torch.allclose(net(x).sum(1), torch.ones(2))


def write_keras_file(path, state: dict[str, torch.Tensor]) -> None:
    """An HDF5 file in emotion_model.hdf5's layout (Keras 2.0: model_weights/<layer>/
    <layer>_1/<weight>:0, with a weight_names attribute) holding ``state``."""
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights")
        for module, layer in mx.keras_layer_map().items():
            group = root.create_group(layer)
            names = []
            for kind, (suffix, perm) in mx._KERAS_WEIGHTS.items():
                key = f"{module}.{suffix}"
                is_bn = "batch_normalization" in layer
                if key not in state or (is_bn != (kind in ("gamma", "beta", "moving_mean",
                                                            "moving_variance"))):
                    continue
                value = state[key]
                if perm is not None:  # back to Keras' (kh, kw, in, out) layout
                    value = value.permute(*(int(i) for i in np.argsort(perm)))
                name = f"{layer}_1/{kind}:0"
                group.create_dataset(name, data=value.numpy())
                names.append(name.encode())
            group.attrs["weight_names"] = names
        root.create_group("predictions").attrs["weight_names"] = []


def test_keras_weights_load_into_the_port(tmp_path):
    net = mx.MiniXception()
    state = random_state(net, seed=1)
    path = tmp_path / "emotion_model.hdf5"
    write_keras_file(path, state)
    loaded = mx.load_keras_weights(path)
    assert set(loaded) == set(net.state_dict())
    for k, v in state.items():
        assert torch.equal(loaded[k], v), k
    net.load_state_dict(loaded, strict=True)

    enc = get_encoder("mini-xception", weights=str(path), layer="logits")
    images = sample_faces(3, size=64)[0]
    with torch.no_grad():
        expected = net.eval().features(enc.info.preprocessing.apply(images), "logits")
    assert torch.allclose(enc.embed(images), expected, atol=1e-5)


def test_keras_file_with_unexpected_layers_is_refused(tmp_path):
    state = random_state(mx.MiniXception())
    path = tmp_path / "bigger.hdf5"
    write_keras_file(path, state)
    with h5py.File(path, "a") as f:
        extra = f["model_weights"].create_group("dense_9")
        extra.create_dataset("dense_9_1/kernel:0", data=np.zeros((2, 2)))
        extra.attrs["weight_names"] = [b"dense_9_1/kernel:0"]
    with pytest.raises(ValueError, match="dense_9"):
        mx.load_keras_weights(path)
    with h5py.File(path, "a") as f:
        del f["model_weights/conv2d_7"]
    with pytest.raises(ValueError, match="no Keras layer 'conv2d_7'"):
        mx.load_keras_weights(path)


def test_a_file_that_is_not_hdf5_is_named(tmp_path):
    path = tmp_path / "emotion_model.hdf5"
    path.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(ValueError, match="emotion_model.hdf5: not an HDF5 file"):
        mx.load_keras_weights(path)


def test_unknown_layer_option():
    with pytest.raises(ValueError, match="block4"):
        get_encoder("mini-xception", layer="fc")


# -- real weights (fetched) --------------------------------------------------------------
needs_pyemotion = pytest.mark.skipif(not fetched(pe.WEIGHTS[0]), reason=(
    "PyEmotion weights not fetched: FER_BENCH_CACHE=<test cache> fer-bench encoders fetch "
    "pyemotion"))
needs_mini_xception = pytest.mark.skipif(not fetched(mx.WEIGHTS[0]), reason=(
    "mini-Xception weights not fetched: FER_BENCH_CACHE=<test cache> fer-bench encoders fetch "
    "mini-xception"))


@needs_pyemotion
def test_pyemotion_real_weights_pass_check_encoder():
    report = check_encoder(get_encoder("pyemotion"), n=4)
    assert report.passed, report.format()


@needs_mini_xception
@pytest.mark.parametrize("layer", ["block4", "logits"])
def test_mini_xception_real_weights_pass_check_encoder(layer):
    report = check_encoder(get_encoder("mini-xception", layer=layer), n=4)
    assert report.passed, report.format()


@pytest.mark.realdata
@needs_mini_xception
def test_mini_xception_port_reaches_its_published_fer2013_accuracy():
    """Arriaga et al. report ~66% on FER2013 test; 500 PrivateTest faces, FER2013 labels."""
    import csv
    import os
    from pathlib import Path

    from fer_bench.images.decode import decode_file

    root = Path(os.environ["FER_BENCH_DATA"]) / "ferplus"
    with open(root / "fer2013_original_labels.csv", newline="") as f:
        labels = {r["name"]: int(r["emotion"]) for r in csv.DictReader(f)}
    paths = sorted((root / "FER2013Test").glob("*.png"))[:500]
    enc = get_encoder("mini-xception")
    images = torch.stack([decode_file(p) for p in paths])
    with torch.inference_mode():
        predicted = enc.model(enc.info.preprocessing.apply(images)).argmax(1).numpy()
    truth = np.array([labels[p.name] for p in paths])
    assert (predicted == truth).mean() > 0.6  # a broken port lands near chance (~0.25)


def test_factory_is_cheap_and_info_pickles():
    """Factories stay cheap: no weights are touched to describe an encoder."""
    enc = get_encoder("mini-xception")
    assert not enc.loaded
    assert pickle.loads(pickle.dumps(enc.info)) == enc.info
