"""``pixels``: the face itself, grey and shrunk, as the feature. The other floor: an
encoder that does not beat raw pixels has learnt nothing a linear probe could not."""
from __future__ import annotations

from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.encoder_registry import register_encoder
from fer_bench.images.preprocess import Preprocessing


class PixelsEncoder(Encoder):
    def build(self) -> nn.Module:
        return nn.Flatten()  # all the work is in the sealed preprocessing


@register_encoder("pixels")
def make_pixels(weights: str | None = None, device: str = "cpu", size: int = 24) -> Encoder:
    """Grey ``size`` x ``size`` thumbnail (block-averaged), scaled to [-1, 1], flattened."""
    if weights is not None:
        raise ValueError("pixels takes no --weights")
    size = int(size)
    info = EncoderInfo(
        name="pixels",
        revision=f"grey{size}",
        embed_dim=size * size,
        # "area" averages pixel blocks: the anti-aliased thumbnail a person would make.
        preprocessing=Preprocessing(input_size=size, channels="grey", mean=(0.5,),
                                    std=(0.5,), resize="area"),
        layer="input",
        weights_digest="none",
        licence="BSD-2-Clause (fer-bench)",
        description=f"Raw pixels: grey, {size}x{size} block-averaged thumbnail scaled to "
                    f"[-1, 1], {size * size}-d. The floor for any learnt encoder.",
        extra={"size": size},
    )
    return PixelsEncoder(info, device)
