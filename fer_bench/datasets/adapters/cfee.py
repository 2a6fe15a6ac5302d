"""CFEE, compound facial expressions of emotion (Du, Tao & Martinez, PNAS 2014):
230 subjects photographed in 22 categories (neutral, 6 basic, 15 compound).

CFEE is distributed on request without a fixed folder layout; fer-bench reads the one
most copies use: one folder per category, named by the category (``HappilySurprised``,
``happily_surprised`` or ``happily surprised`` all work), files named
``<subject>_<anything>.jpg``. The subject is the first token of the file name (or what
``subject_regex`` captures). No official splits: all rows in "train", use
subject-independent folds. Photos show the head on a plain background: the default face
crop is the Haar detector.
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.adapters.folder import (canonical_folder_name, class_folder_rows,
                                                subject_from)
from fer_bench.datasets.label_maps import CLASSES
from fer_bench.datasets.options import detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
CFEE/
  Neutral/ Happy/ Sad/ Fearful/ Angry/ Surprised/ Disgusted/
  HappilySurprised/ HappilyDisgusted/ SadlyFearful/ SadlyAngry/ SadlySurprised/
  SadlyDisgusted/ FearfullyAngry/ FearfullySurprised/ FearfullyDisgusted/
  AngrilySurprised/ AngrilyDisgusted/ DisgustedlySurprised/ Appalled/ Hatred/ Awed/
    <subject>_<anything>.jpg       subject = first token (e.g. 001_03.jpg -> 001)"""

DEFAULT_SUBJECT_REGEX = r"^([^_.\- ]+)"


def category(folder: str) -> str:
    label = canonical_folder_name(folder)
    if label not in CLASSES["cfee"]:
        raise KeyError(f"{folder!r} is not one of CFEE's 22 categories")
    return label


def load_cfee(root: Path, subject_regex: str = DEFAULT_SUBJECT_REGEX, on_error: str = "raise",
              **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("cfee", options)
    bad = BadData("cfee", on_error)
    folder = first_existing([root / "CFEE", root], "cfee", LAYOUT)
    rows, where = class_folder_rows(root, folder, "train", category, bad,
                                    subject_from(subject_regex), subject_hint=subject_regex)
    return assemble("cfee", root, CLASSES["cfee"], rows, where, bad, layout=LAYOUT,
                    image_family="cfee", face_crop=crop, official_val=False,
                    info={"subject_regex": subject_regex})


register_dataset(
    "cfee",
    "CFEE: 230 subjects x 22 categories (neutral, 6 basic, 15 compound), "
    "subject folds",
    default_folder="CFEE",
    card=DatasetCard(
        layout=LAYOUT,
        label_codes={name: canonical_folder_name(name) for name in (
            "Neutral", "Happy", "Sad", "Fearful", "Angry", "Surprised", "Disgusted",
            "HappilySurprised", "HappilyDisgusted", "SadlyFearful", "SadlyAngry", "SadlySurprised",
            "SadlyDisgusted", "FearfullyAngry", "FearfullySurprised", "FearfullyDisgusted",
            "AngrilySurprised", "AngrilyDisgusted", "DisgustedlySurprised", "Appalled", "Hatred",
            "Awed")},
        splits="no official splits: all rows in train; use subject-independent folds",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms="CFEE: research use under the terms of its authors (Martinez lab, Ohio State); "
              "obtained on request, do not redistribute.",
        options={"subject_regex": f"subject from the file name (default {DEFAULT_SUBJECT_REGEX})",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_cfee)
