"""CK+ (Lucey et al., CVPR-W 2010): posed expression sequences, neutral onset to apex.

Only the 327 sequences with an emotion file are used, in the usual way: the last
``frames`` (3) frames of a sequence carry its label, its first frame is "neutral"
(``neutral=false`` leaves those out: 7 classes). Subject = the S-number. There are no
official splits: every row is in "train" and protocols use subject-independent folds
(:func:`fer_bench.datasets.folds.subject_folds`, 10-fold by convention). Frames are
640x490 photos: the default face crop is the Haar detector.
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import map_code
from fer_bench.datasets.label_maps import CKPLUS, CLASSES
from fer_bench.datasets.options import (as_bool, as_int, detector_crop, no_unknown_options,
                                        pop_crop_options)
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
CK+/
  cohn-kanade-images/S005/001/S005_001_00000001.png ...   frames of each sequence
  Emotion/S005/001/S005_001_00000011_emotion.txt         one float code, e.g. 3.0000000e+00
  (Emotion/ may also sit under Emotion_labels/)"""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TERMS = ("CK+: non-commercial research use under the Cohn-Kanade database agreement "
         "(University of Pittsburgh); do not redistribute images of its subjects.")


def read_emotion_file(path: Path, bad: BadData) -> str | None:
    text = path.read_text(errors="replace").strip()
    return map_code(text, CKPLUS, f"{path}:1", bad)


def load_ckplus(root: Path, neutral="true", frames="3", on_error: str = "raise",
                **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("ckplus", options)
    with_neutral, n_last = as_bool(neutral, "neutral"), as_int(frames, "frames")
    bad = BadData("ckplus", on_error)
    images = first_existing([root / "cohn-kanade-images",
                             root / "extended-cohn-kanade-images" / "cohn-kanade-images"],
                            "ckplus", LAYOUT)
    emotions = first_existing([root / "Emotion", root / "Emotion_labels" / "Emotion"],
                              "ckplus", LAYOUT)
    rows, where = [], []
    for label_file in sorted(emotions.glob("S*/*/*_emotion.txt")):
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        label = read_emotion_file(label_file, bad)
        if label is None:
            continue
        folder = images / subject / sequence
        frame_files = sorted(p.name for p in folder.iterdir()
                             if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        if len(frame_files) < n_last + 1:
            bad("sequence too short", label_file, f"at least {n_last + 1} frames in {folder}, "
                f"found {len(frame_files)}")
            continue
        n = len(frame_files)
        chosen = [(i, label) for i in range(n - n_last, n)]     # (position in sequence, label)
        if with_neutral:
            chosen.insert(0, (0, "neutral"))
        rel = folder.relative_to(root).as_posix()
        for position, frame_label in chosen:
            file_name = frame_files[position]
            rows.append({"id": file_name.rsplit(".", 1)[0], "path": f"{rel}/{file_name}",
                         "label": frame_label, "split": "train", "subject": subject,
                         "sequence": f"{subject}_{sequence}", "frame": position})
            where.append(str(label_file))
    classes = CLASSES["ckplus" if with_neutral else "ckplus-no-neutral"]
    return assemble("ckplus", root, classes, rows, where, bad, layout=LAYOUT,
                    image_family="ckplus", face_crop=crop, official_val=False,
                    info={"frames": n_last, "neutral": with_neutral})


register_dataset(
    "ckplus",
    "CK+: 327 labelled sequences, 123 subjects; last 3 frames = label, "
    "first = neutral",
    default_folder="CK+",
    card=DatasetCard(
        layout=LAYOUT, label_codes=CKPLUS,
        splits="no official splits: all rows in train; use subject-independent folds (10-fold "
               "by subject)",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms=TERMS,
        options={"neutral": "true (default): first frame of each labelled sequence as neutral",
                 "frames": "last N frames take the sequence's label (default 3)",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_ckplus)
