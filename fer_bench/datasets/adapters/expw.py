"""ExpW (Zhang et al., IJCV 2018): ~91k faces in ~60k web photos, 7 classes.

``label.lst`` gives each face's box in the photo; the box is cropped (method "box",
``margin`` 0.1 by default: ExpW boxes are tight). ExpW has no official split: fer-bench
assigns each *photo* (so all its faces) to test when the first byte of sha1(photo name)
is below ``test_fraction`` x 256, else to train; val is carved from train.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import label_lines, map_code
from fer_bench.datasets.label_maps import CLASSES, EXPW
from fer_bench.datasets.options import as_float, no_unknown_options
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
ExpW/
  label.lst      (or data/label/label.lst) rows:
                 image_name face_id top left right bottom confidence label
  origin/        (or data/image/origin/) the photos"""


def photo_split(image_name: str, test_fraction: float) -> str:
    first_byte = hashlib.sha1(image_name.encode()).digest()[0]
    return "test" if first_byte < test_fraction * 256 else "train"


def load_expw(root: Path, margin="0.1", test_fraction="0.2", on_error: str = "raise",
              **options) -> Dataset:
    no_unknown_options("expw", options)
    fraction = as_float(test_fraction, "test_fraction")
    bad = BadData("expw", on_error)
    labels = first_existing([root / "label.lst", root / "data" / "label" / "label.lst"],
                            "expw", LAYOUT)
    images = first_existing([root / "origin", root / "data" / "image" / "origin"], "expw", LAYOUT)
    images_rel = images.relative_to(root).as_posix()
    rows, where = [], []
    for at, (name, face, top, left, right, bottom, confidence, code) in label_lines(labels, bad, 8):
        label = map_code(code, EXPW, at, bad)
        if label is None:
            continue
        try:
            t, lft, r, b = (int(float(v)) for v in (top, left, right, bottom))
            conf = float(confidence)
        except ValueError:
            bad("malformed line", at, "numeric box and confidence, found "
                f"{top, left, right, bottom, confidence}")
            continue
        if r <= lft or b <= t:
            bad("empty face box", at, f"left < right and top < bottom, found {lft, t, r, b}")
            continue
        rows.append({"id": f"{name}#{face}", "path": f"{images_rel}/{name}", "label": label,
                     "split": photo_split(name, fraction), "subject": "", "box_x": lft, "box_y": t,
                     "box_w": r - lft, "box_h": b - t, "confidence": conf})
        where.append(at)
    return assemble("expw", root, CLASSES["expw"], rows, where, bad, layout=LAYOUT,
                    image_family="expw", official_val=False,
                    face_crop={"method": "box", "margin": as_float(margin, "margin")},
                    info={"test_fraction": fraction})


register_dataset(
    "expw",
    "ExpW: ~91k web faces with boxes, 7 classes; seeded photo-level "
    "train/test split",
    default_folder="ExpW",
    card=DatasetCard(
        layout=LAYOUT, label_codes=EXPW,
        splits="no official split: photo-level sha1 split, test_fraction 0.2 (all faces of a photo "
               "in one split); val is carved from train",
        face_crop="the listed face box (method box), margin 0.1",
        terms="ExpW: non-commercial research use (MMLAB, CUHK); photos are from the web, do not "
              "redistribute.",
        options={"margin": "box margin (default 0.1)",
                 "test_fraction": "share of photos in test (default 0.2)",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_expw)
