"""FERPlus (Barsoum et al., ICMI 2016): FER2013's faces re-labelled by 10 crowd votes,
8 classes (contempt included).

Two on-disk forms. The image-folder form (``FER2013Train/ FER2013Valid/ FER2013Test/``,
each with PNGs and a header-less ``label.csv``) is what the FERPlus tooling writes and
is preferred when present; the vote-file form reads ``fer2013new.csv`` beside
``fer2013.csv`` (pixels from the latter). The two forms' vote files are not identical
(the folder form's label.csv was written from an earlier vote revision: ~1,100 rows
differ), and the published majority counts are those of the folder form; ``form=``
picks one explicitly.

Label modes (``mode=``):
- ``majority`` (official, FERPlus ``_process_data``): votes of 1 are dropped as
  outliers; the top class is kept if it has more than half of the remaining votes, else
  the face is "unknown". Faces whose label is unknown or NF (not a face) are dropped.
- ``probability``: ``soft_<class>`` columns = the 8 emotion votes normalised to sum 1;
  hard label = the emotion with most votes (first in FERPlus column order on ties);
  faces whose most-voted column is unknown or NF are dropped.
Both modes fill ``soft_*``; dropped faces are counted in ``info["dropped"]``.
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
from fer_bench.datasets.adapters.fer2013 import (CsvPixelDataset, CsvPixels, csv_rows,
                                                 find_fer2013_csv, row_id)
from fer_bench.datasets.label_maps import CLASSES, FERPLUS_COLUMNS, FERPLUS_EMOTIONS
from fer_bench.datasets.options import choice, no_unknown_options
from fer_bench.datasets.policy import BadData, require_file, require_rows

LAYOUT = """\
ferplus/
  FER2013Train/ FER2013Valid/ FER2013Test/      image-folder form (preferred)
    fer0000000.png ...
    label.csv       no header: fer0000000.png,"(0, 0, 48, 48)",<10 vote counts>
or
  fer2013new.csv    header Usage,Image name,<10 vote columns> (empty name = not a face)
  fer2013.csv       FER2013's own file, for the pixels
vote columns: neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"""

FOLDERS = {"FER2013Train": "train", "FER2013Valid": "val", "FER2013Test": "test"}
SPLIT_OF_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
MODES = ("majority", "probability")
FORMS = ("auto", "folders", "csv")
TERMS = ("FERPlus labels: MIT licence (Microsoft). FER2013 images: Kaggle 2013 challenge, no "
         "clear licence; research use only, do not redistribute.")


def ferplus_labels(votes: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(label per row: a FERPLUS_COLUMNS name or "unknown"/"NF", soft 8-class labels)."""
    votes = np.asarray(votes, dtype=np.float64)
    emotion_votes = votes[:, :8]
    totals = emotion_votes.sum(axis=1, keepdims=True)
    soft = np.divide(emotion_votes, totals, out=np.zeros_like(emotion_votes), where=totals > 0)
    names = np.array(FERPLUS_COLUMNS, dtype=object)
    if mode == "majority":
        kept = np.where(votes > 1, votes, 0.0)          # a single vote is an outlier
        top = kept.argmax(axis=1)
        top_votes = kept.max(axis=1)
        clear = top_votes > 0.5 * kept.sum(axis=1)
        labels = np.where(clear, names[top], "unknown")
    elif mode == "probability":
        labels = names[votes.argmax(axis=1)]
        is_emotion = ~np.isin(labels, ["unknown", "NF"])
        labels = np.where(is_emotion, names[emotion_votes.argmax(axis=1)], labels)
    else:
        raise DatasetError(f"ferplus: mode must be one of {MODES}, got {mode!r}")
    return labels.astype(object), soft


def _votes(frame: pd.DataFrame, source: str, first_line: int,
           bad: BadData) -> tuple[np.ndarray, np.ndarray]:
    """Vote matrix and a mask of rows whose 10 votes are non-negative integers."""
    numeric = frame[list(FERPLUS_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    values = numeric.to_numpy(np.float64)
    valid = np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1) & \
        (np.mod(np.nan_to_num(values), 1) == 0).all(axis=1)
    for i in np.flatnonzero(~valid):
        bad("bad vote counts", f"{source}:{first_line + i}",
            f"10 non-negative integer votes, found {frame.iloc[i][list(FERPLUS_COLUMNS)].tolist()}")
    return values, valid


def _folder_rows(root: Path, bad: BadData) -> tuple[pd.DataFrame, list[str]]:
    parts, where = [], []
    for folder, split in FOLDERS.items():
        labels = require_file(root / folder / "label.csv", "ferplus", LAYOUT)
        try:
            frame = pd.read_csv(labels, header=None, dtype=str, keep_default_na=False,
                                names=["name", "box", *FERPLUS_COLUMNS])
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame(columns=["name", "box", *FERPLUS_COLUMNS])
        require_rows(len(frame), labels, "ferplus", split, LAYOUT)
        votes, valid = _votes(frame, str(labels), 1, bad)
        frame = frame.assign(split=split, path=folder + "/" + frame["name"],
                             id=frame["name"].str.replace(r"\.png$", "", regex=True))
        frame[list(FERPLUS_COLUMNS)] = votes
        parts.append(frame[valid])
        where += [f"{labels}:{i + 1}" for i in np.flatnonzero(valid)]
    return pd.concat(parts, ignore_index=True), where


def _csv_rows(root: Path, bad: BadData) -> tuple[pd.DataFrame, list[str], Path, int]:
    new = require_file(root / "fer2013new.csv", "ferplus", LAYOUT)
    pixels_csv = find_fer2013_csv(root, "ferplus")
    frame = pd.read_csv(new, dtype=str, keep_default_na=False)
    missing = [c for c in ("Usage", "Image name", *FERPLUS_COLUMNS) if c not in frame.columns]
    if missing:
        raise DatasetError(f"ferplus: {new} lacks columns {missing}; expected layout:\n{LAYOUT}")
    pixel_rows = csv_rows(pixels_csv, root)
    if len(pixel_rows) != len(frame):
        raise DatasetError(f"ferplus: {new} has {len(frame)} rows but {pixels_csv} has "
                           f"{len(pixel_rows)}; the vote file must list fer2013.csv's rows in "
                           "order")
    votes, valid = _votes(frame, str(new), 2, bad)
    split = frame["Usage"].map(SPLIT_OF_USAGE)
    for i in np.flatnonzero(split.isna().to_numpy() & valid):
        bad("unknown Usage", f"{new}:{i + 2}", f"one of {sorted(SPLIT_OF_USAGE)}, "
            f"found {frame['Usage'].iat[i]!r}")
    valid &= split.notna().to_numpy()
    not_face = frame["Image name"].str.strip() == ""
    frame = frame.assign(split=split, path=pixel_rows["path"],
                         id=[row_id(i) for i in range(len(frame))])
    frame[list(FERPLUS_COLUMNS)] = votes
    n_not_face = int((not_face & valid).sum())
    keep = valid & ~not_face.to_numpy()
    where = [f"{new}:{i + 2}" for i in np.flatnonzero(keep)]
    return frame[keep].reset_index(drop=True), where, pixels_csv, n_not_face


def load_ferplus(root: Path, mode: str = "majority", form: str = "auto",
                 on_error: str = "raise", **options) -> Dataset:
    no_unknown_options("ferplus", options)
    mode, form = choice(mode, "mode", MODES), choice(form, "form", FORMS)
    bad = BadData("ferplus", on_error)
    if form == "auto":
        form = "folders" if (root / "FER2013Train").is_dir() else "csv"
    dropped: Counter = Counter()
    pixels_csv = None
    if form == "folders":
        frame, where = _folder_rows(root, bad)
    else:
        frame, where, pixels_csv, dropped["NF"] = _csv_rows(root, bad)
    labels, soft = ferplus_labels(frame[list(FERPLUS_COLUMNS)].to_numpy(), mode)
    keep = ~np.isin(labels, ["unknown", "NF"])
    dropped.update(Counter(labels[~keep].tolist()))
    manifest = pd.DataFrame({"id": frame["id"], "path": frame["path"], "label": labels,
                             "split": frame["split"], "subject": ""})
    for j, name in enumerate(FERPLUS_EMOTIONS):
        manifest[f"soft_{name}"] = soft[:, j].astype(np.float32)
    where = pd.Series(where, dtype=object)
    dataset = assemble("ferplus", root, CLASSES["ferplus"], manifest[keep], where[keep], bad,
                       layout=LAYOUT, image_family="fer2013-images", official_val=True,
                       dropped={k: v for k, v in dropped.items() if v},
                       info={"mode": mode, "form": form},
                       check_files=form == "folders",
                       dataset_cls=CsvPixelDataset if form == "csv" else Dataset)
    if pixels_csv is not None:
        dataset.pixels = CsvPixels(pixels_csv)
    return dataset


register_dataset(
    "ferplus",
    "FERPlus: FER2013 faces with 10 crowd votes each, 8 classes "
    "(majority or probability labels)",
    default_folder="ferplus",
    card=DatasetCard(
        layout=LAYOUT,
        label_codes={c: c for c in FERPLUS_EMOTIONS} | {"unknown": "(dropped)",
                                                        "NF": "(dropped: not a face)"},
        splits="FER2013Train / FER2013Valid / FER2013Test (= Training / PublicTest / PrivateTest) "
               "-> train / val (official) / test",
        terms=TERMS,
        options={"mode": "majority (default, official rule) or probability (soft_* labels)",
                 "form": "auto (default: folders when FER2013Train/ exists), folders or csv",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Published majority counts (train/valid/test): neutral 8,733/1,180/1,083; happiness "
              "7,284/862/892; surprise 3,136/411/394; sadness 3,022/348/382; anger 2,098/289/269; "
              "fear 536/60/86; contempt 120/16/15; disgust 116/25/16."),
)(load_ferplus)
