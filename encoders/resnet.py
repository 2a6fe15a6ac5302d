"""The ResNet-18 trunk shared by ``random-resnet18``, ``crs-cont`` and fer-bench's own
pre-training: torchvision's resnet18 with ``fc`` replaced by Identity, so the output is the
512-d global-average-pooled feature and ``state_dict()`` keys are torchvision's minus fc.*.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchvision.models import resnet18

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.weights import WeightsError

EMBED_DIM = 512
LAYER = "avgpool"  # the pooled output of layer4, i.e. torchvision's input to fc


def build_resnet18_trunk() -> nn.Module:
    """ImageNet-style ResNet-18 (7x7/2 stem, max-pool, BasicBlocks [2, 2, 2, 2]) without
    its classifier: (N, 3, S, S) -> (N, 512). Initialised as torchvision does (global RNG)."""
    model = resnet18(weights=None)
    model.fc = nn.Identity()
    return model


def load_trunk_state(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` strictly, or raise an error that names ``source`` and says which keys
    are missing, unexpected or of the wrong shape."""
    expected = model.state_dict()
    # BatchNorm's step counter plays no part in eval mode; checkpoints may lack it.
    missing = sorted(k for k in expected.keys() - state.keys()
                     if not k.endswith("num_batches_tracked"))
    unexpected = sorted(state.keys() - expected.keys())
    wrong = [f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
             for k in sorted(state.keys() & expected.keys())
             if state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        lines = [f"{source}: not the weights of a ResNet-18 trunk "
                 "(torchvision resnet18 without fc, 512-d pooled feature):"]
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                             ("wrong shapes", wrong)):
            if items:
                more = f" ... and {len(items) - 8} more" if len(items) > 8 else ""
                lines.append(f"  {label} ({len(items)}): {', '.join(items[:8])}{more}")
        raise WeightsError("\n".join(lines))
    model.load_state_dict(state, strict=False)


class ResNet18Encoder(Encoder):
    """A frozen ResNet-18 trunk whose state dict comes from ``load_state()`` on the first
    embed; ``source`` (a file name) is what load errors name."""

    def __init__(self, info: EncoderInfo, load_state: Callable[[], dict[str, torch.Tensor]],
                 source: str, device: str | torch.device = "cpu"):
        super().__init__(info, device)
        self._load_state = load_state
        self.source = source

    def build(self) -> nn.Module:
        model = build_resnet18_trunk()
        load_trunk_state(model, self._load_state(), self.source)
        return model
