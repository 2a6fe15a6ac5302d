"""Face crop: hand-checked geometry, the no-face policies, and detection on raw frames."""
from collections import Counter
from functools import lru_cache

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from fer_bench.datasets import Dataset
from fer_bench.datasets.validation import drop_faceless
from fer_bench.images.face_detect import FaceDetection, detect_face, grey_array
from fer_bench.images.facecrop import (NoFaceError, align_to_eyes, apply_face_crop, crop_box,
                                       eye_alignment_matrix, haar_spec)


def test_crop_box_margin_square_and_clamp():
    img = torch.arange(100 * 80, dtype=torch.int32).reshape(1, 100, 80)
    # box 20x10 at (30, 40): squared to 20x20 around centre (40, 45), margin 0.5 -> 40x40
    out = crop_box(img, (30, 40, 20, 10), margin=0.5)
    assert out.shape == (1, 40, 40) and out[0, 0, 0] == img[0, 25, 20]
    # box at the corner: 40x40 around (80, 100) is cut to x 60..80, y 80..100
    assert crop_box(img, (70, 90, 20, 20), margin=0.5).shape == (1, 20, 20)
    with pytest.raises(ValueError, match="outside"):
        crop_box(img, (200, 200, 10, 10))


def test_eye_alignment_matrix_levels_the_eyes_about_their_midpoint():
    eyes = ((10.0, 20.0), (30.0, 40.0))                     # eye line at 45 degrees
    m = eye_alignment_matrix(eyes)
    (lx, ly), (rx, ry) = (m @ np.array([*e, 1.0]) for e in eyes)
    assert ly == pytest.approx(ry) and rx > lx
    assert ((lx + rx) / 2, (ly + ry) / 2) == pytest.approx((20.0, 30.0))     # midpoint fixed
    assert rx - lx == pytest.approx(np.hypot(20, 20))                         # no scaling


def test_align_to_eyes_rotates_pixels():
    img = np.zeros((60, 60), np.uint8)
    cv2.circle(img, (20, 24), 3, 255, -1)                   # left eye, higher in the image
    cv2.circle(img, (40, 34), 3, 255, -1)                   # right eye, lower
    det = FaceDetection((10, 10, 40, 40), ((20.0, 24.0), (40.0, 34.0)))
    rotated, box = align_to_eyes(torch.from_numpy(img)[None], det)
    ys, xs = np.nonzero(rotated[0].numpy() > 128)
    left, right = ys[xs < 30].mean(), ys[xs >= 30].mean()
    assert abs(left - right) < 1.0 and box[2:] == (40, 40)


def test_no_spec_and_box_method():
    img = torch.zeros(3, 50, 60, dtype=torch.uint8)
    assert apply_face_crop(img, (1, 2, 3, 4), None) is img
    stats = Counter()
    crop = apply_face_crop(img, (10, 10, 20, 20), {"method": "box", "margin": 0.25}, stats)
    assert crop.shape == (3, 30, 30)
    assert apply_face_crop(img, None, {"method": "box"}, stats) is img
    assert stats == {"box": 1, "no box": 1}
    with pytest.raises(ValueError, match="unknown face-crop method"):
        apply_face_crop(img, None, {"method": "mtcnn"})


def test_no_face_policies_on_a_blank_image():
    blank = torch.full((1, 120, 160), 128, dtype=torch.uint8)
    stats = Counter()
    assert apply_face_crop(blank, None, haar_spec(no_face="full-image"), stats) is blank
    with pytest.raises(NoFaceError, match="no_face='error'"):
        apply_face_crop(blank, None, haar_spec(no_face="error"), stats)
    assert stats == {"no face": 2}


def test_haar_spec_is_complete_and_checked():
    spec = haar_spec(margin=0.3)
    assert spec["method"] == "haar" and spec["margin"] == 0.3 and spec["cascade"].endswith(".xml")
    assert {"scale_factor", "min_neighbors", "min_size", "align", "no_face"} <= set(spec)
    with pytest.raises(ValueError, match="no_face"):
        haar_spec(no_face="drop")
    with pytest.raises(ValueError, match="unknown Haar settings"):
        haar_spec(neighbours=3)


def test_crop_settings_enter_the_manifest_digest():
    m = pd.DataFrame({"id": ["a"], "path": ["a.png"], "label": ["anger"], "split": ["train"],
                      "subject": [""]})
    digests = {Dataset("d", ".", ("anger",), m, face_crop=spec).manifest_digest()
               for spec in (None, haar_spec(), haar_spec(margin=0.3), haar_spec(align=False))}
    assert len(digests) == 4


@lru_cache(maxsize=1)
def raw_frames():
    """Generated lab faces pasted into plain 200x260 frames at known places (80-110 px)."""
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(4, size=96, seed=3, preset="synth-lab")
    rng = np.random.default_rng(0)
    frames = []
    for face in faces:
        side = int(rng.integers(80, 111))
        frame = np.full((200, 260, 3), 90, np.uint8)
        x, y = int(rng.integers(0, 260 - side)), int(rng.integers(0, 200 - side))
        frame[y:y + side, x:x + side] = cv2.resize(face.permute(1, 2, 0).numpy(), (side, side))
        frames.append((torch.from_numpy(frame).permute(2, 0, 1).contiguous(), (x, y, side)))
    return frames


def test_haar_finds_generated_faces_in_raw_frames():
    found = 0
    for image, (x, y, side) in raw_frames():
        det = detect_face(grey_array(image), haar_spec())
        if det is not None:
            bx, by, bw, bh = det.box
            assert abs(bx + bw / 2 - (x + side / 2)) < side / 4      # on the pasted face
            assert abs(by + bh / 2 - (y + side / 2)) < side / 4
            found += 1
            crop = apply_face_crop(image, None, haar_spec())
            assert crop.shape[0] == 3 and crop.shape[1] < image.shape[1]
    assert found >= 3                     # measured 4/4 for this seed


def test_skip_policy_drops_faceless_rows_up_front(tmp_path):
    from PIL import Image

    image, _ = raw_frames()[0]
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(tmp_path / "face.png")
    Image.fromarray(np.full((200, 260), 90, np.uint8)).save(tmp_path / "blank.png")
    m = pd.DataFrame({"id": ["face", "blank"], "path": ["face.png", "blank.png"],
                      "label": ["anger"] * 2, "split": ["train"] * 2, "subject": ["", ""]})
    ds = Dataset("d", tmp_path, ("anger",), m, face_crop=haar_spec(no_face="skip"))
    kept = drop_faceless(ds)
    assert kept.manifest["id"].tolist() == ["face"] and kept.info["skipped"] == {"no face": 1}


def test_mediapipe_backend_crops_a_pasted_face():
    pytest.importorskip("mediapipe", reason="extra 'landmarks' (mediapipe) not installed")
    from fer_bench.images.mediapipe_detect import mediapipe_spec
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(1, 112, seed=3)
    frame = torch.full((3, 240, 320), 40, dtype=torch.uint8)
    frame[:, 60:172, 100:212] = faces[0]  # face occupies x 100..212, y 60..172
    stats = Counter()
    crop = apply_face_crop(frame, None, mediapipe_spec(margin=0.0, align=False), stats)
    assert stats["face"] + stats["aligned"] == 1
    # the crop is face-sized (not the 320x240 frame) and square-ish
    assert 50 <= crop.shape[1] <= 140 and abs(crop.shape[1] - crop.shape[2]) <= 2
