"""Face detection with MediaPipe's BlazeFace (Bazarevsky et al. 2019), a face-crop backend.

BlazeFace ships inside ``mediapipe==0.10.14`` (extra ``landmarks``; Apache-2.0): the
short-range model (faces within ~2 m, selfie-like framing) and the full-range one (smaller
faces further away). Unlike the Haar cascade it returns eye keypoints with every face, so
eye-line alignment never falls back. :func:`detect_face_mediapipe` returns the same
:class:`~fer_bench.images.face_detect.FaceDetection` as the Haar detector, so the face-crop
hook can use either; :func:`mediapipe_spec` writes out every setting that changes pixels.
"""
from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from fer_bench.images.face_detect import NO_FACE_POLICIES, FaceDetection

# Pinned: releases after 0.10.14 no longer ship the face-mesh model the facemesh encoder
# uses; the detector and that encoder share one mediapipe.
MEDIAPIPE_VERSION = "0.10.14"
MEDIAPIPE_DEFAULTS = {
    "model": "short-range",   # or "full-range"
    "min_confidence": 0.5,
}
_MODEL_SELECTION = {"short-range": 0, "full-range": 1}


def mediapipe_spec(margin: float = 0.2, align: bool = True, no_face: str = "full-image",
                   **detector) -> dict:
    """A complete, JSON-able MediaPipe crop spec (``method`` "mediapipe")."""
    if no_face not in NO_FACE_POLICIES:
        raise ValueError(f"no_face must be one of {NO_FACE_POLICIES}, got {no_face!r}")
    unknown = set(detector) - set(MEDIAPIPE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown MediaPipe settings {sorted(unknown)}; known: "
                         f"{sorted(MEDIAPIPE_DEFAULTS)}")
    p = {**MEDIAPIPE_DEFAULTS, **detector}
    if p["model"] not in _MODEL_SELECTION:
        raise ValueError(f"MediaPipe model must be one of {sorted(_MODEL_SELECTION)}, "
                         f"got {p['model']!r}")
    return {"method": "mediapipe", "margin": float(margin), "align": bool(align),
            "no_face": no_face, "model": p["model"], "min_confidence": float(p["min_confidence"])}


def import_mediapipe(user: str):
    """mediapipe of the pinned version, or an ImportError naming the extra; ``user`` (e.g.
    "the facemesh encoder") says in the message what needs it."""
    # MediaPipe's C++ logging (glog) prints a line per graph start unless told otherwise.
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        import mediapipe
    except ImportError as e:
        raise ImportError(f"{user} needs mediapipe=={MEDIAPIPE_VERSION} (extra "
                          f"'landmarks'): pip install --no-deps mediapipe=={MEDIAPIPE_VERSION} "
                          f"absl-py attrs flatbuffers 'protobuf>=4.25.3,<5' ({e})") from None
    if mediapipe.__version__ != MEDIAPIPE_VERSION:
        raise ImportError(f"{user} needs mediapipe==={MEDIAPIPE_VERSION}, found "
                          f"{mediapipe.__version__} (releases after 0.10.14 no longer ship "
                          "the face-mesh model)")
    return mediapipe


@contextmanager
def quiet_protobuf():
    """Silence the protobuf deprecation warning mediapipe 0.10.14 triggers on every call."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype",
                                category=UserWarning)
        yield


@lru_cache(maxsize=4)
def _detector(model: str, min_confidence: float):
    mp = import_mediapipe("the mediapipe face crop")
    return mp.solutions.face_detection.FaceDetection(
        model_selection=_MODEL_SELECTION[model], min_detection_confidence=min_confidence)


def rgb_array(image) -> np.ndarray:
    """uint8 (H, W, 3) RGB from a uint8 tensor or array (C, H, W), C = 1 or 3."""
    arr = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.shape[0] == 1:
        arr = np.repeat(arr, 3, axis=0)
    return np.ascontiguousarray(arr.transpose(1, 2, 0))


def detect_face_mediapipe(image, spec: dict | None = None) -> FaceDetection | None:
    """The most confident face in a uint8 (C, H, W) image, with both eye centres, or None."""
    p = {**MEDIAPIPE_DEFAULTS, **(spec or {})}
    rgb = rgb_array(image)
    h, w = rgb.shape[:2]
    with quiet_protobuf():
        result = _detector(p["model"], float(p["min_confidence"])).process(rgb)
    if not result.detections:
        return None
    best = max(result.detections, key=lambda d: d.score[0])
    return detection_from_relative(best.location_data, w, h)


def detection_from_relative(location, width: int, height: int) -> FaceDetection | None:
    """MediaPipe LocationData (relative box + 6 keypoints, the eyes first) -> pixels,
    clamped to the image; eyes ordered as they appear, the image's left first."""
    box = location.relative_bounding_box
    x0 = max(0, int(round(box.xmin * width)))
    y0 = max(0, int(round(box.ymin * height)))
    x1 = min(width, int(round((box.xmin + box.width) * width)))
    y1 = min(height, int(round((box.ymin + box.height) * height)))
    if x1 <= x0 or y1 <= y0:
        return None
    eyes = sorted((k.x * width, k.y * height) for k in list(location.relative_keypoints)[:2])
    return FaceDetection((x0, y0, x1 - x0, y1 - y0),
                         tuple(eyes) if len(eyes) == 2 else None)
