"""The face-crop hook between the image loader and the encoder.

``spec`` None means the images are aligned faces already (RAF-DB aligned, FER2013,
CK+48, generated faces): the hook returns them unchanged. A spec dict (recorded in the
feature key through ``Dataset.face_crop``) selects a crop: ``{"method": "box",
"margin": 0.2}`` crops the manifest's face box with a margin; detector methods are
provided by the dataset issue.
"""
from __future__ import annotations

import torch


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


def apply_face_crop(image: torch.Tensor, box, spec: dict | None) -> torch.Tensor:
    if spec is None:
        return image
    method = spec.get("method", "box")
    if method == "box":
        if box is None:
            return image
        return crop_box(image, box, float(spec.get("margin", 0.0)))
    raise ValueError(f"unknown face-crop method {method!r}")
