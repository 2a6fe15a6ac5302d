"""Face and eye detection with OpenCV's Haar cascades (Viola & Jones 2001).

The cascades ship inside opencv-python-headless (``cv2.data.haarcascades``, OpenCV 4.x;
5.x dropped them), so detection needs no download. Defaults: the ``frontalface_alt2``
cascade, scaleFactor 1.05, minNeighbors 3, histogram equalisation first. On raw
generated frames (scripts/facecrop_rate.py, 60 per preset) they found 65% / 62% of
lab / wild faces against 45% / 50% for OpenCV's tutorial setting (default cascade, 1.1,
5); the largest detection is kept, which keeps the extra false positives of a looser
setting out. (Generated faces are drawn, not photographed, and Haar was trained on
photographs: these rates are not its rate on CK+ or JAFFE, which were not measured.)
``min_size`` is a fraction of the shorter image side so one setting fits 48 px crops and
640 px frames alike, and keeps its meaning when an image is downscaled for
detection (``detect_size``, see :mod:`fer_bench.images.detections`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

# What a crop does when no face is found (see fer_bench.images.facecrop); every detector's
# spec takes one.
NO_FACE_POLICIES = ("full-image", "skip", "error")
HAAR_DEFAULTS = {
    "cascade": "haarcascade_frontalface_alt2.xml",
    "eye_cascade": "haarcascade_eye.xml",
    "scale_factor": 1.05,
    "min_neighbors": 3,
    "min_size": 0.1,       # smallest face side, as a fraction of the shorter image side
    "equalize": True,      # histogram equalisation before detection
    # Longest image side detection runs at (larger images are downscaled, results mapped
    # back; 0 = full resolution): fer_bench.images.detections.detect. detect_face itself
    # works at the resolution it is given.
    "detect_size": 640,
}


@dataclass(frozen=True)
class FaceDetection:
    box: tuple[int, int, int, int]                 # x, y, w, h in pixels
    # Eye centres (x, y) as they appear in the image: the eye on the image's left first.
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None


@cache
def _cascade(name: str):
    import cv2

    if not hasattr(cv2, "CascadeClassifier"):
        raise RuntimeError(f"OpenCV {cv2.__version__} has no CascadeClassifier: install "
                           "opencv-python-headless>=4.8,<5 (5.x dropped the Haar cascades)")
    path = Path(cv2.data.haarcascades) / name
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise RuntimeError(f"cannot load Haar cascade {path}: install opencv-python-headless<5, "
                           "which ships its cascades in cv2/data")
    return classifier


def grey_array(image) -> np.ndarray:
    """uint8 (H, W) from a uint8 tensor (C, H, W), C = 1 or 3 (RGB)."""
    arr = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    if arr.ndim == 2:
        return np.ascontiguousarray(arr)
    if arr.shape[0] == 1:
        return np.ascontiguousarray(arr[0])
    r, g, b = (arr[i].astype(np.float32) for i in range(3))   # ITU-R 601 luma, as cv2 does
    return np.clip(0.299 * r + 0.587 * g + 0.114 * b + 0.5, 0, 255).astype(np.uint8)


def detect_face(grey: np.ndarray, spec: dict | None = None,
                find_eyes: bool = True) -> FaceDetection | None:
    """The largest face in a grey image (and its eyes when both are found), or None."""
    import cv2

    p = {**HAAR_DEFAULTS, **(spec or {})}
    img = cv2.equalizeHist(grey) if p["equalize"] else grey
    side = max(1, int(round(float(p["min_size"]) * min(grey.shape))))
    faces = _cascade(p["cascade"]).detectMultiScale(
        img, scaleFactor=float(p["scale_factor"]), minNeighbors=int(p["min_neighbors"]),
        minSize=(side, side))
    if len(faces) == 0:
        return None
    x, y, w, h = (int(v) for v in max(faces, key=lambda f: int(f[2]) * int(f[3])))
    eyes = find_eyes_in_face(img, (x, y, w, h), p) if find_eyes else None
    return FaceDetection((x, y, w, h), eyes)


def find_eyes_in_face(img: np.ndarray, box, p: dict | None = None):
    """Both eye centres of the face at ``box`` in grey image ``img`` (equalised as the
    spec says), or None: one eye in each half of the face's upper part, at about the
    same height.

    Eye cascades fire on brows and nostrils too; restricting each eye to its own half of
    the upper face and bounding the tilt (< 30 degrees) rejects most of those.
    """
    p = {**HAAR_DEFAULTS, **(p or {})}
    x, y, w, h = box
    roi = img[y:y + h // 2 + h // 10, x:x + w]
    side = max(4, w // 8)
    found = _cascade(p["eye_cascade"]).detectMultiScale(
        roi, scaleFactor=1.05, minNeighbors=3, minSize=(side, side), maxSize=(w // 2, w // 2))
    left = [e for e in found if e[0] + e[2] / 2 < w / 2]
    right = [e for e in found if e[0] + e[2] / 2 >= w / 2]
    if not left or not right:
        return None
    centre = lambda e: (x + e[0] + e[2] / 2.0, y + e[1] + e[3] / 2.0)  # noqa: E731
    a = centre(max(left, key=lambda e: int(e[2]) * int(e[3])))
    b = centre(max(right, key=lambda e: int(e[2]) * int(e[3])))
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx < 0.2 * w or abs(dy) > 0.58 * dx:       # too close, or tilted beyond ~30 degrees
        return None
    return (a, b)
