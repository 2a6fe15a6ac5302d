"""CK+48: the common 48x48 cropped copy of CK+ (last three frames of each labelled
sequence, one folder per class, no neutral). Subject = first token of the file name
(``S010_004_00000017.png`` -> S010). No official splits: all rows in "train", use
subject-independent folds."""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.adapters.folder import class_folder_rows
from fer_bench.datasets.label_maps import CK48_FOLDERS, CLASSES
from fer_bench.datasets.options import no_unknown_options
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
CK+48/
  anger/ contempt/ disgust/ fear/ happy/ sadness/ surprise/
    S010_004_00000017.png ...    48x48 grey, subject = first token"""


def subject_token(file_name: str) -> str | None:
    token = file_name.split("_", 1)[0]
    return token if token != file_name else None


def load_ck48(root: Path, on_error: str = "raise", **options) -> Dataset:
    no_unknown_options("ck48", options)
    bad = BadData("ck48", on_error)
    folder = first_existing([root / "CK+48", root], "ck48", LAYOUT)
    rows, where = class_folder_rows(root, folder, "train", CK48_FOLDERS.__getitem__, bad,
                                    subject_token, subject_hint="<subject>_<sequence>_<frame>.png")
    return assemble("ck48", root, CLASSES["ck48"], rows, where, bad, layout=LAYOUT,
                    image_family="ckplus", official_val=False)


register_dataset(
    "ck48",
    "CK+48: 48x48 crops of CK+, 7 class folders (no neutral), subject "
    "folds",
    default_folder="CK+48",
    card=DatasetCard(
        layout=LAYOUT, label_codes=CK48_FOLDERS,
        splits="no official splits: all rows in train; use subject-independent folds",
        terms="CK+ terms apply (non-commercial research use, Cohn-Kanade database agreement).",
        options={"on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Same images as CK+ (image_family ckplus)."),
)(load_ck48)
