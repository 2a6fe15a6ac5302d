"""SFEW 2.0 (Dhall et al., EmotiW 2015): frames from movies, 7 classes.

Test labels were never released, so results are reported on Val: Val is the "test"
split and protocols carve val from Train (official_val False). Frames are 720x576 movie
stills: the default face crop is the Haar detector (``face_crop=none`` for copies that
hold aligned faces already).
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.adapters.folder import class_folder_rows
from fer_bench.datasets.label_maps import CLASSES, SFEW_FOLDERS
from fer_bench.datasets.options import detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData, require_dir

LAYOUT = """\
SFEW/
  Train/ Val/     class folders Angry Disgust Fear Happy Neutral Sad Surprise
                  (or one folder level deeper, e.g. Train/Train_Aligned_Faces/Angry)
  Test/           unlabelled, not read"""

SPLITS = {"Train": "train", "Val": "test"}


def class_root(split_dir: Path) -> Path:
    """``split_dir`` or, when its only sub-folder holds the class folders, that one."""
    subdirs = [p for p in split_dir.iterdir() if p.is_dir()]
    if any(p.name in SFEW_FOLDERS for p in subdirs) or len(subdirs) != 1:
        return split_dir
    return subdirs[0]


def load_sfew(root: Path, on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("sfew", options)
    bad = BadData("sfew", on_error)
    rows, where = [], []
    for folder, split in SPLITS.items():
        split_dir = require_dir(root / folder, "sfew", LAYOUT)
        r, w = class_folder_rows(root, class_root(split_dir), split, SFEW_FOLDERS.__getitem__, bad,
                                 lambda name: "")
        rows += r
        where += w
    return assemble("sfew", root, CLASSES["sfew"], rows, where, bad, layout=LAYOUT,
                    image_family="sfew", face_crop=crop, official_val=False)


register_dataset(
    "sfew",
    "SFEW 2.0: movie frames, 7 classes; Val is the test split",
    default_folder="SFEW",
    card=DatasetCard(
        layout=LAYOUT, label_codes=SFEW_FOLDERS,
        splits="Train -> train, Val -> test (Test labels are not public); val is carved from Train",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms="SFEW: research use under the EmotiW / SFEW licence agreement; frames are from "
              "copyrighted movies, do not redistribute.",
        options={"face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_sfew)
