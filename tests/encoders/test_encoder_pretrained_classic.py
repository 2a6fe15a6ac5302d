"""lbp and hog: the descriptors, their grids, and the uint8 round trip through the sealed
preprocessing (scikit-image, extra `classic`)."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from fer_bench.check_encoder import check_encoder
from fer_bench.encoder_registry import get_encoder
from fer_bench.images.descriptors import lbp_histograms
from fer_bench.synth import sample_faces

feature = pytest.importorskip("skimage.feature")


def test_lbp_cells_are_normalised_histograms_of_59_uniform_codes():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 96), dtype=np.uint8)
    hist = lbp_histograms(image, points=8, radius=2, grid=7).reshape(49, 59)
    np.testing.assert_allclose(hist.sum(1), 1.0)
    # The 7x7 split of 96 px gives cells of 14 and 13 px (np.array_split): the top-left
    # cell's histogram is that of the LBP codes of rows and columns 0..13.
    codes = feature.local_binary_pattern(image, 8, 2, method="nri_uniform")
    expected = np.bincount(codes[:14, :14].astype(int).ravel(), minlength=59) / 196
    np.testing.assert_allclose(hist[0], expected)


def test_lbp_of_a_flat_image_is_one_pattern_away_from_the_border():
    """On a flat 32x32 image every pixel at least R=2 from the border sees 8 equal
    neighbours (one code); scikit-image reads zeros beyond the border, so the outer ring
    differs. Each 16x16 cell of a 2x2 grid holds 14x14 interior pixels: 196/256."""
    hist = lbp_histograms(np.full((32, 32), 77, np.uint8), radius=2, grid=2).reshape(4, 59)
    np.testing.assert_allclose(hist.max(1), 196 / 256)
    assert (hist.argmax(1) == hist.argmax(1)[0]).all()


def test_hog_encoder_equals_scikit_image_on_the_preprocessed_face():
    """The network input is uint8/255; the wrapper must hand scikit-image the exact uint8
    face, so the encoder equals skimage.feature.hog on the resized grey image."""
    enc = get_encoder("hog")
    faces = sample_faces(3, size=112)[0]
    grey = enc.info.preprocessing.resize_uint8(faces)[:, 0].numpy()
    expected = np.stack([feature.hog(g, orientations=9, pixels_per_cell=(8, 8),
                                     cells_per_block=(2, 2), block_norm="L2-Hys") for g in grey])
    np.testing.assert_allclose(enc.embed(faces).numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, options, dim", [
    ("lbp", {}, 7 * 7 * 59),
    ("lbp", {"grid": 4, "points": 8, "radius": 1}, 4 * 4 * 59),
    ("hog", {}, 7 * 7 * 36),
    ("hog", {"size": 96, "cell": 12}, 7 * 7 * 36),
])
def test_declared_dimension_matches_the_output(name, options, dim):
    enc = get_encoder(name, **options)
    assert enc.info.embed_dim == dim
    assert enc.embed(sample_faces(2, size=80)[0]).shape == (2, dim)


def test_options_change_the_revision_so_cached_features_do_not_mix():
    assert get_encoder("lbp").info.revision != get_encoder("lbp", grid=5).info.revision
    assert get_encoder("hog").info.revision != get_encoder("hog", cell=4).info.revision


@pytest.mark.parametrize("name", ["lbp", "hog"])
def test_classic_descriptors_pass_check_encoder(name):
    report = check_encoder(get_encoder(name), n=6)
    assert report.passed, report.format()


def test_expressions_change_the_descriptors():
    faces, labels = sample_faces(8, size=96, preset="synth-lab")
    for name in ("lbp", "hog"):
        feats = get_encoder(name).embed(faces)
        assert torch.cdist(feats, feats).triu(1)[torch.triu(torch.ones(8, 8), 1) > 0].min() > 0


def test_missing_scikit_image_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(ImportError, match=r"fer-bench\[classic\]"):
        get_encoder("lbp").embed(torch.zeros(1, 1, 96, 96, dtype=torch.uint8))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="grid"):
        get_encoder("lbp", grid=40)
    with pytest.raises(ValueError, match="fewer than"):
        get_encoder("hog", size=8, cell=8)
    with pytest.raises(ValueError, match="no --weights"):
        get_encoder("hog", weights="x.pt")


@pytest.mark.parametrize("name", ["lbp", "hog"])
def test_descriptors_over_two_worker_processes_are_the_bytes_of_one(name):
    pytest.importorskip("skimage")
    faces, _ = sample_faces(24, size=64, seed=5)
    faces = torch.as_tensor(faces)
    one = get_encoder(name, workers=1).embed(faces).numpy()
    enc = get_encoder(name, workers=2)
    two = enc.embed(faces).numpy()
    assert one.shape == (24, enc.info.embed_dim)
    assert one.tobytes() == two.tobytes()
    # the worker count is not part of the encoder's identity (nor of the feature key)
    assert get_encoder(name, workers=1).info == get_encoder(name, workers=2).info
