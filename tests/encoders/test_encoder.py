"""The encoder interface: sealed preprocessing (hand-checked on 2x2 images), metadata
validation, and embed's guarantees (lazy build, dimension, NaN, eval mode)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing

# One 2x2 RGB image; pixel (row, col) values chosen so every step is easy to follow.
RGB = torch.tensor([[[0, 255], [51, 102]],      # R
                    [[255, 0], [51, 204]],      # G
                    [[0, 0], [51, 0]]],         # B
                   dtype=torch.uint8).unsqueeze(0)


def test_rgb_normalisation_by_hand():
    pre = Preprocessing(input_size=2, channels="rgb", mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 1.0))
    x = pre.apply(RGB)
    # R: (v/255 - 0.5) / 0.25 -> 0 -> -2, 255 -> 2, 51 -> (0.2-0.5)/0.25 = -1.2, 102 -> -0.4
    torch.testing.assert_close(x[0, 0], torch.tensor([[-2.0, 2.0], [-1.2, -0.4]]))
    # G: std 0.5 -> 255 -> 1, 0 -> -1, 51 -> -0.6, 204 -> 0.6
    torch.testing.assert_close(x[0, 1], torch.tensor([[1.0, -1.0], [-0.6, 0.6]]))
    # B: std 1 -> 0 -> -0.5, 51 -> -0.3
    torch.testing.assert_close(x[0, 2], torch.tensor([[-0.5, -0.5], [-0.3, -0.5]]))
    assert x.dtype == torch.float32


def test_bgr_swaps_channels():
    pre = Preprocessing(input_size=2, channels="bgr", mean=(0, 0, 0), std=(1, 1, 1))
    x = pre.apply(RGB)
    torch.testing.assert_close(x[0, 0], RGB[0, 2].float() / 255)  # blue first
    torch.testing.assert_close(x[0, 2], RGB[0, 0].float() / 255)


def test_grey_equals_pil_luma():
    pre = Preprocessing(input_size=2, channels="grey", mean=(0.0,), std=(1.0,))
    x = pre.apply(RGB)
    assert x.shape == (1, 1, 2, 2)
    pil = Image.fromarray(RGB[0].permute(1, 2, 0).numpy()).convert("L")
    torch.testing.assert_close(x[0, 0] * 255, torch.from_numpy(np.asarray(pil, np.float32)))
    # ITU-R 601 by hand: pure green 255 -> 0.587 * 255 = 149.7 -> 150; grey 51 stays 51
    assert round(x[0, 0, 0, 0].item() * 255) == 150 and round(x[0, 0, 1, 0].item() * 255) == 51


def test_grey_image_into_colour_encoder_is_replicated():
    grey = torch.tensor([[[[0, 255], [51, 102]]]], dtype=torch.uint8)
    x = Preprocessing(input_size=2, channels="rgb", mean=(0, 0, 0), std=(1, 1, 1)).apply(grey)
    assert x.shape == (1, 3, 2, 2)
    assert torch.equal(x[0, 0], x[0, 2]) and torch.equal(x[0, 0], grey[0, 0].float() / 255)


@pytest.mark.parametrize("resize", ["bilinear-antialias", "bicubic-antialias", "area"])
def test_resize_to_one_pixel_averages(resize):
    # A 2x2 -> 1x1 shrink of any of these filters is the mean of the four pixels.
    pre = Preprocessing(input_size=1, channels="grey", mean=(0.0,), std=(1.0,), resize=resize)
    img = torch.tensor([[[[0, 255], [51, 102]]]], dtype=torch.uint8)
    x = pre.apply(img)
    assert x.shape == (1, 1, 1, 1)
    assert x.item() == pytest.approx((0 + 255 + 51 + 102) / 4 / 255, abs=1e-6)


def test_area_resize_averages_blocks():
    img = torch.arange(16, dtype=torch.uint8).view(1, 1, 4, 4) * 10
    x = Preprocessing(input_size=2, channels="grey", mean=(0.0,), std=(1.0,),
                      resize="area").apply(img)
    # top-left block: 0, 10, 40, 50 -> 25
    assert x[0, 0, 0, 0].item() == pytest.approx(25 / 255, abs=1e-6)


@pytest.mark.parametrize("bad", [torch.zeros(1, 3, 4, 4),                    # float
                                 torch.zeros(3, 4, 4, dtype=torch.uint8),     # no batch dim
                                 torch.zeros(1, 2, 4, 4, dtype=torch.uint8)])  # 2 channels
def test_preprocessing_refuses_non_uint8_images(bad):
    with pytest.raises(ValueError, match="uint8"):
        Preprocessing().apply(bad)


@pytest.mark.parametrize("kwargs, match", [
    (dict(channels="hsv"), "channels"),
    (dict(resize="lanczos"), "resize"),
    (dict(channels="grey"), "1 mean"),             # ImageNet's 3 values for a grey input
    (dict(std=(1.0, 0.0, 1.0)), "positive"),
    (dict(input_size=0), "input_size"),
])
def test_preprocessing_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Preprocessing(**kwargs)


def test_preprocessing_lists_become_tuples():
    a = Preprocessing(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    assert a == Preprocessing(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert a.to_dict()["mean"] == (0.5, 0.5, 0.5)


# -- Encoder.embed --------------------------------------------------------------------------
class Constant(nn.Module):
    def __init__(self, values: torch.Tensor):
        super().__init__()
        self.values = values

    def forward(self, x):
        return self.values.expand(x.shape[0], -1)


class Fixed(Encoder):
    """Returns ``values`` for every image; counts builds."""

    def __init__(self, values, dim=None, name="fixed"):
        values = torch.as_tensor(values, dtype=torch.float32).view(1, -1)
        super().__init__(_info(name, dim or values.shape[1]))
        self.values, self.builds = values, 0

    def build(self):
        self.builds += 1
        return Constant(self.values)


def _info(name="fixed", dim=2) -> EncoderInfo:
    return EncoderInfo(name=name, revision="r1", embed_dim=dim,
                       preprocessing=Preprocessing(input_size=4), layer="out")


def _images(n=3):
    return torch.zeros(n, 3, 4, 4, dtype=torch.uint8)


def test_weights_load_lazily_and_once():
    enc = Fixed([1.0, 2.0])
    assert not enc.loaded and enc.builds == 0
    out = enc.embed(_images(3))
    enc.embed(_images(2))
    assert enc.loaded and enc.builds == 1
    assert out.dtype == torch.float32 and torch.equal(out, torch.tensor([[1.0, 2.0]] * 3))


def test_nan_features_raise_naming_the_encoder():
    enc = Fixed([1.0, float("nan")], name="leaky-nan")
    with pytest.raises(FloatingPointError, match=r"leaky-nan.*r1.*3 of 3"):
        enc.embed(_images(3))


def test_wrong_feature_dimension_raises():
    enc = Fixed([1.0, 2.0, 3.0], dim=2, name="too-wide")
    with pytest.raises(RuntimeError, match=r"too-wide.*\(3, 3\).*declares 2-d"):
        enc.embed(_images(3))


def test_embed_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        Fixed([1.0, 2.0]).embed(torch.zeros(1, 3, 4, 4))


def test_embed_runs_in_eval_mode_and_frozen():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 2)

        def forward(self, x):
            seen.append((self.training, torch.is_inference_mode_enabled()))
            return self.lin(x.mean((1, 2, 3)).unsqueeze(1))

    class ProbeEncoder(Encoder):
        def build(self):
            return Probe().train()

    enc = ProbeEncoder(_info())
    out = enc.embed(_images(2))
    assert seen == [(False, True)]
    assert not any(p.requires_grad for p in enc.model.parameters())
    out.mul_(2)  # features are ordinary tensors: callers may normalise them in place


@pytest.mark.parametrize("kwargs, match", [
    (dict(name=""), "name"),
    (dict(revision=""), "revision"),
    (dict(embed_dim=0), "embed_dim"),
    (dict(embed_dim=2.0), "embed_dim"),
    (dict(preprocessing={"input_size": 4}), "Preprocessing"),
])
def test_encoder_info_validates(kwargs, match):
    fields = dict(name="x", revision="r", embed_dim=2, preprocessing=Preprocessing(), layer="l")
    with pytest.raises((ValueError, TypeError), match=match):
        EncoderInfo(**{**fields, **kwargs})


def test_encoder_info_to_dict_is_json_ready():
    import json

    info = EncoderInfo(name="x", revision="r", embed_dim=2, preprocessing=Preprocessing(),
                       layer="l", pretrained_on=["rafdb"])
    d = json.loads(json.dumps(info.to_dict()))
    assert d["pretrained_on"] == ["rafdb"] and d["preprocessing"]["input_size"] == 112
    assert info.pretrained_on == ("rafdb",)
