"""CK+ (Lucey et al., CVPR-W 2010): posed expression sequences, neutral onset to apex.

Only the 327 sequences with an emotion file are used, in the usual way: the last
``frames`` (3) frames of a sequence carry its label, its first frame is "neutral"
(``neutral=false`` leaves those out: 7 classes). Subject = the S-number. There are no
official splits: every row is in "train" and protocols use subject-independent folds
(:func:`fer_bench.datasets.folds.subject_folds`, 10-fold by convention). Frames are
640x490 photos: the default face crop is the Haar detector.

FACS codes (``FACS/``, optional; 593 coded sequences) go on each sequence's peak frame,
the frame the file names (its last): ``au_<N>`` = intensity/5 for every AU listed, 0.0
for every other AU (FACS coding lists every AU present), and for AUs listed with
intensity 0 ("present, intensity not coded") ``au_<N>`` NaN and ``au_<N>_present`` 1.
Every other row is NaN. ``facs_sequences=true`` adds the peak frames of the 266 coded
sequences without an emotion file, labelled "" (expression protocols drop them).
"""
from __future__ import annotations

from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.au_labels import facs_intensity, integer, with_au_columns
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_files import label_lines, map_code
from fer_bench.datasets.label_maps import CKPLUS, CLASSES
from fer_bench.datasets.options import (as_bool, as_int, detector_crop, no_unknown_options,
                                        pop_crop_options)
from fer_bench.datasets.policy import BadData, first_existing

LAYOUT = """\
CK+/
  cohn-kanade-images/S005/001/S005_001_00000001.png ...   frames of each sequence
  Emotion/S005/001/S005_001_00000011_emotion.txt         one float code, e.g. 3.0000000e+00
  FACS/S005/001/S005_001_00000011_facs.txt               optional; per line an AU number and
                                                         its intensity 0-5 (0 = not coded),
                                                         e.g. "   1.0000000e+00   3.0000000e+00"
  (Emotion/ may also sit under Emotion_labels/, FACS/ under FACS_labels/)"""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TERMS = ("CK+: non-commercial research use under the Cohn-Kanade database agreement "
         "(University of Pittsburgh); do not redistribute images of its subjects.")


def read_emotion_file(path: Path, bad: BadData) -> str | None:
    text = path.read_text(errors="replace").strip()
    return map_code(text, CKPLUS, f"{path}:1", bad)


def read_facs_file(path: Path, bad: BadData) -> dict[int, int]:
    """AU number -> intensity code (0 = present, intensity not coded) of one FACS file."""
    coded: dict[int, int] = {}
    for where, (au_text, level_text) in label_lines(path, bad, 2):
        au, level = integer(au_text), integer(level_text)
        if au is None or au < 1 or level is None or not 0 <= level <= 5:
            bad("malformed line", where, "an AU number and its intensity 0-5 (0 = not coded), "
                f"found {au_text!r} {level_text!r}")
        elif au in coded:
            bad("duplicate AU", where, f"each AU once per file; AU {au} is listed twice")
        else:
            coded[au] = level
    return coded


def read_facs(folder: Path | None, bad: BadData) -> dict[tuple[str, str], tuple[str, dict, str]]:
    """(subject, sequence) -> (peak frame's id, {AU: intensity code}, FACS file)."""
    if folder is None:
        return {}
    return {(path.parent.parent.name, path.parent.name):
            (path.name[:-len("_facs.txt")], read_facs_file(path, bad), str(path))
            for path in sorted(folder.glob("S*/*/*_facs.txt"))}


def facs_values(coded: dict[int, int], aus: set[int]) -> tuple[dict, dict]:
    """A coded peak frame's (au_N, au_N_present) values: unlisted AUs absent (0.0)."""
    intensity = {au: 0.0 for au in aus}
    intensity.update({au: facs_intensity(level) if level else float("nan")
                      for au, level in coded.items()})
    return intensity, {au: 1.0 for au, level in coded.items() if level == 0}


def load_ckplus(root: Path, neutral="true", frames="3", facs_sequences="false",
                on_error: str = "raise", **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("ckplus", options)
    with_neutral, n_last = as_bool(neutral, "neutral"), as_int(frames, "frames")
    add_facs_only = as_bool(facs_sequences, "facs_sequences")
    bad = BadData("ckplus", on_error)
    images = first_existing([root / "cohn-kanade-images",
                             root / "extended-cohn-kanade-images" / "cohn-kanade-images"],
                            "ckplus", LAYOUT)
    emotions = first_existing([root / "Emotion", root / "Emotion_labels" / "Emotion"],
                              "ckplus", LAYOUT)
    facs_folder = next((p for p in (root / "FACS", root / "FACS_labels" / "FACS") if p.is_dir()),
                       None)
    if add_facs_only and facs_folder is None:
        raise DatasetError(f"ckplus: facs_sequences=true needs the FACS codes: no {root / 'FACS'}"
                           f" or {root / 'FACS_labels' / 'FACS'}; expected layout:\n{LAYOUT}")
    facs = read_facs(facs_folder, bad)
    rows, where, with_emotion = [], [], set()
    for label_file in sorted(emotions.glob("S*/*/*_emotion.txt")):
        subject, sequence = label_file.parent.parent.name, label_file.parent.name
        with_emotion.add((subject, sequence))
        label = read_emotion_file(label_file, bad)
        if label is None:
            continue
        folder = images / subject / sequence
        frame_files = _frame_files(folder)
        if len(frame_files) < n_last + 1:
            bad("sequence too short", label_file, f"at least {n_last + 1} frames in {folder}, "
                f"found {len(frame_files)}")
            continue
        n = len(frame_files)
        chosen = [(i, label) for i in range(n - n_last, n)]     # (position in sequence, label)
        if with_neutral:
            chosen.insert(0, (0, "neutral"))
        for position, frame_label in chosen:
            rows.append(_row(root, folder, frame_files, position, frame_label, subject, sequence))
            where.append(str(label_file))
    if add_facs_only:
        for (subject, sequence), (peak, _, facs_file) in facs.items():
            if (subject, sequence) in with_emotion:
                continue
            folder = images / subject / sequence
            frame_files = _frame_files(folder)
            stems = [name.rsplit(".", 1)[0] for name in frame_files]
            if peak not in stems:
                bad("peak frame missing", facs_file, f"the frame {peak} it codes in {folder}")
                continue
            rows.append(_row(root, folder, frame_files, stems.index(peak), "", subject, sequence))
            where.append(facs_file)
    classes = CLASSES["ckplus" if with_neutral else "ckplus-no-neutral"]
    manifest = _with_facs(rows, facs) if facs_folder is not None and rows else rows
    return assemble("ckplus", root, classes, manifest, where, bad, layout=LAYOUT,
                    image_family="ckplus", face_crop=crop, official_val=False,
                    info={"frames": n_last, "neutral": with_neutral,
                          "facs": None if facs_folder is None else len(facs),
                          "facs_sequences": add_facs_only})


def _frame_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def _row(root: Path, folder: Path, frame_files: list[str], position: int, label: str,
         subject: str, sequence: str) -> dict:
    file_name = frame_files[position]
    return {"id": file_name.rsplit(".", 1)[0],
            "path": f"{folder.relative_to(root).as_posix()}/{file_name}", "label": label,
            "split": "train", "subject": subject, "sequence": f"{subject}_{sequence}",
            "frame": position}


def _with_facs(rows: list[dict], facs: dict):
    """AU columns for every AU the renderer or any FACS file knows; values on peak frames."""
    from fer_bench.synth.facs import AU_NUMBERS

    aus = set(AU_NUMBERS).union(*(coded for _, coded, _ in facs.values()))
    peaks = {peak: coded for peak, coded, _ in facs.values()}
    values = [facs_values(peaks[r["id"]], aus) if r["id"] in peaks else ({}, {}) for r in rows]
    return with_au_columns(rows, [v[0] for v in values], [v[1] for v in values], aus=aus)


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
        notes="FACS codes (optional FACS/ folder; without it the dataset loads with no AU "
              "columns): on each coded sequence's peak frame, au_N = intensity/5 for listed "
              "AUs, 0.0 for unlisted ones, NaN + au_N_present = 1 for intensity 0 (not "
              "coded); NaN on every other frame.",
        options={"neutral": "true (default): first frame of each labelled sequence as neutral",
                 "frames": "last N frames take the sequence's label (default 3)",
                 "facs_sequences": "false (default); true adds the peak frame of every FACS-coded "
                                   "sequence without an emotion file, label \"\" (needs FACS/)",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"}),
)(load_ckplus)
