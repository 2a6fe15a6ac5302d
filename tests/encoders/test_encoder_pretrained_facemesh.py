"""facemesh: the geometry feature on hand-made landmarks (always), the missing-extra error,
and MediaPipe itself (landmarks, face detector) when mediapipe 0.10.14 is installed."""
from __future__ import annotations

import importlib.util
import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.encoders import facemesh as fm
from fer_bench.images.mediapipe_detect import detection_from_relative, mediapipe_spec

HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
needs_mediapipe = pytest.mark.skipif(not HAS_MEDIAPIPE, reason=(
    "mediapipe not installed: pip install --no-deps mediapipe==0.10.14 absl-py attrs "
    "flatbuffers 'protobuf>=4.25.3,<5'"))


def toy_landmarks(seed: int = 0) -> np.ndarray:
    """Random landmarks with the outer eye corners at (0, 0) and (2, 0)."""
    pts = np.random.default_rng(seed).normal(size=(fm.NUM_LANDMARKS, 3))
    pts[fm.RIGHT_EYE_OUTER] = (0, 0, 0)
    pts[fm.LEFT_EYE_OUTER] = (2, 0, 0)
    return pts


def test_distances_are_in_units_of_the_eye_corner_distance():
    pts = toy_landmarks()
    pts[61] = (0.2, 3, 0)   # mouth corners 1.6 apart: 0.8 eye-corner distances
    pts[291] = (1.8, 3, 0)
    feats = fm.geometry_features(pts)
    distances = dict(zip(fm.DISTANCES, feats[-len(fm.DISTANCES):]))
    assert distances["mouth width"] == pytest.approx(0.8)
    assert feats.shape == (fm.EMBED_DIM,) and feats.dtype == np.float32


def test_features_ignore_translation_scale_and_in_plane_rotation():
    pts = toy_landmarks(1)
    angle, scale, shift = math.radians(25), 3.5, np.array([40.0, -7.0, 2.0])
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = pts.copy()
    moved[:, :2] = pts[:, :2] @ rot.T
    moved = moved * scale + shift
    np.testing.assert_allclose(fm.geometry_features(moved), fm.geometry_features(pts), atol=1e-5)
    # but a change of shape is seen: open the mouth
    opened = pts.copy()
    opened[14, 1] += 0.5
    assert not np.allclose(fm.geometry_features(opened), fm.geometry_features(pts))


def test_landmarks_are_centred_and_eye_line_horizontal():
    feats = fm.geometry_features(toy_landmarks(2))
    pts = feats[:fm.NUM_LANDMARKS * 3].reshape(-1, 3)
    np.testing.assert_allclose(pts.mean(0), 0, atol=1e-6)
    eye = pts[fm.LEFT_EYE_OUTER] - pts[fm.RIGHT_EYE_OUTER]
    np.testing.assert_allclose(eye[:2], [1.0, 0.0], atol=1e-6)


def test_bad_landmarks_are_refused():
    with pytest.raises(ValueError, match=r"\(468, 3\)"):
        fm.geometry_features(np.zeros((68, 2)))
    with pytest.raises(ValueError, match="coincide"):
        fm.geometry_features(np.zeros((468, 3)))


def test_missing_mediapipe_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    enc = get_encoder("facemesh")
    assert enc.info.embed_dim == fm.EMBED_DIM and not enc.loaded  # metadata needs no mediapipe
    with pytest.raises(ImportError, match="extra 'landmarks'.*--no-deps mediapipe==0.10.14"):
        enc.embed(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))


def test_relative_detections_become_pixel_boxes_with_eyes_left_to_right():
    kp = lambda x, y: SimpleNamespace(x=x, y=y)  # noqa: E731
    location = SimpleNamespace(
        relative_bounding_box=SimpleNamespace(xmin=-0.1, ymin=0.2, width=0.5, height=0.5),
        # the first two keypoints are the eyes; they come back sorted by x
        relative_keypoints=[kp(0.30, 0.40), kp(0.10, 0.42), kp(0.2, 0.5), kp(0.2, 0.6),
                            kp(0.0, 0.4), kp(0.4, 0.4)])
    det = detection_from_relative(location, width=200, height=100)
    assert det.box == (0, 20, 80, 50)  # x clamped at 0: 200 * (0.5 - 0.1) = 80 wide
    assert det.eyes == ((20.0, 42.0), (60.0, 40.0))


def test_mediapipe_spec_writes_out_every_setting():
    assert mediapipe_spec() == {"method": "mediapipe", "margin": 0.2, "align": True,
                                "no_face": "full-image", "model": "short-range",
                                "min_confidence": 0.5}
    with pytest.raises(ValueError, match="full-range"):
        mediapipe_spec(model="long-range")
    with pytest.raises(ValueError, match="unknown MediaPipe settings"):
        mediapipe_spec(scale_factor=1.1)


@needs_mediapipe
def test_facemesh_passes_check_encoder():
    from fer_bench.check_encoder import check_encoder

    report = check_encoder(get_encoder("facemesh"), n=4)
    assert report.passed, report.format()


@needs_mediapipe
def test_landmarks_land_on_a_generated_face():
    """Eyes above the mouth, the subject's right eye on the image's left, on a frontal
    generated face."""
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(2, size=192, preset="synth-lab")
    landmarks = fm.FaceMeshLandmarks()
    for face in faces:
        pts = landmarks(face.permute(1, 2, 0).numpy())
        assert pts[fm.RIGHT_EYE_OUTER, 0] < pts[fm.LEFT_EYE_OUTER, 0]
        assert max(pts[159, 1], pts[386, 1]) < pts[13, 1] < pts[152, 1]  # eyes, lips, chin


@needs_mediapipe
def test_mediapipe_detector_finds_a_generated_face_on_a_canvas():
    from fer_bench.images.mediapipe_detect import detect_face_mediapipe
    from fer_bench.synth import sample_faces

    face = sample_faces(1, size=96, preset="synth-lab")[0][0]
    canvas = torch.zeros(3, 240, 320, dtype=torch.uint8)
    canvas[:, 70:166, 150:246] = face
    det = detect_face_mediapipe(canvas, mediapipe_spec())
    assert det is not None
    x, y, w, h = det.box
    assert 140 <= x + w / 2 <= 256 and 60 <= y + h / 2 <= 176  # centre inside the face
    assert det.eyes[0][0] < det.eyes[1][0]
