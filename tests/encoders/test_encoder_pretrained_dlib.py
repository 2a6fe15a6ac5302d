"""dlib-face: metadata and error paths (always); the real descriptor when dlib is installed
and `fer-bench encoders fetch dlib-face` has filled the test cache."""
from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.encoders import dlib_face as df
from fer_bench.fetch import WeightsNotFetched, cached_path, locate

HAS_DLIB = importlib.util.find_spec("dlib") is not None
FETCHED = all(cached_path(p).is_file() for p in (df.RECOGNITION, df.LANDMARKS))
needs_weights = pytest.mark.skipif(not (HAS_DLIB and FETCHED), reason=(
    "needs dlib (pip install 'fer-bench[identity]') and fetched weights "
    "(FER_BENCH_CACHE=<test cache> fer-bench encoders fetch dlib-face)"))


def test_identity_encoder_metadata():
    info = get_encoder("dlib-face").info
    assert info.embed_dim == 128 and info.pretrain_classes == ()
    assert "fer2013-images" not in info.pretrained_on
    assert info.licence.startswith("CC0")
    # the landmark model places the chip, so both files are in the digest
    assert df.LANDMARKS.sha256[:32] in info.weights_digest
    assert get_encoder("dlib-face", align=False).info.weights_digest == df.RECOGNITION.sha256


def test_missing_dlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(ImportError, match=r"fer-bench\[identity\]"):
        get_encoder("dlib-face").embed(torch.zeros(1, 3, 150, 150, dtype=torch.uint8))


@pytest.mark.skipif(not HAS_DLIB, reason="dlib not installed")
def test_missing_weights_name_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    with pytest.raises(WeightsNotFetched, match="fer-bench encoders fetch dlib-face"):
        get_encoder("dlib-face").embed(torch.zeros(1, 3, 150, 150, dtype=torch.uint8))


@needs_weights
def test_dlib_face_passes_check_encoder():
    from fer_bench.check_encoder import check_encoder

    report = check_encoder(get_encoder("dlib-face"), n=3)
    assert report.passed, report.format()


@needs_weights
def test_aligned_descriptor_is_the_descriptor_of_dlibs_face_chip():
    """align=True = the network on dlib's 5-landmark chip (as face_recognition computes
    it); align=False feeds the image itself as the chip."""
    from fer_bench.synth import sample_faces

    faces = sample_faces(2, size=150, preset="synth-wild")[0]
    aligned = get_encoder("dlib-face")
    feats = aligned.embed(faces)
    describer = df.DlibDescriber(True, str(locate(df.RECOGNITION)), str(locate(df.LANDMARKS)))
    chips = torch.stack([torch.from_numpy(describer.chip(f.permute(1, 2, 0).numpy().copy()))
                         for f in faces]).permute(0, 3, 1, 2)
    assert chips.shape == (2, 3, df.CHIP, df.CHIP)
    assert torch.allclose(get_encoder("dlib-face", align=False).embed(chips), feats, atol=1e-6)
    assert not torch.allclose(get_encoder("dlib-face", align=False).embed(faces), feats, atol=1e-3)


@needs_weights
def test_two_worker_processes_give_the_bytes_of_one():
    from fer_bench.synth import sample_faces

    faces = sample_faces(16, size=150, preset="synth-wild")[0]
    one = get_encoder("dlib-face", workers=1).embed(faces).numpy()
    two = get_encoder("dlib-face", workers=2).embed(faces).numpy()
    assert one.shape == (16, 128) and one.tobytes() == two.tobytes()


def test_runtime_is_in_the_revision_and_checked():
    torch_rev = get_encoder("dlib-face").info.revision
    assert torch_rev.endswith("-torch")
    # dlib's own network keeps the revision its records and cached features were made with
    assert get_encoder("dlib-face", runtime="dlib").info.revision == \
        "face-recognition-models-0.3.0-chip5"
    with pytest.raises(ValueError, match="torch, dlib"):
        get_encoder("dlib-face", runtime="onnx")


@needs_weights
def test_torch_port_matches_dlibs_own_network():
    """The port's tolerance: descriptors (norm about 1.4) within 1e-5 of dlib's, on aligned
    chips and on resized crops."""
    from fer_bench.synth import sample_faces

    faces = sample_faces(12, size=150, preset="synth-wild")[0]
    for align in (True, False):
        ours = get_encoder("dlib-face", align=align).embed(faces)
        reference = get_encoder("dlib-face", align=align, runtime="dlib").embed(faces)
        assert ours.shape == reference.shape == (12, 128)
        assert (ours - reference).abs().max() < 1e-5
        assert reference.norm(dim=1).min() > 0.5
