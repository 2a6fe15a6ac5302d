"""AffectNet (Mollahosseini et al., 2017): ~290k manually annotated in-the-wild faces.

Two releases. The csv release lists ``training.csv`` / ``validation.csv`` with a face box
per photo under ``Manually_Annotated_Images/``: the box is cropped (method "box"). The
npy release has ``train_set/ val_set/`` with 224x224 face crops ``images/<id>.jpg`` and
``annotations/<id>_exp.npy``: used as they are.

AffectNet's test set is not public, so the validation set (500 per class) is the
"test" split, as in the literature, and a validation split is carved from train by the
protocols (official_val False). Codes 8-10 (none, uncertain, no-face) are dropped; the
7-class view also drops contempt. Classes are heavily imbalanced: read mean class
accuracy.

Valence and arousal (csv columns ``valence``, ``arousal``; npy ``<id>_val.npy``,
``<id>_aro.npy``) become the manifest columns ``valence`` and ``arousal`` on AffectNet's
[-1, 1] scale; -2 ("not coded") becomes NaN, any other value outside [-1, 1] is bad data.
A release without them loads without the columns.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_maps import AFFECTNET, AFFECTNET_DROPPED, CLASSES
from fer_bench.datasets.options import as_float, choice, no_unknown_options
from fer_bench.datasets.policy import BadData, first_existing, require_rows

LAYOUT = """\
AffectNet/
  csv release:
    training.csv, validation.csv    (or under Manually_Annotated_file_lists/)
      header subDirectory_filePath,face_x,face_y,face_width,face_height,
             facial_landmarks,expression,valence,arousal
    Manually_Annotated_Images/<subDirectory_filePath>
  npy release:
    train_set/images/<id>.jpg  train_set/annotations/<id>_exp.npy  (+ _val, _aro, _lnd)
    val_set/...                                                       (same)"""

CSV_SPLITS = {"training.csv": "train", "validation.csv": "test"}
NPY_SPLITS = {"train_set": "train", "val_set": "test"}
CSV_COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
               "expression")
VA_COLUMNS = ("valence", "arousal")
VA_NOT_CODED = -2.0
TERMS = ("AffectNet: academic research use under the AffectNet licence agreement (University "
         "of Denver); do not redistribute.")


def _label(code: int, where: str, classes: tuple, bad: BadData, dropped: Counter) -> str | None:
    if code in AFFECTNET_DROPPED:
        dropped[AFFECTNET_DROPPED[code]] += 1
        return None
    if code not in AFFECTNET:
        bad("unknown label code", where, f"a code in 0..10, found {code}")
        return None
    label = AFFECTNET[code]
    if label not in classes:
        dropped[f"{label} (not in the {len(classes)}-class view)"] += 1
        return None
    return label


def _affect(name: str, value: float, where: str, bad: BadData) -> float | None:
    """One valence or arousal value on [-1, 1]; -2 (not coded) -> NaN; None (reported to
    ``bad``) for anything else, a missing or non-numeric cell included."""
    if value == VA_NOT_CODED:
        return float("nan")
    if -1.0 <= value <= 1.0:
        return float(value)
    bad("valence/arousal out of range", where, f"{name} in [-1, 1] or -2 (not coded), found "
        f"{value}")
    return None


def _csv_release(root: Path, classes: tuple, bad: BadData, dropped: Counter):
    rows, where = [], []
    for file_name, split in CSV_SPLITS.items():
        csv = first_existing([root / file_name, root / "Manually_Annotated_file_lists" / file_name],
                             "affectnet", LAYOUT)
        try:
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=list(CSV_COLUMNS))
        missing = [c for c in CSV_COLUMNS if c not in frame.columns]
        if missing:
            raise DatasetError(f"affectnet: {csv} lacks columns {missing}; expected "
                               f"layout:\n{LAYOUT}")
        require_rows(len(frame), csv, "affectnet", split, LAYOUT)
        numbers = frame[list(CSV_COLUMNS[1:])].apply(pd.to_numeric, errors="coerce").to_numpy()
        va = (frame[list(VA_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy()
              if set(VA_COLUMNS) <= set(frame.columns) else None)
        for i, rel in enumerate(frame["subDirectory_filePath"]):
            at = f"{csv}:{i + 2}"
            x, y, w, h, code = numbers[i]
            if not np.isfinite(numbers[i]).all() or not float(code).is_integer():
                bad("malformed line", at, "numeric face_x, face_y, face_width, face_height and "
                    f"an integer expression, found {frame.iloc[i][list(CSV_COLUMNS[1:])].tolist()}")
                continue
            label = _label(int(code), at, classes, bad, dropped)
            if label is None:
                continue
            affect = {} if va is None else {name: _affect(name, value, at, bad)
                                            for name, value in zip(VA_COLUMNS, va[i])}
            if None in affect.values():
                continue
            rows.append({"id": rel, "path": f"Manually_Annotated_Images/{rel}", "label": label,
                         "split": split, "subject": "", "box_x": int(x), "box_y": int(y),
                         "box_w": int(w), "box_h": int(h), **affect})
            where.append(at)
    return rows, where


def _npy_release(root: Path, classes: tuple, bad: BadData, dropped: Counter):
    rows, where = [], []
    for folder, split in NPY_SPLITS.items():
        images, annotations = root / folder / "images", root / folder / "annotations"
        first_existing([images], "affectnet", LAYOUT)
        first_existing([annotations], "affectnet", LAYOUT)
        names = set(p.name for p in annotations.iterdir())
        with_va = any(n.endswith(("_val.npy", "_aro.npy")) for n in names)
        listed = sorted(images.iterdir(), key=lambda p: p.name)
        require_rows(sum(p.suffix.lower() in (".jpg", ".jpeg", ".png") for p in listed), images,
                     "affectnet", split, LAYOUT)
        for image in listed:
            if image.suffix.lower() not in (".jpg", ".jpeg", ".png"):
                continue
            label_file = f"{image.stem}_exp.npy"
            at = str(annotations / label_file)
            if label_file not in names:
                bad("missing annotation", at, f"an expression code for {image}")
                continue
            try:
                code = int(np.load(annotations / label_file, allow_pickle=False).item())
            except (ValueError, OSError) as e:
                bad("unreadable annotation", at, f"a .npy holding one integer code ({e})")
                continue
            label = _label(code, at, classes, bad, dropped)
            if label is None:
                continue
            affect = _npy_valence_arousal(annotations, image, names, bad) if with_va else {}
            if affect is None:
                continue
            rows.append({"id": f"{folder}/{image.stem}", "path": f"{folder}/images/{image.name}",
                         "label": label, "split": split, "subject": "", **affect})
            where.append(at)
    return rows, where


def _npy_valence_arousal(annotations: Path, image: Path, names: set[str],
                         bad: BadData) -> dict | None:
    """{"valence": v, "arousal": a} of one image of the npy release; None when bad."""
    affect = {}
    for name, suffix in zip(VA_COLUMNS, ("_val.npy", "_aro.npy")):
        path = annotations / f"{image.stem}{suffix}"
        if path.name not in names:
            bad("missing annotation", path, f"the {name} of {image}")
            return None
        try:
            value = float(np.load(path, allow_pickle=False).item())
        except (ValueError, OSError) as e:
            bad("unreadable annotation", path, f"a .npy holding one number ({e})")
            return None
        affect[name] = _affect(name, value, str(path), bad)
        if affect[name] is None:
            return None
    return affect


def load_affectnet(root: Path, classes="8", release: str = "auto", margin=0.0,
                   on_error: str = "raise", **options) -> Dataset:
    no_unknown_options("affectnet", options)
    view = CLASSES[f"affectnet-{choice(classes, 'classes', ('7', '8'))}"]
    release = choice(release, "release", ("auto", "csv", "npy"))
    if release == "auto":
        release = "npy" if (root / "train_set").is_dir() else "csv"
    bad, dropped = BadData("affectnet", on_error), Counter()
    read = _npy_release if release == "npy" else _csv_release
    rows, where = read(root, view, bad, dropped)
    face_crop = ({"method": "box", "margin": as_float(margin, "margin")} if release == "csv"
                 else None)
    return assemble("affectnet", root, view, rows, where, bad, layout=LAYOUT,
                    image_family="affectnet", face_crop=face_crop, official_val=False,
                    dropped=dropped, info={"release": release, "classes": len(view)})


register_dataset(
    "affectnet",
    "AffectNet: in-the-wild, 7 or 8 classes (classes=7|8); "
    "validation is the test split",
    default_folder="AffectNet",
    card=DatasetCard(
        layout=LAYOUT, label_codes={**AFFECTNET, **{k: f"(dropped: {v})" for k, v in
                                                    AFFECTNET_DROPPED.items()}},
        splits="training -> train, validation (500 per class) -> test (the real test set is not "
               "public); val is carved from train",
        face_crop="csv release: the listed face box (method box, margin option); npy release: "
                  "the 224x224 crops as they are",
        terms=TERMS,
        options={"classes": "8 (default, with contempt) or 7 (drops contempt)",
                 "release": "auto (default), csv or npy", "margin": "box margin (csv release), 0.0",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Heavily imbalanced (happiness ~134k vs contempt ~4k in training): compare mean "
              "class accuracy; 7- and 8-class scores are different tasks. Valence and arousal "
              "(csv columns valence, arousal; npy _val.npy, _aro.npy) become the columns "
              "valence and arousal on [-1, 1]; -2 (not coded) -> NaN."),
)(load_affectnet)
