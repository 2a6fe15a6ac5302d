"""The CRS-CONT augmentation, batched on the device.

Per view and per image, in the official order (SupContrast's TwoCropTransform with
CRS-CONT's crop scale): RandomResizedCrop(size, scale=(0.5, 1), ratio=(3/4, 4/3)),
RandomHorizontalFlip(0.5), RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
RandomGrayscale(0.2), ImageNet normalisation.

How the batch version differs from torchvision's per-image one, and why it does not
matter:
- crop and flip are one affine map per image (``affine_grid`` + bilinear
  ``grid_sample``) with sub-pixel crop boxes, where torchvision rounds the box to whole
  pixels; the stored images are no larger than the output, so every crop is an
  upsampling and needs no antialiasing;
- ColorJitter draws its factors and its random order of the four operations per image,
  as torchvision does; a batch applies the operations in four rounds, each operation
  running on the images that take it in that round. Hue is the exact
  HSV shift of torchvision (RGB -> HSV, h + shift mod 1, HSV -> RGB), not a YIQ
  rotation, so colours match torchvision per image to float rounding (tested).

Random numbers come from one ``torch.Generator`` on the images' device: same seed,
same views. :meth:`BatchAugment.sample` and :meth:`BatchAugment.apply` are separate so
that tests can check the parameter statistics and the pixel maths independently.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fer_bench.images.preprocess import IMAGENET_MEAN, IMAGENET_STD

LUMA = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


@dataclass(frozen=True)
class AugmentConfig:
    size: int = 112
    scale: tuple[float, float] = (0.5, 1.0)      # CRS-CONT: crops keep half the face
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    grey_p: float = 0.2
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD


@dataclass
class AugmentParams:
    """Per-image parameters, all (N, ...) tensors on the images' device."""
    box: torch.Tensor        # (N, 4) crop x0, y0, w, h as fractions of the image side
    flip: torch.Tensor       # (N,) bool
    jitter: torch.Tensor     # (N,) bool: ColorJitter applied
    factors: torch.Tensor    # (N, 4) brightness, contrast, saturation, hue shift
    order: torch.Tensor      # (N, 4) permutation of the four jitter operations
    grey: torch.Tensor       # (N,) bool


class BatchAugment:
    def __init__(self, config: AugmentConfig = AugmentConfig()):
        self.config = config
        self._constants: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def constants(self, device) -> tuple[torch.Tensor, ...]:
        """(jitter low, jitter high, mean, std) on ``device``, made once: building a CUDA
        tensor from Python numbers is a host-to-device copy that waits for the stream."""
        device = torch.device(device)
        if device not in self._constants:
            b, c, s, h = self.config.jitter
            values = ([max(0.0, 1 - b), max(0.0, 1 - c), max(0.0, 1 - s), -h],
                      [1 + b, 1 + c, 1 + s, h], self.config.mean, self.config.std)
            self._constants[device] = tuple(torch.tensor(v, device=device) for v in values)
        return self._constants[device]

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """uint8 (N, 1|3, S, S) -> one augmented, normalised float32 view (N, 3, size, size)."""
        return self.apply(images, self.sample(images.shape[0], images.device, generator))

    # -- parameters ------------------------------------------------------------------------
    def sample(self, n: int, device: torch.device | str = "cpu",
               generator: torch.Generator | None = None) -> AugmentParams:
        cfg = self.config

        def rand(*shape):
            return torch.rand(*shape, device=device, generator=generator)

        box = _sample_crop_boxes(n, cfg.scale, cfg.ratio, rand)
        lo, hi = self.constants(device)[:2]
        return AugmentParams(
            box=box,
            flip=rand(n) < cfg.flip_p,
            jitter=rand(n) < cfg.jitter_p,
            factors=lo + (hi - lo) * rand(n, 4),
            order=rand(n, 4).argsort(dim=1),
            grey=rand(n) < cfg.grey_p,
        )

    # -- pixels ----------------------------------------------------------------------------
    def apply(self, images: torch.Tensor, p: AugmentParams) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected uint8 images (N, 1|3, S, S), got {images.dtype} "
                             f"{tuple(images.shape)}")
        cfg = self.config
        x = crop_flip_resize(images.float().div_(255.0), p.box, p.flip, cfg.size)
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = color_jitter(x, p.factors, p.order, p.jitter)
        x = torch.where(p.grey.view(-1, 1, 1, 1), grayscale(x).expand_as(x), x)
        mean, std = self.constants(x.device)[2:]
        return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def _sample_crop_boxes(n: int, scale, ratio, rand, attempts: int = 10) -> torch.Tensor:
    """torchvision's RandomResizedCrop.get_params for a square image, batched: up to 10
    (area, log-ratio) draws per image, the first that fits wins; none fits -> whole image
    (torchvision's fallback for a square image with 1 within ``ratio``)."""
    area = scale[0] + (scale[1] - scale[0]) * rand(n, attempts)
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * rand(n, attempts)
    aspect = torch.exp(log_r)
    w, h = torch.sqrt(area * aspect), torch.sqrt(area / aspect)
    fits = (w <= 1) & (h <= 1)
    first = torch.where(fits.any(1), fits.float().argmax(1), attempts)
    w = torch.cat([w, torch.ones(n, 1, device=w.device)], 1).gather(1, first[:, None])[:, 0]
    h = torch.cat([h, torch.ones(n, 1, device=h.device)], 1).gather(1, first[:, None])[:, 0]
    x0, y0 = (1 - w) * rand(n), (1 - h) * rand(n)
    return torch.stack([x0, y0, w, h], dim=1)


def crop_flip_resize(x: torch.Tensor, box: torch.Tensor, flip: torch.Tensor,
                     size: int) -> torch.Tensor:
    """Crop fractional boxes (x0, y0, w, h), mirror where ``flip``, resize to ``size``
    (bilinear), all as one affine grid per image. Coordinates follow align_corners=False:
    -1 and 1 are the outer edges of the image."""
    x0, y0, w, h = box.unbind(1)
    sign = 1.0 - 2.0 * flip.to(x.dtype)
    theta = torch.zeros(x.shape[0], 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = w * sign
    theta[:, 0, 2] = 2 * x0 + w - 1
    theta[:, 1, 1] = h
    theta[:, 1, 2] = 2 * y0 + h - 1
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(1)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(1)


def color_jitter(x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor,
                 apply: torch.Tensor) -> torch.Tensor:
    """torchvision's ColorJitter with per-image factors and per-image operation order.

    ``factors`` (N, 4): brightness, contrast, saturation multipliers and hue shift;
    ``order`` (N, 4): the position-by-position operation ids; ``apply`` (N,) bool.
    In each of the four rounds every operation runs once, on the images whose order puts
    it there, so each image gets each operation exactly once (hue, the costly one, too).
    The group sizes are read to the host once per call (the one device sync of a view).
    """
    skip = len(_OPS)
    ops = torch.where(apply[:, None], order, skip)             # (N, 4); skip = no jitter
    rows = ops.argsort(dim=0, stable=True)                     # per round, images by op
    counts = F.one_hot(ops, skip + 1).sum(0)                   # (4 rounds, ops + skip)
    x = x.clone()
    for r, round_counts in enumerate(counts.tolist()):
        start = 0
        for op_id, n in enumerate(round_counts[:skip]):
            if n:
                idx = rows[start:start + n, r]
                x[idx] = _OPS[op_id](x[idx], factors[idx, op_id])
            start += n
    return x


def _blend(a: torch.Tensor, b: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
    return (ratio * a + (1.0 - ratio) * b).clamp_(0.0, 1.0)


def _brightness(x, f):
    return (x * f.view(-1, 1, 1, 1)).clamp_(0.0, 1.0)


def _contrast(x, f):
    return _blend(x, grayscale(x).mean(dim=(1, 2, 3), keepdim=True), f.view(-1, 1, 1, 1))


def _saturation(x, f):
    return _blend(x, grayscale(x), f.view(-1, 1, 1, 1))


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Shift hue by ``shift`` (N,) turns in HSV space, as torchvision's adjust_hue."""
    h, s, v = _rgb_to_hsv(x)
    h = torch.remainder(h + shift.view(-1, 1, 1), 1.0)
    return _hsv_to_rgb(h, s, v)


_OPS = (_brightness, _contrast, _saturation, adjust_hue)  # indexed by BRIGHTNESS..HUE


def _rgb_to_hsv(x: torch.Tensor):
    r, g, b = x.unbind(1)
    maxc, minc = x.amax(1), x.amin(1)
    flat = maxc == minc
    chroma = maxc - minc
    s = chroma / torch.where(flat, torch.ones_like(maxc), maxc)
    d = torch.where(flat, torch.ones_like(chroma), chroma)
    rc, gc, bc = (maxc - r) / d, (maxc - g) / d, (maxc - b) / d
    is_r = maxc == r
    is_g = (maxc == g) & ~is_r
    h = torch.where(is_r, bc - gc, torch.where(is_g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = torch.fmod(h / 6.0 + 1.0, 1.0)
    return h, s, maxc


def _hsv_to_rgb(h, s, v) -> torch.Tensor:
    """The hexcone in closed form: channel n (R=5, G=3, B=1) is
    v - v*s*clamp(min(k, 4 - k), 0, 1) with k = (n + 6h) mod 6 (same values as
    torchvision's sector table, without materialising six candidates per pixel)."""
    n = (5.0 - 2.0 * torch.arange(3, device=h.device, dtype=h.dtype)).view(1, 3, 1, 1)
    k = torch.remainder(n + 6.0 * h.unsqueeze(1), 6.0)
    v, s = v.unsqueeze(1), s.unsqueeze(1)
    return v - v * s * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
