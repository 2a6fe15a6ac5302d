"""The fast input pipeline: decoded uint8 images held on the training device, one index
gather and one batched augmentation per step, no worker processes, no host round trip.

Randomness is a pure function of (seed, epoch) for the sampling order and of (seed, rank,
global step) for the augmentation, so a resumed run draws exactly what an uninterrupted
one would have drawn.
"""
from __future__ import annotations

import torch

from fer_bench.images.augment import AugmentConfig, BatchAugment
from fer_bench.pretrain.data import PretrainData
from fer_bench.pretrain.distributed import DistContext, rank_batches


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def step_seed(seed: int, rank: int, global_step: int) -> int:
    return (seed * 1_000_003 + rank * 7_919 + global_step * 104_729) % (2 ** 63)


class DeviceBatches:
    """Per-step (views, fine, coarse) from a :class:`PretrainData` moved to ``ctx.device``."""

    def __init__(self, data: PretrainData, batch_size: int, views: int, input_size: int,
                 ctx: DistContext, seed: int = 0):
        self.data = data.to(ctx.device)
        self.batch_size = batch_size
        self.views = views
        self.ctx = ctx
        self.seed = seed
        self.augment = BatchAugment(AugmentConfig(size=input_size))
        self.generator = torch.Generator(device=ctx.device)
        self.steps_per_epoch = len(data) // batch_size
        self._epoch, self._rows = None, None

    def rows(self, epoch: int) -> torch.Tensor:
        """This rank's (steps, batch_size // world) image indices for ``epoch``."""
        if self._epoch != epoch:
            perm = epoch_permutation(len(self.data), self.seed, epoch)
            self._rows = rank_batches(perm, self.batch_size, self.ctx).to(self.ctx.device)
            self._epoch = epoch
        return self._rows

    def batch(self, epoch: int, step: int, global_step: int):
        idx = self.rows(epoch)[step]
        self.generator.manual_seed(step_seed(self.seed, self.ctx.rank, global_step))
        images = self.data.images.index_select(0, idx)
        x = torch.cat([self.augment(images, self.generator) for _ in range(self.views)])
        return x, self.data.fine.index_select(0, idx), self.data.coarse.index_select(0, idx)
