"""The batched CRS-CONT augmentation: parameter statistics, pixel maths against
torchvision's per-image functions, shapes and determinism."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from fer_bench.images.augment import (AugmentConfig, AugmentParams, BatchAugment, color_jitter,
                                      crop_flip_resize)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def images(n=4, c=3, s=16, seed=0):
    return torch.randint(0, 256, (n, c, s, s), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


def plain_params(n, **changes) -> AugmentParams:
    """Whole-image crop, nothing else: the identity augmentation."""
    p = AugmentParams(box=torch.tensor([[0.0, 0.0, 1.0, 1.0]]).repeat(n, 1),
                      flip=torch.zeros(n, dtype=torch.bool),
                      jitter=torch.zeros(n, dtype=torch.bool),
                      factors=torch.tensor([[1.0, 1.0, 1.0, 0.0]]).repeat(n, 1),
                      order=torch.arange(4).repeat(n, 1),
                      grey=torch.zeros(n, dtype=torch.bool))
    for k, v in changes.items():
        setattr(p, k, v)
    return p


def test_parameter_statistics_match_the_official_probabilities_and_ranges():
    n = 20000
    p = BatchAugment().sample(n, generator=torch.Generator().manual_seed(0))
    sigma = math.sqrt(0.25 / n)
    assert abs(p.flip.float().mean().item() - 0.5) < 5 * sigma
    assert abs(p.jitter.float().mean().item() - 0.8) < 5 * math.sqrt(0.16 / n)
    assert abs(p.grey.float().mean().item() - 0.2) < 5 * math.sqrt(0.16 / n)
    x0, y0, w, h = p.box.unbind(1)
    area, aspect = w * h, w / h
    assert area.min() >= 0.5 - 1e-6 and area.max() <= 1.0 + 1e-6
    assert aspect.min() >= 3 / 4 - 1e-6 and aspect.max() <= 4 / 3 + 1e-6
    assert x0.min() >= 0 and y0.min() >= 0
    assert (x0 + w).max() <= 1 + 1e-6 and (y0 + h).max() <= 1 + 1e-6
    # crops wander over the whole face, not only the centre
    assert (x0 > 0.2).any() and (y0 > 0.2).any()
    lo = torch.tensor([0.6, 0.6, 0.6, -0.1])
    hi = torch.tensor([1.4, 1.4, 1.4, 0.1])
    assert ((p.factors >= lo) & (p.factors <= hi)).all()
    assert (p.factors.max(0).values > hi - 0.01).all()    # the whole range is used
    assert (p.factors.min(0).values < lo + 0.01).all()
    assert (p.order.sort(1).values == torch.arange(4)).all()      # permutations
    assert len({tuple(r) for r in p.order.tolist()}) == 24        # all 24 orders occur


def test_identity_parameters_give_the_normalised_image_and_flip_mirrors_it():
    x = images()
    aug = BatchAugment(AugmentConfig(size=16))
    expected = (x.float() / 255 - MEAN) / STD
    assert torch.allclose(aug.apply(x, plain_params(4)), expected, atol=1e-5)
    flipped = aug.apply(x, plain_params(4, flip=torch.tensor([True, False, True, False])))
    assert torch.allclose(flipped[0], expected[0].flip(-1), atol=1e-5)
    assert torch.allclose(flipped[1], expected[1], atol=1e-5)


def test_crop_is_a_bilinear_resize_of_the_box():
    x = torch.rand(2, 3, 16, 16)
    box = torch.tensor([[0.0, 0.0, 0.5, 1.0], [0.25, 0.5, 0.5, 0.5]])
    out = crop_flip_resize(x, box, torch.zeros(2, dtype=torch.bool), 16)
    left = F.interpolate(x[:1, :, :, :8], size=(16, 16), mode="bilinear", align_corners=False)
    centre = F.interpolate(x[1:, :, 8:16, 4:12], size=(16, 16), mode="bilinear",
                           align_corners=False)
    # equal away from the box edge (there torchvision replicates the crop's last pixel,
    # the affine grid reads a quarter of the neighbour beyond the box)
    assert torch.allclose(out[0, :, 1:-1, 1:-1], left[0, :, 1:-1, 1:-1], atol=1e-5)
    assert torch.allclose(out[1, :, 1:-1, 1:-1], centre[0, :, 1:-1, 1:-1], atol=1e-5)


def test_colour_jitter_matches_torchvision_per_image_in_each_images_order():
    n = 12
    p = BatchAugment().sample(n, generator=torch.Generator().manual_seed(3))
    x = torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(4))
    apply = torch.ones(n, dtype=torch.bool)
    apply[0] = False
    out = color_jitter(x, p.factors, p.order, apply)
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]
    for i in range(n):
        ref = x[i]
        if apply[i]:
            for op in p.order[i].tolist():
                ref = ops[op](ref, float(p.factors[i, op]))
        assert torch.allclose(out[i], ref, atol=2e-6), i


def test_grayscale_makes_channels_equal():
    x = images(4)
    aug = BatchAugment(AugmentConfig(size=16))
    out = aug.apply(x, plain_params(4, grey=torch.tensor([True, True, False, False])))
    pixels = out * STD + MEAN
    assert torch.allclose(pixels[:2, 0], pixels[:2, 1], atol=1e-5)
    assert torch.allclose(pixels[:2, 1], pixels[:2, 2], atol=1e-5)
    assert not torch.allclose(pixels[2, 0], pixels[2, 1], atol=1e-3)


@pytest.mark.parametrize("channels", [1, 3])
def test_views_have_the_input_size_and_float32(channels):
    aug = BatchAugment(AugmentConfig(size=24))
    out = aug(images(5, channels, 20), torch.Generator().manual_seed(0))
    assert out.shape == (5, 3, 24, 24) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_same_seed_same_views_other_seed_other_views():
    x = images(6)
    aug = BatchAugment(AugmentConfig(size=16))
    a = aug(x, torch.Generator().manual_seed(7))
    b = aug(x, torch.Generator().manual_seed(7))
    c = aug(x, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        BatchAugment()(torch.rand(2, 3, 8, 8))


def test_reference_loop_views_look_like_the_fast_views():
    """Same distribution of normalised pixels from the PIL/torchvision transforms and the
    batch augmentation: channel means and spreads over 1,600 views of the same 16 faces
    agree within sampling noise (about 0.02 here; turning ColorJitter off moves the means
    by 0.07)."""
    from fer_bench.pretrain.data import Source, merge_sources
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from reference_loop import PilImages, official_transform, reference_loader
    from fer_bench.synth import sample_faces

    torch.manual_seed(0)                       # torchvision's transforms draw from it
    faces, labels = sample_faces(16, size=24, seed=3)
    data = merge_sources([Source("toy", "synth-wild", "synth-wild", (), faces, labels, "x")])
    (v1, v2), fine, coarse = next(iter(reference_loader(data, 8, 24, workers=0)))
    assert v1.shape == v2.shape == (8, 3, 24, 24) and fine.shape == coarse.shape == (8,)

    cfg = AugmentConfig(size=24)
    pil = PilImages(data, official_transform(cfg))
    ref = torch.stack([pil[i % 16][0] for i in range(1600)])
    g = torch.Generator().manual_seed(0)
    fast = torch.cat([BatchAugment(cfg)(data.images, g) for _ in range(100)])
    assert torch.allclose(ref.mean((0, 2, 3)), fast.mean((0, 2, 3)), atol=0.05)
    assert torch.allclose(ref.std((0, 2, 3)), fast.std((0, 2, 3)), rtol=0.03)
