"""dlib's face-recognition ResNet in torch, with its weights read from dlib's own ``.dat``.

dlib runs this network on one thread with its own (non-BLAS) convolutions: about 75 ms a
face here. The same network in torch takes a few milliseconds, uses every core and any
device, and needs no dlib. It is the same computation in another float32 kernel, so the
descriptors agree with dlib's to rounding (the parity test states the tolerance), not bit
for bit; ``dlib-face`` therefore names its runtime in its revision.

The file format (dlib's ``serialize``): integers are a control byte (byte count in the low
bits, 0x80 for negative) then that many little-endian bytes; strings are a length then the
bytes; a tensor is version 2, four dimensions (N, K, R, C) and raw little-endian float32.
Layers are written input side first, each opening with a version string (``con_4``,
``affine_``, ``max_pool_2``, ``avg_pool_2``, ``fc_2``). Only those carry what the forward
pass needs; the reader finds each in turn, reads it whole and checks its sizes, and the
network's shape (which block downsamples, how many channels) comes from the file.

The architecture (dlib's ``dnn_face_recognition_ex.cpp``): a 7x7/2 convolution with 32
filters, 3x3/2 max pooling, then residual blocks of two 3x3 convolutions, each followed
by a per-channel affine (frozen batch norm). A downsampling block's first convolution has
stride 2 and no padding, and its shortcut is 2x2/2 average pooling. When the two branches
differ in channels or size, dlib adds them zero-padded at the end (more channels, extra
bottom rows and right columns). Global average pooling and a 256 -> 128 matrix without
bias give the descriptor. The input is RGB (pixel - channel mean) / 256.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

_LAYER_TAG = re.compile(rb"\x01([\x03-\x20])(input_rgb_image_sized|con_4|affine_2?|"
                        rb"max_pool_2|avg_pool_2|fc_2)")


class DlibFormatError(ValueError):
    """The file is not the dlib face-recognition network this reader knows."""


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def fail(self, what: str) -> DlibFormatError:
        return DlibFormatError(f"{self.path}: {what} at byte {self.pos}; expected dlib's "
                               "face-recognition ResNet (dlib_face_recognition_resnet_model_v1"
                               ".dat)")

    def int(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("file ends inside a layer")
        control = self.data[self.pos]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise self.fail(f"not a dlib integer (control byte {control:#x})")
        raw = self.data[self.pos + 1:self.pos + 1 + size]
        self.pos += 1 + size
        value = int.from_bytes(raw, "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        """dlib's portable float: an integer mantissa and a base-2 exponent."""
        mantissa, exponent = self.int(), self.int()
        if exponent >= 32000:
            raise self.fail("infinite or NaN constant")
        return float(np.float32(mantissa * 2.0 ** exponent))

    def shape(self, version: int) -> tuple[int, ...]:
        if self.int() != version:
            raise self.fail(f"tensor header without version {version}")
        return tuple(self.int() for _ in range(4))

    def tensor(self) -> np.ndarray:
        dims = self.shape(2)
        count = int(np.prod(dims))
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self.fail(f"tensor of {count} floats runs past the end of the file")
        values = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos = end
        return values

    def ints(self, n: int) -> list[int]:
        return [self.int() for _ in range(n)]


@dataclass
class Layer:
    kind: str                      # conv | affine | max_pool | avg_pool | fc | input
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    window: tuple[int, int] = (0, 0)
    stride: int = 1
    padding: int = 0


def _conv(r: _Reader) -> Layer:
    params = r.tensor()
    n_filters, nr, nc, stride_y, stride_x, pad_y, pad_x = r.ints(7)
    filters, _biases = r.shape(1), r.shape(1)
    n_weights = int(np.prod(filters))
    if filters[0] != n_filters or filters[2:] != (nr, nc) or stride_y != stride_x \
            or pad_y != pad_x or params.size != n_weights + n_filters:
        raise r.fail(f"inconsistent convolution ({filters}, stride {stride_y}x{stride_x}, "
                     f"{params.size} parameters)")
    return Layer("conv", {"weight": params[:n_weights].reshape(filters),
                          "bias": params[n_weights:]}, (nr, nc), stride_y, pad_y)


def _affine(r: _Reader) -> Layer:
    params = r.tensor()
    gamma, _beta = r.shape(1), r.shape(1)
    channels = int(np.prod(gamma))
    if params.size != 2 * channels:
        raise r.fail(f"affine layer with {params.size} parameters for {channels} channels")
    return Layer("affine", {"gamma": params[:channels], "beta": params[channels:]})


def _pool(kind: str):
    def read(r: _Reader) -> Layer:
        nr, nc, stride_y, stride_x, pad_y, pad_x = r.ints(6)
        if stride_y != stride_x or pad_y != pad_x or nr != nc:
            raise r.fail("non-square pooling")
        return Layer(kind, window=(nr, nc), stride=stride_y, padding=pad_y)
    return read


def _fc(r: _Reader) -> Layer:
    n_out, n_in = r.ints(2)
    params = r.tensor()
    if params.size != n_in * n_out:
        raise r.fail(f"fc layer with {params.size} parameters for {n_in} -> {n_out}")
    return Layer("fc", {"weight": params.reshape(n_in, n_out)})


def _input(r: _Reader) -> Layer:
    mean = np.array([r.float() for _ in range(3)], np.float32)
    return Layer("input", {"mean": mean}, window=tuple(r.ints(2)))


_READERS = {b"input_rgb_image_sized": _input, b"con_4": _conv, b"affine_": _affine,
            b"affine_2": _affine, b"max_pool_2": _pool("max_pool"),
            b"avg_pool_2": _pool("avg_pool"), b"fc_2": _fc}


def read_layers(path: str | Path) -> list[Layer]:
    """The network's parameterised and pooling layers, input side first."""
    path = Path(path)
    r = _Reader(path.read_bytes(), path)
    layers = []
    while (match := _LAYER_TAG.search(r.data, r.pos)) is not None:
        if match.group(1)[0] != len(match.group(2)):
            r.pos = match.start() + 1
            continue
        r.pos = match.end()
        layers.append(_READERS[match.group(2)](r))
    return layers


class _Block(nn.Module):
    """conv-affine-relu-conv-affine, plus the shortcut, then relu."""

    def __init__(self, conv1: Layer, affine1: Layer, conv2: Layer, affine2: Layer,
                 shortcut_pool: Layer | None):
        super().__init__()
        self.conv1, self.conv2 = _torch_conv(conv1, affine1), _torch_conv(conv2, affine2)
        self.pool = shortcut_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.conv1(x)))
        skip = x if self.pool is None else F.avg_pool2d(x, self.pool.window, self.pool.stride)
        return F.relu(_padded_sum(y, skip))


def _padded_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add of unequal tensors: each is zero-extended to the larger channel count,
    height and width (at the end), then they are added."""
    if a.shape == b.shape:
        return a + b
    size = [max(p, q) for p, q in zip(a.shape[1:], b.shape[1:])]

    def grow(t):
        return F.pad(t, (0, size[2] - t.shape[3], 0, size[1] - t.shape[2],
                         0, size[0] - t.shape[1]))
    return grow(a) + grow(b)


def _torch_conv(conv: Layer, affine: Layer) -> nn.Conv2d:
    """A convolution with the affine that follows it folded in: gamma * (w * x + b) + beta
    = (gamma w) * x + (gamma b + beta)."""
    weight = torch.from_numpy(conv.arrays["weight"].copy())
    gamma = torch.from_numpy(affine.arrays["gamma"].copy())
    if len(gamma) != weight.shape[0]:
        raise DlibFormatError(f"affine of {len(gamma)} channels after a convolution of "
                              f"{weight.shape[0]} filters")
    out = nn.Conv2d(weight.shape[1], weight.shape[0], conv.window, conv.stride, conv.padding)
    with torch.no_grad():
        out.weight.copy_(weight * gamma.view(-1, 1, 1, 1))
        out.bias.copy_(torch.from_numpy(conv.arrays["bias"].copy()) * gamma
                       + torch.from_numpy(affine.arrays["beta"].copy()))
    return out


class DlibFaceNet(nn.Module):
    """uint8-valued RGB chips (N, 3, 150, 150), as floats 0..255 -> (N, 128) descriptors."""

    def __init__(self, layers: list[Layer]):
        super().__init__()
        kinds = [layer.kind for layer in layers]
        if len(kinds) < 6 or kinds[:4] != ["input", "conv", "affine", "max_pool"] \
                or kinds[-2:] != ["avg_pool", "fc"]:
            raise DlibFormatError(f"unexpected layer sequence {kinds[:4]} ... {kinds[-2:]}")
        self.register_buffer("mean", torch.from_numpy(layers[0].arrays["mean"]).view(1, 3, 1, 1))
        self.size = layers[0].window
        self.stem = _torch_conv(layers[1], layers[2])
        self.stem_pool = layers[3]
        blocks, rest = [], layers[4:-2]
        while rest:
            if [layer.kind for layer in rest[:4]] != ["conv", "affine", "conv", "affine"]:
                raise DlibFormatError(f"a residual block should be conv, affine, conv, "
                                      f"affine; found {[layer.kind for layer in rest[:4]]}")
            down = len(rest) > 4 and rest[4].kind == "avg_pool"
            blocks.append(_Block(*rest[:4], rest[4] if down else None))
            rest = rest[5 if down else 4:]
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(*layers[-1].arrays["weight"].shape, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(layers[-1].arrays["weight"].T.copy()))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x = self.stem((rgb - self.mean) / 256.0)
        x = F.max_pool2d(F.relu(x), self.stem_pool.window, self.stem_pool.stride,
                         self.stem_pool.padding)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def load_dlib_face_net(path: str | Path) -> DlibFaceNet:
    try:
        return DlibFaceNet(read_layers(path)).eval()
    except DlibFormatError as error:
        if str(path) in str(error):
            raise
        raise DlibFormatError(f"{path}: {error}; expected dlib's face-recognition ResNet "
                              "(dlib_face_recognition_resnet_model_v1.dat)") from None
