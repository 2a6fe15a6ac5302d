"""``pyemotion``: the expression CNN of the PyEmotion package (MIT; FER2013, 48x48 grey).

The network is re-declared here from ``PyEmotion/networks.py`` (``NetworkV2(in_c=1, nl=32,
out_f=7)``) with the same parameter names, so its checkpoint loads strictly; the package
itself is never imported (its facenet-pytorch dependency pins torch<2.3 and numpy<2).
``main_model.pkl`` is a legacy-format ``torch.save`` of ``{"network": state_dict,
"optimizer": ..., "epochs": 50, "accuracy": 0.9566}``: plain tensors and containers, so
``torch.load(weights_only=True)`` reads it with no allow-listed classes.

Feature: the 256-d hidden layer of the classifier head (``linear.0`` + ReLU), the last
layer before the 7 class scores. Preprocessing follows PyEmotion's ``DetectFace``: grey,
48x48, ``Normalize(0.5, 0.5)``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo, file_digest
from fer_bench.encoder_registry import register_encoder
from fer_bench.fetch import PinnedFile, declare_weights, locate
from fer_bench.images.preprocess import Preprocessing

NAME = "pyemotion"
WEIGHTS = declare_weights(PinnedFile(
    encoder=NAME, distribution="PyEmotion", version="1.0.0",
    member="PyEmotion/model/main_model.pkl",
    sha256="d2789940007ee6175130fefd3ed9a523a1afa4475fbdafbf64f2948db6c29537",
    licence="MIT (c) 2020 Karthick Nagarajan"))
# PyEmotion's DetectFace.emotions, in output order, as canonical names.
CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


def _conv_block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3, stride, 0),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class PyEmotionNet(nn.Module):
    """PyEmotion's NetworkV2 with in_c=1, nl=32, out_f=7: 48 -> 48 -> 24 -> 12 -> 6 px."""

    def __init__(self, width: int = 32, num_classes: int = len(CLASSES)):
        super().__init__()
        self.conv_1 = _conv_block(1, width, 1)
        self.conv_2 = _conv_block(width, 2 * width, 2)
        self.conv_3 = _conv_block(2 * width, 4 * width, 2)
        self.conv_4 = _conv_block(4 * width, 8 * width, 2)
        self.linear = nn.Sequential(nn.Linear(8 * width * 6 * 6, 256), nn.ReLU(inplace=True),
                                    nn.Linear(256, num_classes), nn.Sigmoid())

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_4(self.conv_3(self.conv_2(self.conv_1(x))))
        return self.linear[1](self.linear[0](x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-class sigmoid scores, as PyEmotion computes them (argmax = its prediction)."""
        return self.linear[3](self.linear[2](self.features(x)))


def load_pyemotion_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``network`` state dict of a PyEmotion checkpoint, read weights-only."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle and zip errors have many types; name the file
        raise ValueError(f"{path}: not a weights-only torch checkpoint "
                         f"({type(e).__name__}: {e})") from None
    state = ckpt.get("network") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected PyEmotion's checkpoint, a dict with a 'network' "
                         f"state dict; got {type(ckpt).__name__}"
                         + (f" with keys {sorted(ckpt)[:6]}" if isinstance(ckpt, dict) else ""))
    return state


class PyEmotionEncoder(Encoder):
    def __init__(self, info: EncoderInfo, device, weights: Path | None):
        super().__init__(info, device)
        self.weights = weights

    def build(self) -> nn.Module:
        net = PyEmotionNet()
        path = self.weights or locate(WEIGHTS[0])
        net.load_state_dict(load_pyemotion_state(path), strict=True)
        return net

    def forward_features(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return model.features(x)


@register_encoder(NAME)
def make_pyemotion(weights: str | None = None, device: str = "cpu") -> Encoder:
    """PyEmotion 1.0.0's FER2013 CNN; weights via `fer-bench encoders fetch pyemotion`."""
    path = Path(weights) if weights else None
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"--weights {path}: no such file (a PyEmotion main_model.pkl)")
    info = EncoderInfo(
        name=NAME,
        revision="PyEmotion-1.0.0",
        embed_dim=256,
        preprocessing=Preprocessing(input_size=48, channels="grey", mean=(0.5,), std=(0.5,)),
        layer="linear.1 (256-d hidden layer of the head, after ReLU)",
        weights_digest=file_digest(path) if path else WEIGHTS[0].sha256,
        # Bare (every split): the package says FER2013 but not which rows; its checkpoint
        # claims 95.7% accuracy, far above any FER2013 test score, so it may well have
        # seen test faces.
        pretrained_on=("fer2013-images",),
        pretrain_classes=CLASSES,
        licence=WEIGHTS[0].licence,
        description="PyEmotion 1.0.0 expression CNN (4 conv blocks + MLP head, trained on "
                    "FER2013 by the package author); 256-d penultimate features.",
        extra={"source": WEIGHTS[0].requirement, "class_order": list(CLASSES)},
    )
    return PyEmotionEncoder(info, device, path)
