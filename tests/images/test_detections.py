"""Face detections: downscaled detection mapped back, the detector spec and key, the
stored form, and the cache file (corrupt, foreign, unwritable)."""
from __future__ import annotations

import json
from functools import lru_cache

import cv2
import numpy as np
import pytest
import torch

from fer_bench.images.detections import (DetectionCache, decode, detect, detector_key,
                                         detector_spec, downscaled, encode)
from fer_bench.images.face_detect import FaceDetection
from fer_bench.images.facecrop import apply_face_crop, crop_detection, haar_spec


@lru_cache(maxsize=1)
def large_frames():
    """Generated lab faces (300-460 px) pasted into 1280x960 frames on a smooth random
    background: (image (3, H, W), (x, y, side) of the face)."""
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(3, size=256, seed=3, preset="synth-lab")
    rng = np.random.default_rng(1)
    frames = []
    for face in faces:
        coarse = rng.integers(40, 200, (6, 8, 3), dtype=np.uint8)
        frame = cv2.resize(coarse, (1280, 960), interpolation=cv2.INTER_LINEAR)
        side = int(rng.integers(300, 461))
        x, y = int(rng.integers(0, 1280 - side)), int(rng.integers(0, 960 - side))
        frame[y:y + side, x:x + side] = cv2.resize(face.permute(1, 2, 0).numpy(), (side, side),
                                                   interpolation=cv2.INTER_AREA)
        frames.append((torch.from_numpy(frame).permute(2, 0, 1).contiguous(), (x, y, side)))
    return frames


def test_downscaled_copy_and_its_factors():
    img = torch.zeros(3, 3000, 4000, dtype=torch.uint8)
    small, sx, sy = downscaled(img, 640)
    assert small.shape == (3, 480, 640)
    assert sx == pytest.approx(4000 / 640, rel=2e-3) and sy == pytest.approx(3000 / 480, rel=2e-3)
    same, sx, sy = downscaled(torch.zeros(1, 480, 640, dtype=torch.uint8), 640)
    assert same.shape == (1, 480, 640) and (sx, sy) == (1.0, 1.0)
    assert downscaled(img, 0)[0].shape == (3, 3000, 4000)       # 0: full resolution


def test_downscaled_detection_maps_back_exactly_for_a_whole_factor():
    """A 2x nearest-neighbour enlargement shrinks back to the very pixels of the 640x480
    frame, so detecting on it at detect_size=640 finds exactly twice that frame's box:
    the mapping back to full resolution adds no error of its own. (The eyes are then
    searched in that box at full resolution.)"""
    for image, _ in large_frames():
        base = torch.from_numpy(cv2.resize(image.permute(1, 2, 0).numpy(), (640, 480),
                                           interpolation=cv2.INTER_AREA)).permute(2, 0, 1)
        big = base.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2).contiguous()
        at_base = detect(base, haar_spec())
        on_big = detect(big, haar_spec(detect_size=640))
        assert (at_base is None) == (on_big is None)
        if at_base is not None:
            assert on_big.box == tuple(2 * v for v in at_base.box)
            x, y, w, h = on_big.box
            for ex, ey in on_big.eyes or ():
                assert x <= ex <= x + w and y <= ey <= y + h / 2 + h / 10


def test_downscaled_detection_lands_within_a_few_pixels_of_full_resolution():
    """Tolerance: the box centre within 3% of the face side (measured: <= 4 px on 300-460 px
    faces in 1280x960 frames) and the side within 12% (the cascade's scale steps are 5%
    apart, so the two resolutions can settle one or two steps apart)."""
    compared = 0
    for image, (x, y, side) in large_frames():
        full = detect(image, haar_spec(detect_size=0))
        small = detect(image, haar_spec())             # detect_size 640: halved
        if full is None or small is None:
            continue
        (fx, fy, fw, _), (bx, by, bw, _) = full.box, small.box
        assert abs((fx + fw / 2) - (bx + bw / 2)) <= 0.03 * fw
        assert abs((fy + fw / 2) - (by + bw / 2)) <= 0.03 * fw
        assert abs(bw - fw) <= 0.12 * fw
        assert abs(bx + bw / 2 - (x + side / 2)) < side / 4        # on the pasted face
        assert abs(by + bw / 2 - (y + side / 2)) < side / 4
        compared += 1
    assert compared >= 2                                          # measured 3/3


def test_detector_spec_leaves_the_crop_settings_out():
    a = detector_spec(haar_spec(margin=0.1, align=True, no_face="error"))
    b = detector_spec(haar_spec(margin=0.4, align=False, no_face="skip"))
    assert a == b and a["method"] == "haar" and a["detect_size"] == 640
    assert not {"margin", "align", "no_face"} & set(a)
    assert detector_key(haar_spec(margin=0.1)) == detector_key(haar_spec(margin=0.4))
    assert detector_key(haar_spec()) != detector_key(haar_spec(detect_size=0))
    assert detector_key(haar_spec()) != detector_key(haar_spec(min_neighbors=5))
    assert detector_spec(None) is None and detector_spec({"method": "box"}) is None
    with pytest.raises(ValueError, match="detect_size"):
        haar_spec(detect_size=-1)


def test_align_is_a_crop_setting_applied_to_one_detection():
    image, _ = large_frames()[0]
    found = detect(image, haar_spec(align=False))
    assert found is not None and found.eyes is not None        # eyes found regardless
    assert crop_detection(image, found, haar_spec(align=False))[1] == "face"
    assert crop_detection(image, found, haar_spec(align=True))[1] == "aligned"
    # a crop from a given detection equals the crop that runs the detector itself
    direct = apply_face_crop(image, None, haar_spec())
    assert torch.equal(apply_face_crop(image, None, haar_spec(), detect=lambda _: found), direct)


def test_stored_form_round_trips_exactly():
    for det in (None, FaceDetection((1, 2, 30, 40)),
                FaceDetection((5, 6, 70, 80), ((10.5, 20.25), (40.0, 21.125)))):
        assert decode(json.loads(json.dumps(encode(det)))) == det
    for bad in ([1, 2, 3], ["a", 1, 2, 3], [1.5, 2, 3, 4], {"box": [1, 2, 3, 4]}, True):
        with pytest.raises(ValueError):
            decode(bad)


def test_cache_file_merges_and_survives_corruption(tmp_path):
    cache = DetectionCache(tmp_path, "folder:/some/where", haar_spec())
    assert cache.path.parent == tmp_path / "detections" and "/" not in cache.path.name
    assert cache.load() == {}                                    # missing: empty, quiet
    assert cache.save({"a" * 64: [1, 2, 3, 4]})
    assert cache.save({"b" * 64: None})
    assert cache.load() == {"a" * 64: [1, 2, 3, 4], "b" * 64: None}
    # another detector's cache (detect_size) is another file
    assert DetectionCache(tmp_path, "folder:/some/where", haar_spec(detect_size=0)).path \
        != cache.path
    cache.path.write_text('{"format": 1, "detections": {trunc')
    fresh = DetectionCache(tmp_path, "folder:/some/where", haar_spec())
    with pytest.warns(UserWarning, match="ignored and rebuilt"):
        assert fresh.load() == {}
    assert fresh.save({"c" * 64: [5, 6, 7, 8]})                  # rebuilt from new results
    assert json.loads(fresh.path.read_text())["detections"] == {"c" * 64: [5, 6, 7, 8]}
    # entries that are not detections are dropped on load, the rest kept
    data = json.loads(fresh.path.read_text())
    data["detections"]["d" * 64] = "junk"
    fresh.path.write_text(json.dumps(data))
    assert fresh.load() == {"c" * 64: [5, 6, 7, 8]}
    assert not list(fresh.path.parent.glob("*.tmp"))


def test_unwritable_cache_costs_a_warning_not_an_error(tmp_path):
    blocker = tmp_path / "detections"
    blocker.write_text("a file where the folder should be")
    cache = DetectionCache(tmp_path, "jaffe", haar_spec())
    with pytest.warns(UserWarning, match="cannot be written"):
        assert not cache.save({"a" * 64: None})
