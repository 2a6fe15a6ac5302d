"""The face-crop hook between the image loader and the encoder.

``spec`` None means the images are aligned faces already (RAF-DB aligned, FER2013,
CK+48, generated faces): the hook returns them unchanged. Otherwise ``spec`` is a dict,
recorded in ``Dataset.face_crop`` and so in the feature key, whose ``method`` selects:

- ``"box"``: crop the manifest's face box (ExpW, AffectNet) grown by ``margin``.
- ``"haar"``: detect the largest face with OpenCV's bundled Haar cascade, rotate about
  the eye midpoint so the eye line is horizontal when both eyes are found
  (``align``), and crop the face box grown by ``margin``. ``no_face`` says what
  happens when no face is found: ``"full-image"`` (use the whole image), ``"error"``
  (raise :class:`NoFaceError` naming nothing but the policy; the loader names the file),
  or ``"skip"`` (the adapter drops such rows up front, see
  :func:`fer_bench.datasets.validation.drop_faceless`).

Build complete specs with :func:`haar_spec` so every setting that changes pixels is
written out (and keyed), not left to a default that might change.

Detection and crop are separate steps: :func:`fer_bench.images.detections.detect` finds
the face (on a copy downscaled to ``detect_size``) and :func:`crop_detection` cuts it, so
a detection can come from the detection cache instead (the image loader passes
``detect``, see :mod:`fer_bench.datasets.detections`).
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import torch

from fer_bench.images.detections import detect as run_detector
from fer_bench.images.face_detect import HAAR_DEFAULTS, NO_FACE_POLICIES, FaceDetection


class NoFaceError(ValueError):
    """No face found where the crop policy requires one."""


def haar_spec(margin: float = 0.2, align: bool = True, no_face: str = "full-image",
              **detector) -> dict:
    """A complete, JSON-able Haar crop spec (every default written out)."""
    if no_face not in NO_FACE_POLICIES:
        raise ValueError(f"no_face must be one of {NO_FACE_POLICIES}, got {no_face!r}")
    unknown = set(detector) - set(HAAR_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown Haar settings {sorted(unknown)}; known: {sorted(HAAR_DEFAULTS)}")
    size = detector.get("detect_size", HAAR_DEFAULTS["detect_size"])
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"detect_size must be a whole number of pixels, 0 or more (0: full "
                         f"resolution), got {size!r}")
    return {"method": "haar", "margin": float(margin), "align": bool(align),
            "no_face": no_face, **HAAR_DEFAULTS, **detector}


def crop_box(image: torch.Tensor, box: tuple[int, int, int, int], margin: float = 0.0,
             square: bool = True) -> torch.Tensor:
    """Crop (x, y, w, h) grown by ``margin`` (fraction of the box), clamped to the image."""
    _, H, W = image.shape
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    if square:
        w = h = max(w, h)
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    x0, y0 = max(0, int(round(cx - w / 2))), max(0, int(round(cy - h / 2)))
    x1, y1 = min(W, int(round(cx + w / 2))), min(H, int(round(cy + h / 2)))
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {box} lies outside the {W}x{H} image")
    return image[:, y0:y1, x0:x1]


def eye_alignment_matrix(eyes) -> np.ndarray:
    """2x3 affine rotation about the eye midpoint that makes the eye line horizontal."""
    import cv2

    (lx, ly), (rx, ry) = eyes
    angle = math.degrees(math.atan2(ry - ly, rx - lx))
    return cv2.getRotationMatrix2D(((lx + rx) / 2.0, (ly + ry) / 2.0), angle, 1.0)


def align_to_eyes(image: torch.Tensor, detection: FaceDetection) -> tuple[torch.Tensor, tuple]:
    """Rotate the image so the eyes are level; return it and the face box moved with it."""
    import cv2

    m = eye_alignment_matrix(detection.eyes)
    arr = image.permute(1, 2, 0).numpy()
    rotated = cv2.warpAffine(arr, m, (arr.shape[1], arr.shape[0]), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    rotated = rotated[..., None] if rotated.ndim == 2 else rotated
    x, y, w, h = detection.box
    cx, cy = m @ np.array([x + w / 2.0, y + h / 2.0, 1.0])   # the rotation keeps the box size
    box = (int(round(cx - w / 2)), int(round(cy - h / 2)), w, h)
    return torch.from_numpy(np.ascontiguousarray(rotated)).permute(2, 0, 1), box


def outcome(detection: FaceDetection | None, spec: dict) -> str:
    """What a crop makes of a detection: "aligned", "face" (found; eyes not found or
    alignment off) or "no face"."""
    if detection is None:
        return "no face"
    return "aligned" if _use_eyes(detection, spec) else "face"


def _use_eyes(detection: FaceDetection, spec: dict) -> bool:
    # The Haar detector always looks for the eyes; align=false leaves them unused.
    # MediaPipe always returns eyes and has always aligned with them (its spec's align is
    # not read), which this keeps.
    return detection.eyes is not None and (spec.get("method") == "mediapipe"
                                           or bool(spec.get("align", True)))


def crop_detection(image: torch.Tensor, detection: FaceDetection | None,
                   spec: dict) -> tuple[torch.Tensor | None, str]:
    """Cut the face ``detection`` found in ``image`` as ``spec`` says (align, margin) ->
    (crop or None when no face, :func:`outcome`)."""
    found = outcome(detection, spec)
    if detection is None:
        return None, found
    margin = float(spec.get("margin", 0.2))
    if found == "aligned":
        rotated, box = align_to_eyes(image, detection)
        return crop_box(rotated, box, margin), found
    return crop_box(image, detection.box, margin), found


def detect_and_crop(image: torch.Tensor, spec: dict) -> tuple[torch.Tensor | None, str]:
    """Detector crop of one image -> (crop or None, outcome) with outcome one of
    "aligned", "face" (found, eyes not found or alignment off), "no face"."""
    return crop_detection(image, run_detector(image, spec), spec)


def apply_face_crop(image: torch.Tensor, box, spec: dict | None,
                    stats: Counter | None = None, detect=None) -> torch.Tensor:
    """Crop one uint8 (C, H, W) image as ``spec`` says; ``stats`` (optional) counts the
    outcomes ("box", "aligned", "face", "no face") so callers can report them.
    ``detect`` (optional): image -> FaceDetection or None, used instead of running the
    spec's detector (the image loader passes a detection-cache look-up)."""
    if spec is None:
        return image
    method = spec.get("method", "box")
    if method == "box":
        if box is None:
            _count(stats, "no box")
            return image
        _count(stats, "box")
        return crop_box(image, box, float(spec.get("margin", 0.0)))
    if method in ("haar", "mediapipe"):
        detection = detect(image) if detect is not None else run_detector(image, spec)
        crop, found = crop_detection(image, detection, spec)
        _count(stats, found)
        if crop is not None:
            return crop
        policy = spec.get("no_face", "full-image")
        if policy == "full-image":
            return image
        raise NoFaceError(f"no face found (face crop policy no_face={policy!r})")
    raise ValueError(f"unknown face-crop method {method!r}; known: box, haar, mediapipe")


def _count(stats: Counter | None, what: str) -> None:
    if stats is not None:
        stats[what] += 1
