"""FER2013 (Goodfellow et al., ICML 2013 challenge): 48x48 grey faces whose pixels live
in ``fer2013.csv`` itself.

Rows become ids ``fer0000000`` ... (the row index, the same names FERPlus gives the
images), paths ``fer2013.csv#<row>``. Pixels are parsed on first use, one row at a time,
so loading the manifest reads only the emotion and Usage columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import map_code
from fer_bench.datasets.label_maps import CLASSES, FER2013
from fer_bench.datasets.options import choice, no_unknown_options
from fer_bench.datasets.policy import BadData, first_existing

if TYPE_CHECKING:  # pragma: no cover - listing datasets must not import torch
    import torch

LAYOUT = """\
fer2013/
  fer2013.csv     header emotion,pixels,Usage; pixels = 2304 space-separated grey values
                  (48x48, row-major); Usage Training / PublicTest / PrivateTest
or the FERPlus image folders with FER2013's own labels beside them (form=images):
ferplus/
  FER2013Train/ FER2013Valid/ FER2013Test/    ferNNNNNNN.png
  fer2013_original_labels.csv   header name,usage,emotion,match_corr,n_identical"""

SPLIT_OF_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
FOLDER_OF_USAGE = {"Training": "FER2013Train", "PublicTest": "FER2013Valid",
                   "PrivateTest": "FER2013Test"}
SIDE = 48
TERMS = ("FER2013 (Kaggle 2013 challenge): images scraped from the web, no clear licence; "
         "research use only, do not redistribute.")


def row_id(row: int) -> str:
    return f"fer{row:07d}"


class CsvPixels:
    """Grey pixels of fer2013.csv rows, parsed lazily (the file is ~300 MB of text)."""

    def __init__(self, csv: Path):
        self.csv = csv
        self._strings: np.ndarray | None = None

    def image(self, row: int) -> torch.Tensor:
        import torch

        from fer_bench.images.decode import ImageDecodeError

        if self._strings is None:
            self._strings = (pd.read_csv(self.csv, usecols=["pixels"], dtype=str)["pixels"]
                             .to_numpy())
        text = self._strings[row]
        values = np.fromstring(text, dtype=np.float32, sep=" ") if isinstance(text, str) else []
        if len(values) != SIDE * SIDE or not np.all((values >= 0) & (values <= 255)):
            raise ImageDecodeError(f"{self.csv} line {row + 2}: pixels must be {SIDE * SIDE} grey "
                                   f"values 0..255, found {len(values)} values")
        return torch.from_numpy(values.astype(np.uint8).reshape(1, SIDE, SIDE))


@dataclass
class CsvPixelDataset(Dataset):
    """A Dataset whose images are rows of fer2013.csv (path ``fer2013.csv#<row>``)."""
    pixels: CsvPixels | None = None

    def read_image(self, row: int) -> torch.Tensor:
        ref = str(self.manifest.at[row, "path"])
        if "#" not in ref or self.pixels is None:
            raise DatasetError(f"{self.name}: path {ref!r} is not a fer2013.csv#<row> reference")
        return self.pixels.image(int(ref.rsplit("#", 1)[1]))

    def pixel_files(self) -> np.ndarray:
        if self.pixels is None:
            return super().pixel_files()
        return np.full(len(self), str(self.pixels.csv), dtype=object)


def find_fer2013_csv(root: Path, name: str) -> Path:
    return first_existing([root / "fer2013.csv", root / "fer2013" / "fer2013.csv"], name, LAYOUT)


def csv_rows(csv: Path, root: Path) -> pd.DataFrame:
    """emotion and Usage of every fer2013.csv row, pixels not parsed."""
    frame = pd.read_csv(csv, usecols=["emotion", "Usage"], dtype=str)
    frame["path"] = f"{csv.relative_to(root).as_posix()}#" + frame.index.astype(str)
    return frame


def _image_folder_form(root: Path, bad: BadData) -> Dataset:
    """FER2013 labels for the FERPlus image folders (fer2013_original_labels.csv):
    same ids, paths into FER2013Train/Valid/Test; match_corr and n_identical kept."""
    labels = first_existing([root / "fer2013_original_labels.csv",
                             root / "ferplus" / "fer2013_original_labels.csv"], "fer2013", LAYOUT)
    frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
    missing = [c for c in ("name", "usage", "emotion") if c not in frame.columns]
    if missing:
        raise DatasetError(f"fer2013: {labels} lacks columns {missing}; expected layout:\n{LAYOUT}")
    base = labels.parent.relative_to(root).as_posix()
    prefix = "" if base == "." else base + "/"
    extras = [c for c in ("match_corr", "n_identical") if c in frame.columns]
    numbers = frame[extras].apply(pd.to_numeric, errors="coerce").to_numpy()
    rows, where = [], []
    for i, (name, usage, emotion) in enumerate(zip(frame["name"], frame["usage"],
                                                   frame["emotion"])):
        at = f"{labels}:{i + 2}"
        if usage not in FOLDER_OF_USAGE:
            bad("unknown Usage", at, f"one of {sorted(FOLDER_OF_USAGE)}, found {usage!r}")
            continue
        label = map_code(emotion, FER2013, at, bad)
        if label is None:
            continue
        rows.append({"id": name.rsplit(".", 1)[0], "label": label,
                     "path": f"{prefix}{FOLDER_OF_USAGE[usage]}/{name}",
                     "split": SPLIT_OF_USAGE[usage], "subject": "",
                     **dict(zip(extras, numbers[i]))})
        where.append(at)
    return assemble("fer2013", root, CLASSES["fer2013"], rows, where, bad, layout=LAYOUT,
                    image_family="fer2013-images", official_val=True, info={"form": "images"})


def load_fer2013(root: Path, form: str = "auto", on_error: str = "raise", **options) -> Dataset:
    no_unknown_options("fer2013", options)
    bad = BadData("fer2013", on_error)
    form = choice(form, "form", ("auto", "csv", "images"))
    has_csv = (root / "fer2013.csv").is_file() or (root / "fer2013" / "fer2013.csv").is_file()
    if form == "images" or (form == "auto" and not has_csv and any(
            (p / "fer2013_original_labels.csv").is_file() for p in (root, root / "ferplus"))):
        return _image_folder_form(root, bad)
    csv = find_fer2013_csv(root, "fer2013")
    try:
        frame = csv_rows(csv, root)
    except ValueError as e:
        raise DatasetError(f"fer2013: {csv}: {e}; expected layout:\n{LAYOUT}") from None
    rows, where = [], []
    for i, (emotion, usage, path) in enumerate(frame[["emotion", "Usage", "path"]].itertuples(
            index=False)):
        at = f"{csv}:{i + 2}"
        split = SPLIT_OF_USAGE.get(usage)
        if split is None:
            bad("unknown Usage", at, f"one of {sorted(SPLIT_OF_USAGE)}, found {usage!r}")
            continue
        label = map_code(str(emotion), FER2013, at, bad)
        if label is None:
            continue
        rows.append({"id": row_id(i), "path": path, "label": label, "split": split, "subject": ""})
        where.append(at)
    dataset = assemble("fer2013", root, CLASSES["fer2013"], rows, where, bad, layout=LAYOUT,
                       image_family="fer2013-images", official_val=True, check_files=False,
                       dataset_cls=CsvPixelDataset, info={"form": "csv"})
    dataset.pixels = CsvPixels(csv)
    return dataset


register_dataset(
    "fer2013",
    "FER2013: 48x48 grey, 7 classes, 28,709 train / 3,589 public test "
    "(val) / 3,589 private test",
    default_folder="fer2013",
    card=DatasetCard(
        layout=LAYOUT, label_codes=FER2013,
        splits="Usage: Training -> train, PublicTest -> val (official), PrivateTest -> test",
        terms=TERMS,
        options={"form": "auto (default: fer2013.csv if present, else the FERPlus image folders "
                         "with fer2013_original_labels.csv), csv or images",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Same images as FERPlus (image_family fer2013-images): pre-training on one flags "
              "the other. In the images form, the labels were recovered by matching the FERPlus "
              "images against a FER2013 copy: n_identical > 1 marks near-duplicates whose label "
              "may belong to a twin (kept as a manifest column)."),
)(load_fer2013)
