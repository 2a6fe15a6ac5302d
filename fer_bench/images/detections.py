"""Face detections: run once per image, on a downscaled copy, and remembered on disk.

Detection and crop are two steps. :func:`detect` runs the crop spec's detector (Haar or
MediaPipe) and returns a :class:`~fer_bench.images.face_detect.FaceDetection` (face box,
eye centres when both were found) or None (no face), in full-resolution pixels. The crop
(:func:`fer_bench.images.facecrop.crop_detection`) then applies ``align`` (use the eyes
or not), ``margin`` and, for no face, the ``no_face`` policy. The Haar detector always
looks for the eyes, whatever ``align`` says, so one detection serves every crop setting:
:func:`detector_spec` is the crop spec without ``margin``, ``align`` and ``no_face``.

Downscaling (Haar): an image whose longest side exceeds ``detect_size`` (default 640
px; 0 = never) is resized to that side (``cv2.INTER_AREA``) to find the face, whose box
is scaled back; the eyes are then searched in that face region at full resolution
(shrunk to ``detect_size`` when the face itself is larger), so the cost no longer grows
with the photo. Images no larger than ``detect_size`` (JAFFE, CK+, most FER sets) are
detected exactly as before. ``detect_size`` is in the crop spec
(:func:`~fer_bench.images.facecrop.haar_spec`) and so in the feature key. MediaPipe
resizes its input to its model's 128 or 192 px itself and takes no ``detect_size``.

The cache (:class:`DetectionCache`): one JSON file per dataset and detector,
``<cache>/detections/<dataset>.<detector key>.json``, holding a table content digest
(sha256 of the image file's bytes) -> result: ``null`` (no face), ``[x, y, w, h]`` (a face,
eyes not found) or ``[x, y, w, h, lx, ly, rx, ry]``. The detector key
(:func:`detector_key`) is the sha256 of the detector spec, :data:`DETECTION_VERSION` and
the detector library's version. Whether a crop was aligned and whether the no_face
fallback applied follow from the result and the crop settings, so they are not stored.
Writes merge with what is on disk under a file lock and replace the file atomically; a
missing, unreadable or corrupt file is ignored (a warning) and rebuilt, never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from fer_bench.images.face_detect import (HAAR_DEFAULTS, FaceDetection, detect_face,
                                          find_eyes_in_face, grey_array)
from fer_bench.images.mediapipe_detect import MEDIAPIPE_DEFAULTS, MEDIAPIPE_VERSION

# Bump when detect() returns other results for the same detector spec.
DETECTION_VERSION = 1
CACHE_FORMAT = 1
DETECTIONS_FOLDER = "detections"
DETECTOR_METHODS = ("haar", "mediapipe")
_LOCK_TIMEOUT_S = 120


# -- detection ------------------------------------------------------------------------
def detector_spec(crop_spec: dict | None) -> dict | None:
    """The settings of ``crop_spec`` that change the detection (not margin, align,
    no_face), every default written out; None for crops without a detector."""
    method = (crop_spec or {}).get("method")
    if method == "haar":
        return {"method": "haar", **{k: crop_spec.get(k, v) for k, v in HAAR_DEFAULTS.items()}}
    if method == "mediapipe":
        return {"method": "mediapipe",
                **{k: crop_spec.get(k, v) for k, v in MEDIAPIPE_DEFAULTS.items()}}
    return None


def _library_version(method: str) -> str:
    if method == "mediapipe":
        return MEDIAPIPE_VERSION          # pinned: mediapipe_detect refuses any other
    import cv2
    return cv2.__version__


def detector_key(crop_spec: dict) -> str:
    """sha256 (hex) of what makes a detection: detector spec, DETECTION_VERSION and the
    detector library's version."""
    spec = detector_spec(crop_spec)
    if spec is None:
        raise ValueError(f"face crop {crop_spec!r} runs no detector")
    text = json.dumps({"detector": spec, "version": DETECTION_VERSION,
                       "library": _library_version(spec["method"])},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def downscaled(image, longest: int) -> tuple[np.ndarray, float, float]:
    """(C, H, W) uint8 image -> (image as (C, h, w) array, sx, sy) with its longest side
    ``longest`` (INTER_AREA), where (x, y) in the result is (x * sx, y * sy) in the image;
    the image as it is, with factors 1, when no larger (or ``longest`` <= 0).

    Each channel plane is first shrunk by the largest whole factor k that keeps it at
    least ``longest`` (cv2's fast path for INTER_AREA, a k x k mean; the last H % k rows
    and W % k columns are left out), then to the final size: 4000x3000 -> 640x480 costs
    ~20 ms rather than ~130 ms for one INTER_AREA step of an interleaved copy."""
    arr = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    _, H, W = arr.shape
    if longest <= 0 or max(H, W) <= longest:
        return arr, 1.0, 1.0
    import cv2

    s = longest / max(H, W)
    w, h = max(1, round(W * s)), max(1, round(H * s))
    k = max(1, min(max(H, W) // longest, H // h, W // w))
    Hk, Wk = (H // k) * k, (W // k) * k
    planes = []
    for plane in arr:
        if k > 1:
            plane = cv2.resize(plane[:Hk, :Wk], (Wk // k, Hk // k),
                               interpolation=cv2.INTER_AREA)
        if plane.shape != (h, w):
            plane = cv2.resize(np.ascontiguousarray(plane), (w, h),
                               interpolation=cv2.INTER_AREA)
        planes.append(plane)
    return np.stack(planes), Wk / w, Hk / h


def scale_detection(detection: FaceDetection, sx: float, sy: float) -> FaceDetection:
    """A detection on a resized image back in the original's pixels (box corners and eye
    centres scaled, corners rounded)."""
    x, y, w, h = detection.box
    x0, y0 = int(round(x * sx)), int(round(y * sy))
    x1, y1 = int(round((x + w) * sx)), int(round((y + h) * sy))
    eyes = None
    if detection.eyes is not None:
        eyes = tuple((float(ex * sx), float(ey * sy)) for ex, ey in detection.eyes)
    return FaceDetection((x0, y0, x1 - x0, y1 - y0), eyes)


def detect(image, crop_spec: dict) -> FaceDetection | None:
    """The face in a uint8 (C, H, W) image that ``crop_spec``'s detector finds (eyes
    included when found), in full-resolution pixels; None when there is none.

    Haar, image no larger than ``detect_size``: :func:`detect_face` as it is. Larger: the
    face on the downscaled copy, mapped back, then the eyes in that face region of the
    full-resolution image (itself shrunk to ``detect_size`` if the face is larger),
    equalised on its own: eyes found on the downscaled copy were missed about twice as
    often (small faces blur below the eye cascade's 20 px window)."""
    if crop_spec.get("method") == "mediapipe":
        from fer_bench.images.mediapipe_detect import detect_face_mediapipe
        return detect_face_mediapipe(image, crop_spec)
    p = {**HAAR_DEFAULTS, **crop_spec}
    size = int(p["detect_size"])
    small, sx, sy = downscaled(image, size)
    if sx == 1.0 and sy == 1.0:
        return detect_face(grey_array(small), p, find_eyes=True)
    found = detect_face(grey_array(small), p, find_eyes=False)
    if found is None:
        return None
    box = scale_detection(found, sx, sy).box
    return FaceDetection(box, _eyes_at_full_resolution(image, box, p, size))


def _eyes_at_full_resolution(image, box, p: dict, size: int):
    import cv2

    x, y, w, h = box
    arr = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    face, fx, fy = downscaled(arr[:, y:y + h, x:x + w], size)
    grey = grey_array(face)
    if p["equalize"]:
        grey = cv2.equalizeHist(grey)
    eyes = find_eyes_in_face(grey, (0, 0, grey.shape[1], grey.shape[0]), p)
    if eyes is None:
        return None
    return tuple((float(x + ex * fx), float(y + ey * fy)) for ex, ey in eyes)


# -- one result as JSON -----------------------------------------------------------------
def encode(detection: FaceDetection | None) -> list | None:
    """JSON form: None, [x, y, w, h] or [x, y, w, h, lx, ly, rx, ry]."""
    if detection is None:
        return None
    out = [int(v) for v in detection.box]
    if detection.eyes is not None:
        out += [float(v) for eye in detection.eyes for v in eye]
    return out


def decode(entry) -> FaceDetection | None:
    """Inverse of :func:`encode`; ValueError for anything else."""
    if entry is None:
        return None
    if not isinstance(entry, list) or len(entry) not in (4, 8) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry):
        raise ValueError(f"not a stored detection: {entry!r}")
    if not all(isinstance(v, int) for v in entry[:4]):
        raise ValueError(f"not a stored detection: {entry!r}")
    eyes = None
    if len(entry) == 8:
        lx, ly, rx, ry = (float(v) for v in entry[4:])
        eyes = ((lx, ly), (rx, ry))
    return FaceDetection(tuple(entry[:4]), eyes)


def valid_entry(entry) -> bool:
    try:
        decode(entry)
    except ValueError:
        return False
    return True


# -- the file ---------------------------------------------------------------------------
def _file_stem(dataset: str) -> str:
    """A file-name-safe form of a dataset name (folder:/some/path -> folder_some_path-<h>)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset).strip("._")[:60] or "dataset"
    if safe != dataset:
        safe += "-" + hashlib.sha256(dataset.encode()).hexdigest()[:8]
    return safe


class DetectionCache:
    """The stored detections of one dataset under one detector (see the module doc)."""

    def __init__(self, cache: str | Path, dataset: str, crop_spec: dict):
        self.detector = detector_spec(crop_spec)
        self.key = detector_key(crop_spec)
        self.path = (Path(cache) / DETECTIONS_FOLDER
                     / f"{_file_stem(dataset)}.{self.key[:16]}.json")
        self._warned = False

    def _warn(self, what: str) -> None:
        if not self._warned:
            warnings.warn(f"face detection cache {self.path}: {what}", UserWarning,
                          stacklevel=3)
        self._warned = True

    def load(self) -> dict[str, list | None]:
        """content digest -> stored result; {} when the file is missing, unreadable or not
        a detection table of this detector (a warning then, except when missing)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as e:
            self._warn(f"unreadable ({e}); detecting again")
            return {}
        try:
            data = json.loads(text)
            table = data["detections"]
            if data.get("format") != CACHE_FORMAT or data.get("key") != self.key \
                    or not isinstance(table, dict):
                raise ValueError("not a detection table of this detector")
        except (ValueError, KeyError, TypeError) as e:
            self._warn(f"ignored and rebuilt ({type(e).__name__}: {e})")
            return {}
        return {k: v for k, v in table.items() if isinstance(k, str) and valid_entry(v)}

    def save(self, new: dict[str, list | None]) -> bool:
        """Merge ``new`` into the file (under a lock, atomic replace); False (and a
        warning) when it cannot be written: detections are then only lost, not wrong."""
        if not new:
            return True
        from filelock import FileLock, Timeout

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.path) + ".lock", timeout=_LOCK_TIMEOUT_S):
                table = {**self.load(), **new}
                data = {"format": CACHE_FORMAT, "key": self.key, "detector": self.detector,
                        "version": DETECTION_VERSION, "detections": table}
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name,
                                           suffix=".tmp")
                try:
                    with os.fdopen(fd, "w") as f:
                        json.dump(data, f, separators=(",", ":"))
                    os.replace(tmp, self.path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        except (OSError, Timeout) as e:
            self._warn(f"cannot be written ({type(e).__name__}: {e}); detections not kept")
            return False
        return True
