"""Generic image folders: ``<root>/<class>/*.jpg`` (``folder:/path`` or
``folder:/path:key=value,...`` on the command line; grammar in
:mod:`fer_bench.datasets.spec`).

Class folder names go through the canonical vocabulary, synonyms and spacing included
(angry, Happy, happily_surprised, HappilySurprised). When every top-level folder is a
split name (train / val / valid / validation / test) the class folders sit one level
lower and give the splits; otherwise all rows are "train" and protocols carve val and
test (or use subject folds). ``subject_regex`` takes the subject from the file name:
the named group ``subject``, else group 1, else the whole match. ``name`` names the
dataset in records and the feature store; by default ``folder-<base name>-<8 hex digits
of the resolved path>``, so two folders never share records and no path is written.

The class-folder scan here is shared by the adapters of datasets laid out that way
(CK+48, SFEW, CFEE), each with its own folder-name map.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset, DatasetError, DatasetSpecError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.options import detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData
from fer_bench.datasets.spec import default_path_name
from fer_bench.vocabulary import ALL_EXPRESSIONS, canonical

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".webp")
SPLIT_FOLDERS = {"train": "train", "training": "train", "val": "val", "valid": "val",
                 "validation": "val", "test": "test"}

LAYOUT = """\
<root>/<class>/*.jpg                  class = folder name (angry, happy, sadly_angry, ...)
or <root>/<train|val|test>/<class>/*.jpg"""


def canonical_folder_name(folder: str) -> str:
    """Canonical expression of a folder name; CamelCase is split first (HappilySurprised)."""
    return canonical(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", folder))


def image_files(folder: Path) -> list[Path]:
    """Images under ``folder`` (any depth), sorted; other files (README, .DS_Store) ignored."""
    return sorted(p for p in folder.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def subject_from(regex: str | None) -> Callable[[str], str | None]:
    """File name -> subject: the named group ``subject``, else group 1, else the match."""
    if not regex:
        return lambda name: ""
    pattern = re.compile(regex)

    def find(name: str) -> str | None:
        m = pattern.search(name)
        if m is None:
            return None
        if "subject" in pattern.groupindex:
            return m.group("subject")
        return m.group(1) if pattern.groups else m.group(0)
    return find


def class_folder_rows(root: Path, split_root: Path, split: str, label_of: Callable[[str], str],
                      bad: BadData, subject_of: Callable[[str], str | None],
                      subject_hint: str = "") -> tuple[list[dict], list[str]]:
    """Rows of ``split_root/<class>/...`` images. ``label_of`` raises KeyError on an unknown
    folder name, which is reported to ``bad`` (the folder's images are then skipped)."""
    rows, where = [], []
    for class_dir in sorted(p for p in split_root.iterdir() if p.is_dir()):
        try:
            label = label_of(class_dir.name)
        except KeyError as e:
            bad("unknown class folder", class_dir, f"a known expression name ({e.args[0]})")
            continue
        for image in image_files(class_dir):
            subject = subject_of(image.name)
            if subject is None:
                bad("no subject in file name", image, f"a file name matching {subject_hint}")
                continue
            rel = image.relative_to(root).as_posix()
            rows.append({"id": rel.rsplit(".", 1)[0], "path": rel, "label": label,
                         "split": split, "subject": subject})
            where.append(str(image))
    return rows, where


def split_roots(root: Path) -> list[tuple[Path, str]]:
    """(folder, split) pairs: split folders when all top-level folders are split names."""
    top = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if top and all(p.name.lower() in SPLIT_FOLDERS for p in top):
        return [(p, SPLIT_FOLDERS[p.name.lower()]) for p in sorted(top)]
    return [(root, "train")]


def in_canonical_order(labels) -> tuple[str, ...]:
    present = set(labels)
    return tuple(c for c in ALL_EXPRESSIONS if c in present)


def load_folder(root: Path, subject_regex: str | None = None, name: str | None = None,
                on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**{"face_crop": "none", **pop_crop_options(options)})
    no_unknown_options("folder", options)
    root = Path(root)
    name = name or default_path_name("folder", root)
    if not root.is_dir():   # the path of the spec: a mistake on the command line
        raise DatasetSpecError(f"{name}: missing folder {root} (the PATH of folder:PATH does "
                               "not exist or is not a folder)")
    bad = BadData(name, on_error)
    subject_of = subject_from(subject_regex)
    rows, where = [], []
    roots = split_roots(root)
    for split_root, split in roots:
        r, w = class_folder_rows(root, split_root, split, canonical_folder_name, bad, subject_of,
                                 subject_hint=str(subject_regex))
        if not r and split_root != root:     # an empty train/ val/ test/ folder
            raise DatasetError(f"{name}: split folder {split_root} holds no images of a known "
                               f"class; expected layout:\n{LAYOUT}")
        rows += r
        where += w
    splits = {r["split"] for r in rows}
    if rows and "test" not in splits and splits != {"train"}:
        raise DatasetError(f"{name}: {root} has split folders {sorted(splits)} but no test/")
    return assemble(name, root, in_canonical_order(r["label"] for r in rows), rows, where, bad,
                    layout=LAYOUT, face_crop=crop,
                    official_val="val" in splits,
                    info={"subject_regex": subject_regex or ""})


register_dataset(
    "folder",
    "any image folder <root>/<class>/*.jpg (spec folder:PATH[:key=value,...])",
    card=DatasetCard(
        layout=LAYOUT,
        label_codes={"angry / anger": "anger", "happy / happiness / joy": "happiness",
                     "sad / sadness": "sadness", "surprised / surprise": "surprise",
                     "fearful / fear / afraid": "fear", "disgusted / disgust": "disgust",
                     "neutral / calm": "neutral", "contempt / contemptuous": "contempt",
                     "happily_surprised, HappilySurprised, ...": "happily surprised (compounds)"},
        splits="train/ val/ test/ top folders when present (val official), else all rows in train",
        face_crop="none by default; face_crop=haar for raw photos",
        terms="yours: fer-bench reads the folder where it lies and copies nothing.",
        options={"subject_regex": "regex on the file name giving the subject (e.g. ^(S\\d+)_)",
                 "name": "dataset name used in records and the feature store (default "
                         "folder-<base name>-<8 hex digits of the resolved path>)",
                 "face_crop": "none (default) or haar",
                 "margin/align/no_face": "Haar crop settings",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Spec: folder:PATH or folder:PATH:key=value,... PATH ends at its first ':' after "
              "a Windows drive (C:\\ or C:/); a folder whose path holds ':' is given through a "
              "symlink. Options split at each ',' followed by key=, so a value may hold ',' "
              "and ':' (subject_regex=^(?:S)(\\d{2,3})_)."),
)(load_folder)
