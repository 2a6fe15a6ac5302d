"""DISFA (Mavadati et al., IEEE TAC 2013): spontaneous facial actions of 27 adults
watching video clips, filmed by two cameras at 20 fps (4,845 frames per subject), every
frame coded for the intensity (0-5) of 12 AUs: 1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26.

Rows are video frames, decoded on read (:mod:`fer_bench.datasets.video_frames`): every
``stride``-th coded frame (default 5, i.e. 4 frames a second and 969 per subject, about
26k in all: consecutive frames at 20 fps are near duplicates and would only multiply
extraction time). Label files count frames from 1: DISFA frame f is video frame f - 1.
Manifest: id ``SN001_0001`` (DISFA's frame number), path ``<video>#<index from 0>``,
``frame`` = that index, ``au_<N>`` = code/5. DISFA has no expression labels (label "")
and no official splits: every row is in "train" and protocols fold by subject.
"""
from __future__ import annotations

import re
from pathlib import Path

from fer_bench.datasets.assemble import assemble
from fer_bench.datasets.au_labels import FACS_CODES, facs_intensity, read_frame_codes, \
    with_au_columns
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.cards import DatasetCard
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.label_maps import CLASSES
from fer_bench.datasets.options import (as_int, choice, detector_crop, no_unknown_options,
                                        pop_crop_options)
from fer_bench.datasets.policy import BadData, first_existing
from fer_bench.datasets.video_frames import VideoFrameDataset, frame_count, frame_ref

AUS = (1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26)

LAYOUT = """\
DISFA/
  ActionUnit_Labels/SN001/SN001_au1.txt ... SN001_au26.txt   12 AUs: 1 2 4 5 6 9 12 15 17 20 25 26
      lines "frame,intensity": frame from 1, intensity 0-5
  Videos_LeftCamera/LeftVideoSN001_comp.avi       (camera=left, the default)
  Videos_RightCamera/RightVideoSN001_comp.avi     (camera=right; or Video_RightCamera/)
  (file names in any letter case)"""

VIDEO_FOLDERS = {"left": ("Videos_LeftCamera", "Video_LeftCamera"),
                 "right": ("Videos_RightCamera", "Video_RightCamera")}
SUBJECT = re.compile(r"^SN\d+$", re.IGNORECASE)
TERMS = ("DISFA: non-commercial research use under the DISFA release agreement (University "
         "of Denver); do not redistribute.")


def _videos(root: Path, camera: str) -> tuple[Path, dict[str, str]]:
    """The camera's folder and its videos by lower-case name."""
    folder = first_existing([root / name for name in VIDEO_FOLDERS[camera]], "disfa", LAYOUT)
    return folder, {p.name.lower(): p.name for p in folder.iterdir()}


def _subject_codes(folder: Path, bad: BadData) -> dict[int, dict[int, tuple[int, str]]]:
    """AU -> {frame: (intensity code, where)} of one subject's label files."""
    names = {p.name.lower(): p for p in folder.iterdir()}
    codes = {}
    for au in AUS:
        path = names.get(f"{folder.name.lower()}_au{au}.txt")
        if path is None:
            bad("missing AU file", folder / f"{folder.name}_au{au}.txt",
                f"AU {au} intensities of subject {folder.name}")
            continue
        codes[au] = read_frame_codes(path, bad, range(6), "an intensity 0-5")
    return codes


def load_disfa(root: Path, camera: str = "left", stride="5", on_error: str = "raise",
               **options) -> Dataset:
    crop = detector_crop(**pop_crop_options(options))
    no_unknown_options("disfa", options)
    camera = choice(camera, "camera", ("left", "right"))
    step = as_int(stride, "stride", minimum=1)
    bad = BadData("disfa", on_error)
    labels = first_existing([root / "ActionUnit_Labels"], "disfa", LAYOUT)
    video_folder, videos = _videos(root, camera)
    rows, where, intensity = [], [], []
    for folder in sorted(p for p in labels.iterdir() if p.is_dir() and SUBJECT.match(p.name)):
        subject = folder.name.upper()
        video = videos.get(f"{camera}video{subject.lower()}_comp.avi")
        if video is None:
            bad("missing video", video_folder / f"{camera.title()}Video{subject}_comp.avi",
                f"the {camera} camera's video of {subject} (labels in {folder})")
            continue
        try:
            n_frames = frame_count(video_folder / video)
        except DatasetError as e:
            bad("unreadable video", video_folder / video, f"a video OpenCV can open ({e})")
            continue
        codes = _subject_codes(folder, bad)
        rel = f"{video_folder.relative_to(root).as_posix()}/{video}"
        frames = sorted(set().union(*codes.values()))
        for frame in frames[::step]:
            at = next(c[frame][1] for c in codes.values() if frame in c)
            if not 1 <= frame <= n_frames:
                bad("frame beyond the video", at, f"frame numbers 1..{n_frames} ({rel} has "
                    f"{n_frames} frames), found {frame}")
                continue
            rows.append({"id": f"{subject}_{frame:04d}", "path": frame_ref(rel, frame - 1),
                         "label": "", "split": "train", "subject": subject,
                         "sequence": subject, "frame": frame - 1})
            where.append(at)
            intensity.append({au: facs_intensity(c[frame][0])
                              for au, c in codes.items() if frame in c})
    manifest = with_au_columns(rows, intensity, aus=AUS) if rows else []
    return assemble("disfa", root, CLASSES["disfa"], manifest, where, bad, layout=LAYOUT,
                    image_family="disfa", face_crop=crop, official_val=False,
                    check_files=False, dataset_cls=VideoFrameDataset,
                    info={"camera": camera, "stride": step})


register_dataset(
    "disfa",
    "DISFA: 27 subjects, intensities of 12 AUs on every video frame (every 5th "
    "frame by default); no expression labels",
    default_folder="DISFA",
    card=DatasetCard(
        layout=LAYOUT,
        label_codes={**FACS_CODES, "AUs": "au_1 au_2 au_4 au_5 au_6 au_9 au_12 au_15 au_17 "
                                          "au_20 au_25 au_26; label \"\" (no expression labels)"},
        splits="no official splits: all rows in train; use subject-independent folds",
        face_crop="Haar detector, margin 0.2, eye-line alignment, no_face=full-image",
        terms=TERMS,
        options={"camera": "left (default) or right",
                 "stride": "every Nth coded frame of each video (default 5: 4 frames a "
                           "second, 969 per subject)",
                 "face_crop": "haar (default) or none", "margin": "0.2", "align": "true",
                 "no_face": "full-image (default), skip or error",
                 "on_error": "raise (default) or skip: drop and count bad rows"},
        notes="Frames are decoded from the videos when read (OpenCV); label frame f is video "
              "frame f - 1. Expression protocols find no labelled rows here: use the au "
              "protocol."),
)(load_disfa)
