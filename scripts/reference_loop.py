"""A reference-style input pipeline, as the official CRS-CONT / SupContrast code feeds its
network: per image, a PIL image through torchvision transforms (TwoCropTransform of
RandomResizedCrop(scale 0.5-1), flip, ColorJitter p=0.8, grayscale p=0.2, ToTensor,
Normalize) inside DataLoader worker processes, collated and copied to the device.

It exists to measure the fast pipeline against (``scripts/bench_pretrain.py``) and to
check that both produce statistically alike views. The images come from the same
decoded uint8 tensor, so the comparison leaves out the official code's per-step file
reads and decoding (which would only slow the reference down further).
"""
from __future__ import annotations

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from fer_bench.images.augment import AugmentConfig
from fer_bench.pretrain.data import PretrainData


def official_transform(cfg: AugmentConfig = AugmentConfig()) -> transforms.Compose:  # noqa: B008
    return transforms.Compose([
        transforms.RandomResizedCrop(size=cfg.size, scale=cfg.scale, ratio=cfg.ratio),
        transforms.RandomHorizontalFlip(p=cfg.flip_p),
        transforms.RandomApply([transforms.ColorJitter(*cfg.jitter)], p=cfg.jitter_p),
        transforms.RandomGrayscale(p=cfg.grey_p),
        transforms.ToTensor(),
        transforms.Normalize(mean=cfg.mean, std=cfg.std),
    ])


class TwoCropTransform:
    """SupContrast's wrapper: two independent draws of the same transform."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, x):
        return [self.transform(x), self.transform(x)]


class PilImages(Dataset):
    """(views, fine, coarse) per image, the image handed to the transform as RGB PIL."""

    def __init__(self, data: PretrainData, transform):
        self.images = data.images.permute(0, 2, 3, 1).numpy()   # (N, S, S, C), shared memory
        self.fine, self.coarse = data.fine, data.coarse
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        pixels = self.images[i]
        image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        return self.transform(image.convert("RGB")), self.fine[i], self.coarse[i]


def reference_loader(data: PretrainData, batch_size: int, input_size: int, workers: int,
                     pin_memory: bool = False, seed: int = 0) -> DataLoader:
    transform = TwoCropTransform(official_transform(AugmentConfig(size=input_size)))
    return DataLoader(PilImages(data, transform), batch_size=batch_size, shuffle=True,
                      num_workers=workers, pin_memory=pin_memory, drop_last=True,
                      persistent_workers=workers > 0,
                      generator=torch.Generator().manual_seed(seed))


def stack_views(views: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """[view1 batch, view2 batch] -> one view-major batch on ``device``."""
    return torch.cat(views).to(device, non_blocking=True)
