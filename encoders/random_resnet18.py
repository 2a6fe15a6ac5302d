"""``random-resnet18``: an untrained ResNet-18, the floor every trained encoder must clear.

The initialisation is torchvision's recipe (conv: Kaiming-normal, fan_out, ReLU gain;
BatchNorm: weight 1, bias 0, running mean 0, var 1) drawn from NumPy's legacy
``RandomState(seed)``. That stream is frozen by NumPy's compatibility policy, unlike
torch's global RNG or its normal_ kernels, so the same revision means the same weights
in every process, on every machine and torch version, and the feature cache may trust it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.encoder_registry import register_encoder
from fer_bench.encoders.resnet import EMBED_DIM, LAYER, ResNet18Encoder, build_resnet18_trunk
from fer_bench.images.preprocess import Preprocessing

INIT_RECIPE = "numpy-RandomState-kaiming-normal-fan-out/1"


def seeded_init_(model: nn.Module, seed: int) -> nn.Module:
    """Re-initialise ``model`` in place, deterministically from ``seed`` (module order)."""
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                w = module.weight
                fan_out = w.shape[0] * w[0, 0].numel()
                std = math.sqrt(2.0) / math.sqrt(fan_out)
                draw = rng.standard_normal(w.numel()) * std
                w.copy_(torch.from_numpy(draw.astype(np.float32)).view_as(w))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
                module.reset_running_stats()
    return model


def _seeded_trunk_state(seed: int) -> dict[str, torch.Tensor]:
    return seeded_init_(build_resnet18_trunk(), seed).state_dict()


@register_encoder("random-resnet18")
def make_random_resnet18(weights: str | None = None, device: str = "cpu",
                         seed: int = 0) -> Encoder:
    """Untrained ResNet-18 trunk; ``seed`` picks the draw (revision ``seed<N>``)."""
    if weights is not None:
        raise ValueError("random-resnet18 takes no --weights (its weights are the seed); "
                         "use crs-cont --weights PATH for a trained ResNet-18")
    seed = int(seed)
    info = EncoderInfo(
        name="random-resnet18",
        revision=f"seed{seed}",
        embed_dim=EMBED_DIM,
        preprocessing=Preprocessing(input_size=112, channels="rgb"),
        layer=LAYER,
        weights_digest=f"init:{INIT_RECIPE}:seed{seed}",
        pretrained_on=(),
        pretrain_classes=(),
        licence="BSD-3-Clause (torchvision architecture); no trained weights",
        description="Randomly initialised ResNet-18 (torchvision init recipe, seeded), "
                    "512-d average-pooled feature: the floor a trained encoder must clear.",
        extra={"seed": seed, "init": INIT_RECIPE},
    )
    return ResNet18Encoder(info, lambda: _seeded_trunk_state(seed),
                           source=f"random-resnet18 seed {seed}", device=device)
