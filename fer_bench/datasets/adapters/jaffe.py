"""JAFFE (Lyons et al., 1998): 213 posed 256x256 grey photos of 10 Japanese women.

File ``KA.AN1.39.tiff`` = subject KA, expression AN, pose index 1, running number 39.
No official splits: all rows in "train", use subject-independent folds (10 subjects).
The photos show head and shoulders: the default face crop is the Haar detector.
"""
from __future__ import annotations

import re
from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.adapters.folder import image_files
from fer_bench.datasets.label_files import map_code
from fer_bench.datasets.label_maps import CLASSES, JAFFE
from fer_bench.datasets.options import detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData, require_dir

LAYOUT = """\
jaffe/
  KA.AN1.39.tiff ...   <subject>.<code><index>.<number>.tiff, codes AN DI FE HA NE SA SU"""

NAME = re.compile(r"^(?P<subject>[A-Z]{2})\.(?P<code>[A-Z]{2})(?P<index>\d+)"
                  r"\.(?P<number>\d+)\.tiff?$", re.IGNORECASE)


def load_jaffe(root: Path, on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("jaffe", options)
    require_dir(root, "jaffe", LAYOUT)
    bad = BadData("jaffe", on_error)
    rows, where = [], []
    for image in image_files(root):
        m = NAME.match(image.name)
        if m is None:
            bad("unexpected file name", image,
                "<subject>.<code><index>.<number>.tiff like KA.AN1.39.tiff")
            continue
        label = map_code(m["code"].upper(), JAFFE, str(image), bad)
        if label is None:
            continue
        rel = image.relative_to(root).as_posix()
        rows.append({"id": image.name.rsplit(".", 1)[0], "path": rel, "label": label,
                     "split": "train", "subject": m["subject"].upper()})
        where.append(str(image))
    return assemble("jaffe", root, CLASSES["jaffe"], rows, where, bad, layout=LAYOUT,
                    image_family="jaffe", face_crop=crop, official_val=False)


register_dataset(
    "jaffe",
    "JAFFE: 213 posed photos, 10 subjects, 7 classes, subject folds",
    default_folder="jaffe",
    card=DatasetCard(
        layout=LAYOUT, label_codes=JAFFE,
        splits="no official splits: all rows in train; use subject-independent folds (10 subjects)",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms="JAFFE: non-commercial scientific research only, under its own terms of use "
              "(zenodo.org/record/3451524); do not redistribute.",
        options={"face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_jaffe)
