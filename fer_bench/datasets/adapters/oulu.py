"""Oulu-CASIA NIR&VIS (Zhao et al., 2011): 80 subjects x 6 posed expressions, onset to
apex sequences under three lighting conditions and two cameras.

The usual protocol (and the default): visible light (VL), strong lighting, the last
``frames`` (3) frames of each sequence, 10-fold by subject. No official splits: all
rows in "train". Frames are 320x240 photos: the default face crop is the Haar detector.
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.adapters.folder import image_files
from fer_bench.datasets.label_maps import CLASSES, OULU_FOLDERS
from fer_bench.datasets.options import (as_int, choice, detector_crop, no_unknown_options,
                                        pop_crop_options)
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
Oulu-CASIA/
  OriginalImg/VL/Strong/P001/Anger/000.jpeg ...   (onset ... apex)
  camera VL or NI; lighting Strong, Weak or Dark"""


def load_oulu(root: Path, camera: str = "VL", lighting: str = "Strong", frames="3",
              on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("oulu", options)
    camera = choice(camera, "camera", ("VL", "NI"))
    lighting = choice(lighting, "lighting", ("Strong", "Weak", "Dark"))
    n_last = as_int(frames, "frames")
    bad = BadData("oulu", on_error)
    base = first_existing([root / "OriginalImg" / camera / lighting, root / camera / lighting],
                          "oulu", LAYOUT)
    rows, where = [], []
    for subject_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for sequence in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
            label = OULU_FOLDERS.get(sequence.name)
            if label is None:
                bad("unknown class folder", sequence, f"one of {sorted(OULU_FOLDERS)}")
                continue
            frame_files = image_files(sequence)
            if len(frame_files) < n_last:
                bad("sequence too short", sequence, f"at least {n_last} frames, found "
                    f"{len(frame_files)}")
                continue
            n = len(frame_files)
            for position in range(n - n_last, n):
                rel = frame_files[position].relative_to(root).as_posix()
                rows.append({"id": rel.rsplit(".", 1)[0], "path": rel, "label": label,
                             "split": "train", "subject": subject_dir.name,
                             "sequence": f"{subject_dir.name}/{sequence.name}",
                             "frame": position})
                where.append(str(sequence))
    return assemble("oulu", root, CLASSES["oulu"], rows, where, bad, layout=LAYOUT,
                    image_family="oulu", face_crop=crop, official_val=False,
                    info={"camera": camera, "lighting": lighting, "frames": n_last})


register_dataset(
    "oulu",
    "Oulu-CASIA: 80 subjects, 6 classes, last 3 frames of VL/Strong "
    "sequences, subject folds",
    default_folder="Oulu-CASIA",
    card=DatasetCard(
        layout=LAYOUT, label_codes=OULU_FOLDERS,
        splits="no official splits: all rows in train; use subject-independent folds (10-fold)",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms="Oulu-CASIA: research use under the release agreement of the University of Oulu; do "
              "not redistribute.",
        options={"camera": "VL (default) or NI", "lighting": "Strong (default), Weak or Dark",
                 "frames": "last N frames of each sequence (default 3)",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_oulu)
