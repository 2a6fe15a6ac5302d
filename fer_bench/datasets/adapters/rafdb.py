"""RAF-DB (Li, Deng & Du, CVPR 2017): basic (7 classes) and compound (11 classes).

Both read ``EmoLabel/list_patition_label.txt`` (sic) and take the split from the image
name's prefix (train_ / test_). RAF-DB has no validation split: protocols carve a seeded
one from train (official_val False).
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import label_lines, map_code
from fer_bench.datasets.label_maps import CLASSES, RAFDB_BASIC, RAFDB_COMPOUND
from fer_bench.datasets.options import choice, detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData, first_existing, require_file

LAYOUT = """\
RAF-DB/
  basic/EmoLabel/list_patition_label.txt     lines "train_00001.jpg 5"
  basic/Image/aligned/train_00001_aligned.jpg (100x100)   [or Image/original/train_00001.jpg]
  compound/EmoLabel/list_patition_label.txt
  compound/Image/aligned/train_0001_aligned.jpg"""

SPLIT_OF_PREFIX = {"train": "train", "test": "test"}
TERMS = ("RAF-DB: non-commercial research use under the RAF-DB agreement, obtained from its "
         "authors (whdeng.cn/RAF); do not redistribute.")


def _load(root: Path, part: str, name: str, codes: dict, images: str, on_error: str,
          crop_options: dict) -> Dataset:
    bad = BadData(name, on_error)
    base = first_existing([root / part, root], name, LAYOUT)
    labels = require_file(base / "EmoLabel" / "list_patition_label.txt", name, LAYOUT)
    images = choice(images, "images", ("aligned", "original"))
    rel_base = (base / "Image" / images).relative_to(root).as_posix()
    rows, where = [], []
    for at, (file_name, code) in label_lines(labels, bad, 2, label=str(labels)):
        stem = file_name.rsplit(".", 1)[0]
        split = SPLIT_OF_PREFIX.get(stem.split("_", 1)[0])
        if split is None:
            bad("unknown split prefix", at,
                f"a name starting with train_ or test_, found {file_name!r}")
            continue
        label = map_code(code, codes, at, bad)
        if label is None:
            continue
        path = (f"{rel_base}/{stem}_aligned.jpg" if images == "aligned"
                else f"{rel_base}/{file_name}")
        rows.append({"id": stem, "path": path, "label": label, "split": split, "subject": ""})
        where.append(at)
    for prefix, split in SPLIT_OF_PREFIX.items():
        if not any(r["split"] == split for r in rows):
            skipped = " that were not skipped as bad" if bad.counts else ""
            raise DatasetError(f"{name}: {labels} lists no {prefix}_ images{skipped} (no rows "
                               f"of the {split} split); expected lines for both train_ and "
                               f"test_ images; expected layout:\n{LAYOUT}")
    # Original (unaligned) photos need a detector crop; aligned ones are faces already.
    face_crop = detector_crop(**crop_options) if images == "original" else None
    return assemble(name, root, CLASSES[name], rows, where, bad, layout=LAYOUT,
                    image_family="rafdb", face_crop=face_crop, official_val=False,
                    info={"images": images})


def load_rafdb(root: Path, images: str = "aligned", on_error: str = "raise", **options):
    crop = pop_crop_options(options)
    no_unknown_options("rafdb", options)
    return _load(root, "basic", "rafdb", RAFDB_BASIC, images, on_error, crop)


def load_rafdb_compound(root: Path, images: str = "aligned", on_error: str = "raise", **options):
    crop = pop_crop_options(options)
    no_unknown_options("rafdb-compound", options)
    return _load(root, "compound", "rafdb-compound", RAFDB_COMPOUND, images, on_error, crop)


_OPTIONS = {"images": "aligned (default, 100x100 faces) or original (photos, Haar-cropped)",
            "on_error": "raise (default) or skip: drop and count bad rows",
            "face_crop/margin/align/no_face": "crop settings for images=original"}
register_dataset(
    "rafdb",
    "RAF-DB basic: 7 classes, in the wild, 12,271 train / 3,068 test",
    default_folder="RAF-DB",
    card=DatasetCard(
        layout=LAYOUT, label_codes=RAFDB_BASIC,
        splits="train_/test_ name prefix -> train / test; no official val (carved from train)",
        terms=TERMS, options=_OPTIONS),
)(load_rafdb)
register_dataset(
    "rafdb-compound",
    "RAF-DB compound: 11 compound classes, 3,162 train / 792 test",
    default_folder="RAF-DB",
    card=DatasetCard(
        layout=LAYOUT, label_codes=RAFDB_COMPOUND,
        splits="train_/test_ name prefix -> train / test; no official val (carved from train)",
        terms=TERMS, options=_OPTIONS,
        notes="Compound classes map to coarse groups through their parts "
              "(fer_bench.vocabulary.coarse_group)."),
)(load_rafdb_compound)
