"""``lbp`` and ``hog``: the hand-crafted FER descriptors that came before deep features.

Nothing is learnt, so they show what a linear probe gets from local texture and edge
statistics alone (scikit-image, extra ``classic``).

- ``lbp``: uniform LBP histograms over a grid of cells, after Shan, Gong & McOwan, "Facial
  expression recognition based on Local Binary Patterns" (Image and Vision Computing, 2009):
  LBP^{u2}_{8,2} (8 neighbours at radius 2, the 58 uniform patterns plus one bin for all
  others = 59 bins), one L1-normalised histogram per cell, cells concatenated. Defaults:
  96x96 grey, 7x7 grid (cells of ~14 px, close to their 18x21 px windows), 2,891-d.
- ``hog``: Dalal & Triggs (CVPR 2005) HOG with their defaults: 9 unsigned orientations,
  8x8-px cells, 2x2-cell blocks with L2-Hys normalisation; 64x64 grey -> 7x7 blocks x 36
  = 1,764-d.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.encoder_pool import ChunkPool
from fer_bench.encoder_registry import register_encoder
from fer_bench.images.descriptors import describe_images, skimage_feature
from fer_bench.images.preprocess import Preprocessing

# mean 0, std 1: the network input is uint8 / 255 exactly, which forward() turns back into
# the same uint8 image for scikit-image.
_UNIT = dict(channels="grey", mean=(0.0,), std=(1.0,))


class PerImageDescriptor(nn.Module):
    """A parameter-free module applying a numpy descriptor to each grey uint8 image, over
    one worker process per core (scikit-image's descriptors run on one thread)."""

    def __init__(self, describe: ChunkPool):
        super().__init__()
        self.describe = describe

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = (x[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        return torch.from_numpy(self.describe(images)).to(x.device)


class DescriptorEncoder(Encoder):
    def __init__(self, info: EncoderInfo, device, kind: str, params: tuple,
                 workers: int | None = None):
        super().__init__(info, device)
        self.kind, self.params, self.workers = kind, params, workers

    def build(self) -> nn.Module:
        skimage_feature()  # fail here, with the extra's name, not inside the first batch
        return PerImageDescriptor(ChunkPool(partial(describe_images, self.kind, self.params),
                                            self.workers))


def _info(name: str, revision: str, dim: int, size: int, layer: str, description: str,
          extra: dict) -> EncoderInfo:
    return EncoderInfo(name=name, revision=revision, embed_dim=dim,
                       preprocessing=Preprocessing(input_size=size, **_UNIT), layer=layer,
                       weights_digest="none", licence="BSD-2-Clause (fer-bench); scikit-image "
                       "BSD-3-Clause", description=description, extra=extra)


@register_encoder("lbp")
def make_lbp(weights: str | None = None, device: str = "cpu", size: int = 96, grid: int = 7,
             points: int = 8, radius: int = 2, workers: int | None = None) -> Encoder:
    """Uniform LBP_{points,radius} histograms on a grid x grid layout of a size x size face
    (``workers`` processes, default one per core: the same features for any number)."""
    if weights is not None:
        raise ValueError("lbp takes no --weights")
    size, grid, points, radius = int(size), int(grid), int(points), int(radius)
    if not 1 <= grid <= size // 4:
        raise ValueError(f"lbp grid must be 1..{size // 4} for {size} px faces, got {grid}")
    bins = points * (points - 1) + 3
    info = _info("lbp", f"u2-P{points}-R{radius}-grid{grid}", grid * grid * bins, size,
                 f"LBP u2 histograms, {grid}x{grid} cells x {bins} bins",
                 f"Uniform LBP_{points},{radius} histograms over a {grid}x{grid} grid of a "
                 f"{size}x{size} grey face (Shan et al. 2009).",
                 {"size": size, "grid": grid, "points": points, "radius": radius})
    return DescriptorEncoder(info, device, "lbp", (points, radius, grid), workers)


@register_encoder("hog")
def make_hog(weights: str | None = None, device: str = "cpu", size: int = 64,
             orientations: int = 9, cell: int = 8, block: int = 2,
             workers: int | None = None) -> Encoder:
    """Dalal-Triggs HOG of a size x size grey face (``workers`` as lbp's)."""
    if weights is not None:
        raise ValueError("hog takes no --weights")
    size, orientations, cell, block = int(size), int(orientations), int(cell), int(block)
    cells = size // cell
    if cells < block:
        raise ValueError(f"hog: {size} px with {cell} px cells gives {cells} cells, fewer than "
                         f"a {block}x{block} block")
    dim = (cells - block + 1) ** 2 * block * block * orientations
    info = _info("hog", f"o{orientations}-c{cell}-b{block}-L2Hys", dim, size,
                 f"HOG, {cells - block + 1}x{cells - block + 1} blocks of {block}x{block} cells",
                 f"HOG (Dalal & Triggs 2005): {orientations} orientations, {cell} px cells, "
                 f"{block}x{block}-cell L2-Hys blocks on a {size}x{size} grey face.",
                 {"size": size, "orientations": orientations, "cell": cell, "block": block})
    return DescriptorEncoder(info, device, "hog", (orientations, cell, block), workers)
