"""The torch port of dlib's face-recognition ResNet: the reader on a small network written
in dlib's file format here, its forward pass against a plain NumPy transcription of dlib's
layers (convolution, affine, pooling, zero-extended add), and the error on a bad file.
Parity with dlib's own network on the real weights is in test_encoder_pretrained_dlib."""
from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from fer_bench.encoders.dlib_resnet import (DlibFormatError, _padded_sum, load_dlib_face_net,
                                            read_layers)

# ---- dlib's serialisation, written out from its format description -------------------


def dint(value: int) -> bytes:
    neg, value = (0x80, -value) if value < 0 else (0, value)
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")
    return bytes([len(body) | neg]) + body


def dfloat(value: float) -> bytes:
    mantissa, exponent = float(value).as_integer_ratio()
    shift = exponent.bit_length() - 1     # denominator is a power of two
    return dint(mantissa) + dint(-shift)


def dstr(text: str) -> bytes:
    return dint(len(text)) + text.encode()


def dtensor(values: np.ndarray, dims) -> bytes:
    return dint(2) + b"".join(dint(d) for d in dims) + values.astype("<f4").tobytes()


def alias(dims) -> bytes:
    return dint(1) + b"".join(dint(d) for d in dims)


def con(w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> bytes:
    n, k, r, c = w.shape
    return (dstr("con_4") + dtensor(np.concatenate([w.ravel(), b]), (w.size + n, 1, 1, 1))
            + b"".join(dint(v) for v in (n, r, c, stride, stride, pad, pad))
            + alias(w.shape) + alias((1, n, 1, 1)) + dfloat(1) + dfloat(1) + dfloat(1)
            + dfloat(0))


def affine(gamma: np.ndarray, beta: np.ndarray) -> bytes:
    n = len(gamma)
    return (dstr("affine_") + dtensor(np.concatenate([gamma, beta]), (2 * n, 1, 1, 1))
            + alias((1, n, 1, 1)) + alias((1, n, 1, 1)) + dint(1))


def pool(kind: str, window: int, stride: int) -> bytes:
    return dstr(kind) + b"".join(dint(v) for v in (window, window, stride, stride, 0, 0))


def relu_and_friends() -> bytes:
    """Bytes of the layers the reader skips (versions, flags, empty tensors)."""
    return dint(2) + dstr("relu_") + dint(0) + dtensor(np.zeros(0), (0, 0, 0, 0))


def small_network(rng) -> tuple[bytes, dict]:
    p = {"mean": np.array([120.5, 110.25, 100.0], np.float32)}

    def conv(n, k, size):
        return (rng.normal(0, 0.3, (n, k, size, size)).astype(np.float32),
                rng.normal(0, 0.1, n).astype(np.float32))

    def aff(n):
        return rng.uniform(0.5, 1.5, n).astype(np.float32), rng.normal(0, 0.1, n).astype(
            np.float32)

    p["stem"], p["stem_aff"] = conv(4, 3, 5), aff(4)
    p["b1"] = [conv(4, 4, 3), aff(4), conv(4, 4, 3), aff(4)]
    p["b2"] = [conv(6, 4, 3), aff(6), conv(6, 6, 3), aff(6)]   # downsampling, 4 -> 6 ch
    p["fc"] = rng.normal(0, 0.3, (6, 5)).astype(np.float32)
    blob = (dstr("loss_metric_2") + dfloat(0.04) + dstr("input_rgb_image_sized")
            + b"".join(dfloat(m) for m in p["mean"]) + dint(29) + dint(29)
            + con(*p["stem"], 2, 0) + affine(*p["stem_aff"]) + relu_and_friends()
            + pool("max_pool_2", 3, 2))
    for block, stride in ((p["b1"], 1), (p["b2"], 2)):
        (w1, b1), a1, (w2, b2), a2 = block
        blob += (con(w1, b1, stride, 0 if stride == 2 else 1) + affine(*a1)
                 + relu_and_friends() + con(w2, b2, 1, 1) + affine(*a2))
        if stride == 2:
            blob += pool("avg_pool_2", 2, 2)
        blob += relu_and_friends()
    blob += pool("avg_pool_2", 0, 1) + dstr("fc_2") + dint(5) + dint(6) + dtensor(
        p["fc"].ravel(), (6, 5, 1, 1)) + alias((6, 5, 1, 1)) + alias((0, 0, 0, 0)) + dint(0)
    return blob, p


# ---- dlib's layers in plain NumPy ----------------------------------------------------


def np_conv(x, w, b, stride, pad):
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    k, r, c = w.shape[1:]
    rows, cols = (x.shape[1] - r) // stride + 1, (x.shape[2] - c) // stride + 1
    out = np.empty((w.shape[0], rows, cols), np.float64)
    for i in range(rows):
        for j in range(cols):
            patch = x[:, i * stride:i * stride + r, j * stride:j * stride + c]
            out[:, i, j] = (w * patch).sum(axis=(1, 2, 3)) + b
    return out


def np_pool(x, window, stride, op):
    rows, cols = (x.shape[1] - window) // stride + 1, (x.shape[2] - window) // stride + 1
    return np.stack([[op(x[:, i * stride:i * stride + window, j * stride:j * stride + window],
                        axis=(1, 2)) for j in range(cols)] for i in range(rows)]).transpose(2, 0, 1)


def np_add(a, b):
    shape = np.maximum(a.shape, b.shape)
    out = np.zeros(shape)
    out[:a.shape[0], :a.shape[1], :a.shape[2]] += a
    out[:b.shape[0], :b.shape[1], :b.shape[2]] += b
    return out


def np_forward(image, p):
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    x = (image.astype(np.float64) - p["mean"][:, None, None]) / 256.0
    (w, b), (g, be) = p["stem"], p["stem_aff"]
    x = np_pool(relu(np_conv(x, w, b, 2, 0) * g[:, None, None] + be[:, None, None]), 3, 2,
                np.max)
    for block, stride in ((p["b1"], 1), (p["b2"], 2)):
        (w1, b1), (g1, be1), (w2, b2), (g2, be2) = block
        y = relu(np_conv(x, w1, b1, stride, 0 if stride == 2 else 1) * g1[:, None, None]
                 + be1[:, None, None])
        y = np_conv(y, w2, b2, 1, 1) * g2[:, None, None] + be2[:, None, None]
        skip = x if stride == 1 else np_pool(x, 2, 2, np.mean)
        x = relu(np_add(y, skip))
    return x.mean(axis=(1, 2)) @ p["fc"]


def test_reader_recovers_every_layer(tmp_path):
    blob, p = small_network(np.random.default_rng(0))
    (tmp_path / "net.dat").write_bytes(blob)
    layers = read_layers(tmp_path / "net.dat")
    assert [layer.kind for layer in layers] == (
        ["input", "conv", "affine", "max_pool"] + ["conv", "affine"] * 2
        + ["conv", "affine"] * 2 + ["avg_pool", "avg_pool", "fc"])
    np.testing.assert_array_equal(layers[0].arrays["mean"], p["mean"])
    assert layers[0].window == (29, 29)
    np.testing.assert_array_equal(layers[1].arrays["weight"], p["stem"][0])
    np.testing.assert_array_equal(layers[1].arrays["bias"], p["stem"][1])
    assert (layers[1].stride, layers[1].padding, layers[1].window) == (2, 0, (5, 5))
    np.testing.assert_array_equal(layers[2].arrays["gamma"], p["stem_aff"][0])
    np.testing.assert_array_equal(layers[-1].arrays["weight"], p["fc"])


def test_forward_matches_dlibs_layers_written_out(tmp_path):
    """Shapes chosen so the downsampling block's branches differ in size (6x6 conv output
    against a 7x7 pooled shortcut) as well as in channels: dlib's zero-extended add."""
    rng = np.random.default_rng(1)
    blob, p = small_network(rng)
    (tmp_path / "net.dat").write_bytes(blob)
    net = load_dlib_face_net(tmp_path / "net.dat")
    images = rng.integers(0, 256, (3, 3, 33, 33)).astype(np.float32)
    with torch.no_grad():
        ours = net(torch.from_numpy(images)).numpy()
    expected = np.stack([np_forward(img, p) for img in images])
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)


def test_padded_sum_extends_with_zeros_at_the_end():
    a = torch.arange(8.0).view(1, 2, 2, 2)
    b = torch.ones(1, 1, 3, 3)
    out = _padded_sum(a, b)
    assert out.shape == (1, 2, 3, 3)
    assert out[0, 0].tolist() == [[1, 2, 1], [3, 4, 1], [1, 1, 1]]
    assert out[0, 1].tolist() == [[4, 5, 0], [6, 7, 0], [0, 0, 0]]


@pytest.mark.parametrize("damage", ["truncated", "not-dlib"])
def test_a_damaged_file_names_itself(tmp_path, damage):
    blob, _ = small_network(np.random.default_rng(2))
    bad = tmp_path / "model.dat"
    bad.write_bytes(blob[:len(blob) // 2] if damage == "truncated" else b"\x00" * 64 + blob[-40:])
    with pytest.raises(DlibFormatError, match="model.dat"):
        load_dlib_face_net(bad)


def test_float_encoding_round_trips():
    from fer_bench.encoders.dlib_resnet import _Reader

    for value in (122.782, -0.5, 0.0, 3.0):
        v32 = float(np.float32(value))
        assert _Reader(dfloat(v32), "x").float() == v32
    assert struct.pack("<f", 1.0) == np.float32(1.0).tobytes()
