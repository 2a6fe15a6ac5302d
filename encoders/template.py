"""Copy-paste template for your own fer-bench encoder.

Copy this file into your own package (or project folder on ``PYTHONPATH``), rename things,
replace ``TinyFaceNet`` with your network, fill in the metadata honestly, then check it:

    fer-bench check-encoder my_pkg.my_encoder:make_encoder --weights my.safetensors
    fer-bench run --encoder my_pkg.my_encoder:make_encoder ...

This very file works as it stands (a tiny untrained CNN), which is how fer-bench's tests
keep it honest:

    fer-bench check-encoder fer_bench.encoders.template:make_encoder

It does **not** register a name, so it never shows up in ``fer-bench encoders list`` or on
leaderboards. Three ways to give your copy a name:

1. ``--encoder my_pkg.my_encoder:make_encoder`` (no registration at all);
2. an entry point in *your* package's ``pyproject.toml``, after which ``--encoder my-encoder``
   works wherever your package is installed::

       [project.entry-points."fer_bench.encoders"]
       my-encoder = "my_pkg.my_encoder:make_encoder"

3. inside fer-bench's own ``encoders/`` folder only: decorate the factory with
   ``@register_encoder("my-encoder")`` (from ``fer_bench.encoder_registry``).

The rules the harness relies on (``check-encoder`` tests each of them):
- the factory is cheap: it builds metadata only; weights load in ``build()``, on the first
  ``embed``, so a feature-cache hit never touches them;
- ``build()`` loads weights with ``torch.load(..., weights_only=True)`` or safetensors,
  never plain pickle;
- implement ``forward_features`` only; the base class's sealed ``embed`` converts uint8
  images with *your* ``Preprocessing`` first, puts the model in eval mode and runs it
  under ``torch.inference_mode()``;
- same input -> same output, whatever the batch size (no train-mode BatchNorm or dropout).
"""
from __future__ import annotations

import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing


class TinyFaceNet(nn.Module):
    """Stand-in for your network: two conv blocks, global average pool -> 64-d."""

    def __init__(self, width: int = 32, embed_dim: int = 64):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, embed_dim, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(embed_dim), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class TemplateEncoder(Encoder):
    def __init__(self, info: EncoderInfo, weights: str | None, device: str = "cpu"):
        super().__init__(info, device)
        self.weights = weights

    def build(self) -> nn.Module:
        # Called once, on the first embed. Never at construction time.
        with torch.random.fork_rng(devices=[]):  # seeded init, caller's RNG left alone
            torch.manual_seed(0)
            model = TinyFaceNet()
        if self.weights is not None:
            model.load_state_dict(load_state(self.weights))
        return model  # the base class moves it to the device, sets eval() and freezes it

    def forward_features(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        # x is already preprocessed: float32 (N, 3, 64, 64), normalised as declared below.
        # Pick the layer you want to benchmark here, and name it in EncoderInfo.layer.
        return model(x)


def load_state(path: str) -> dict[str, torch.Tensor]:
    """safetensors, or a torch checkpoint loaded safely (tensors only, no pickled code)."""
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def make_encoder(weights: str | None = None, device: str = "cpu", **options) -> Encoder:
    """The factory fer-bench calls: ``factory(weights=None, device="cpu", **options)``.
    ``options`` come from ``-o KEY=VALUE`` on the command line."""
    if options:
        raise TypeError(f"template encoder takes no options, got {sorted(options)}")
    from fer_bench.encoder import file_digest

    info = EncoderInfo(
        name="template-example",        # what leaderboards show
        revision="v1",                  # bump whenever the weights or the code change
        embed_dim=64,                   # length of forward_features' output per image
        preprocessing=Preprocessing(    # exactly what your model saw in training
            input_size=64, channels="rgb",
            mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
        ),
        layer="pool",                   # which activation is the feature
        # Content hash of the weights: part of the feature-cache key. file_digest reads
        # the file once; for large files a digest stored in the file header is cheaper.
        weights_digest=file_digest(weights) if weights else "init:torch-seed0",
        pretrained_on=(),               # dataset names / image families, optionally
                                        # per split: ("rafdb/train",); a bare "rafdb" =
                                        # every split. Drives the overlap flags (* and °)
        pretrain_classes=(),            # canonical expression names seen in training:
                                        # the unseen-expression protocol probes the rest
        licence="BSD-2-Clause",
        description="fer-bench's copy-paste template: a tiny untrained CNN.",
    )
    return TemplateEncoder(info, weights, device)
