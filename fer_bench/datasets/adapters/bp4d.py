"""BP4D-Spontaneous (Zhang et al., IVC 2014): 41 young adults (F001-F023, M001-M018) in
8 emotion-eliciting tasks (T1-T8), 2D frames at 25 fps, FACS-coded on the most
expressive segment of each task: occurrence (0/1) of about 30 AUs per frame, and
intensity (0-5) of AUs 6, 10, 12, 14 and 17.

Occurrence -> ``au_<N>_present`` (9 = not coded -> NaN); intensity -> ``au_<N>`` =
code/5 (9 -> NaN). An AU no chosen frame codes gets no column; frames coded for no AU at
all are dropped (``info["dropped"]["not coded"]``). Rows are every ``stride``-th coded
frame of each task (default 5: a fifth of the coded frames; neighbours at 25 fps are
near duplicates). The tasks aim at emotions but frames carry no expression label (label "");
no official splits: every row is in "train" and protocols fold by subject. Frames are
1040x1392 photos: the default face crop is the Haar detector.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.au_labels import (FACS_CODES, facs_intensity, integer, read_frame_codes,
                                          with_au_columns)
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import label_lines
from fer_bench.datasets.label_maps import CLASSES
from fer_bench.datasets.options import as_int, detector_crop, no_unknown_options, pop_crop_options
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
BP4D/
  AUCoding/AU_OCC/F001_T1.csv           header: frame column, then AU numbers (1,2,4,...)
                                        rows: frame, then 0/1 per AU (9 = not coded)
  AUCoding/AU_INT/AU06/F001_T1_AU06.csv  no header: "frame,intensity", 0-5 (9 = not coded)
                                        (AU06 AU10 AU12 AU14 AU17; AU_INT/ is optional)
  Sequences/F001/T1/0001.jpg ...        frames, named by frame number
                                        (or 2DFrames/F001/T1/, BP4D-training/F001/T1/)
  (AUCoding/ may also sit under AUCoding/AUCoding/)"""

NOT_CODED = 9
SEQUENCE = re.compile(r"^(?P<subject>[FM]\d{3})_(?P<task>T\d+)\.csv$", re.IGNORECASE)
AU_FOLDER = re.compile(r"^AU(\d+)$", re.IGNORECASE)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TERMS = ("BP4D-Spontaneous: non-commercial research use under the BP4D licence agreement "
         "(Binghamton University); do not redistribute images of its subjects.")


def _header_aus(header: str) -> list[int] | None:
    """AU numbers of an occurrence file's header (cells after the frame column)."""
    cells = [c.strip() for c in header.split(",")[1:]]
    aus = [integer(re.sub(r"^AU", "", c, flags=re.IGNORECASE)) for c in cells]
    return None if not aus or any(a is None or a < 1 for a in aus) else aus


def _occurrence(path: Path, bad: BadData) -> list[tuple[int, dict[int, float], str]]:
    """(frame, {AU: 0.0/1.0 for coded AUs}, "file:line") per line of an AU_OCC file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline()
    aus = _header_aus(header)
    if aus is None:
        bad("malformed header", f"{path}:1", "a frame column, then AU numbers, found "
            f"{header.strip()[:80]!r}")
        return []
    out, seen = [], {}
    for where, fields in label_lines(path, bad, len(aus) + 1, sep=","):
        if where.endswith(":1"):
            continue                      # the header
        frame, codes = integer(fields[0]), [integer(v) for v in fields[1:]]
        if frame is None or any(c not in (0, 1, NOT_CODED) for c in codes):
            bad("malformed line", where, f"a whole frame number, then 0, 1 or 9 per AU, found "
                f"{','.join(fields)[:80]!r}")
        elif frame in seen:
            bad("duplicate frame", where, f"each frame once; frame {frame} is already at "
                f"{seen[frame]}")
        else:
            seen[frame] = where
            out.append((frame, {au: float(c) for au, c in zip(aus, codes) if c != NOT_CODED},
                        where))
    return out


def _intensity_files(coding: Path) -> dict[int, Path]:
    """AU -> its AU_INT folder (none when the release has no AU_INT/)."""
    folder = coding / "AU_INT"
    if not folder.is_dir():
        return {}
    return {int(m[1]): p for p in sorted(folder.iterdir())
            if p.is_dir() and (m := AU_FOLDER.match(p.name))}


def _frame_files(folder: Path) -> dict[int, str]:
    """Frame number -> image file name in one task's folder."""
    if not folder.is_dir():
        return {}
    return {int(p.stem): p.name for p in folder.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and p.stem.isdigit()}


def load_bp4d(root: Path, stride="5", on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("bp4d", options)
    step = as_int(stride, "stride", minimum=1)
    bad, dropped = BadData("bp4d", on_error), Counter()
    coding = first_existing([root / "AUCoding", root / "AUCoding" / "AUCoding"], "bp4d", LAYOUT)
    if not (coding / "AU_OCC").is_dir() and (coding / "AUCoding" / "AU_OCC").is_dir():
        coding = coding / "AUCoding"
    occurrence_files = first_existing([coding / "AU_OCC"], "bp4d", LAYOUT)
    frames_root = first_existing([root / "Sequences", root / "2DFrames", root / "BP4D-training"],
                                 "bp4d", LAYOUT)
    intensity_folders = _intensity_files(coding)
    rows, where, present, intensity = [], [], [], []
    for occ in sorted(occurrence_files.iterdir()):
        m = SEQUENCE.match(occ.name)
        if m is None:
            bad("unexpected file name", occ, "<subject>_<task>.csv like F001_T1.csv")
            continue
        subject, task = m["subject"].upper(), m["task"].upper()
        sequence = f"{subject}_{task}"
        levels = {}
        for au, folder in intensity_folders.items():
            path = folder / f"{sequence}_{folder.name}.csv"
            if not path.is_file():
                bad("missing intensity file", path, f"AU {au} intensities of {sequence}")
                continue
            levels[au] = read_frame_codes(path, bad, (*range(6), NOT_CODED),
                                          "an intensity 0-5 or 9 (not coded)")
        images = _frame_files(frames_root / subject / task)
        rel = (frames_root / subject / task).relative_to(root).as_posix()
        for frame, occurred, at in _occurrence(occ, bad)[::step]:
            scaled = {au: facs_intensity(c[frame][0]) for au, c in levels.items()
                      if frame in c and c[frame][0] != NOT_CODED}
            if not occurred and not scaled:
                dropped["not coded"] += 1
                continue
            if frame not in images:
                bad("frame image missing", at, f"an image numbered {frame} in "
                    f"{frames_root / subject / task}")
                continue
            rows.append({"id": f"{sequence}_{frame:04d}", "path": f"{rel}/{images[frame]}",
                         "label": "", "split": "train", "subject": subject,
                         "sequence": sequence, "task": task, "frame": frame})
            where.append(at)
            present.append(occurred)
            intensity.append(scaled)
    manifest = with_au_columns(rows, intensity, present) if rows else []
    return assemble("bp4d", root, CLASSES["bp4d"], manifest, where, bad, layout=LAYOUT,
                    image_family="bp4d", face_crop=crop, official_val=False, dropped=dropped,
                    info={"stride": step, "intensity_aus": sorted(intensity_folders)})


register_dataset(
    "bp4d",
    "BP4D-Spontaneous: 41 subjects x 8 tasks, AU occurrence + 5 AU intensities "
    "(every 5th coded frame); no expression labels",
    default_folder="BP4D",
    card=DatasetCard(
        layout=LAYOUT,
        label_codes={"occurrence 0 / 1": "au_N_present = 0.0 / 1.0",
                     **FACS_CODES,
                     NOT_CODED: "NaN (not coded), in both files",
                     "AUs": "occurrence of every AU in the AU_OCC header that any frame codes; "
                            "intensity of AU_INT's AUs (6, 10, 12, 14, 17); label \"\""},
        splits="no official splits: all rows in train; use subject-independent folds",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms=TERMS,
        options={"stride": "every Nth coded frame of each task (default 5)",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Frames coded for no AU at all are dropped and counted. The tasks elicit "
              "emotions (T1 amusement ... T8 disgust) but frames have no expression label: "
              "expression protocols find no labelled rows here; use the au protocol."),
)(load_bp4d)
