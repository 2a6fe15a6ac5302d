"""The network trained by ``fer-bench pretrain``: the ResNet-18 trunk plus the heads the
chosen method needs (docs/crs-cont.md).

Only the heads a method uses are built, so DistributedDataParallel never meets a
parameter without a gradient: the coarse head exists when terms 2 and 3 are on, the
fine classifier only for the supervised baseline. The trunk is exported alone.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer_bench.encoders.resnet import EMBED_DIM, build_resnet18_trunk
from fer_bench.vocabulary import COARSE

PROJECTION_DIM = 128


class PretrainNet(nn.Module):
    def __init__(self, projection: bool = True, coarse_head: bool = True,
                 fine_classes: int | None = None):
        super().__init__()
        self.trunk = build_resnet18_trunk()
        # Linear(512,512)-ReLU-Linear(512,128), as SupContrast's "mlp" head.
        self.head = nn.Sequential(nn.Linear(EMBED_DIM, EMBED_DIM), nn.ReLU(inplace=True),
                                  nn.Linear(EMBED_DIM, PROJECTION_DIM)) if projection else None
        self.coarse_head = nn.Linear(PROJECTION_DIM, len(COARSE)) if coarse_head else None
        self.classifier = nn.Linear(EMBED_DIM, fine_classes) if fine_classes else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feature = self.trunk(x)
        out = {"feature": feature}
        if self.head is not None:
            z = F.normalize(self.head(feature).float(), dim=1)
            out["z"] = z
            if self.coarse_head is not None:
                out["coarse_logits"] = self.coarse_head(z)
        if self.classifier is not None:
            out["fine_logits"] = self.classifier(feature)
        return out


def build_model(objective, n_fine_classes: int) -> PretrainNet:
    """The network for an :class:`~fer_bench.pretrain.losses.Objective`."""
    if objective.method == "supervised":
        return PretrainNet(projection=False, coarse_head=False, fine_classes=n_fine_classes)
    return PretrainNet(projection=True, coarse_head=objective.uses_coarse_head)
