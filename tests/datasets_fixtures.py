"""Builders of tiny copies of real FER datasets, each in its exact on-disk layout.

Images are generated faces (``fer_bench.synth.sample_faces``) where the synth package
provides them, else seeded noise: adapters only read paths and labels, so the layout
is what these tests check; face cropping tests use generated faces explicitly.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image


@lru_cache(maxsize=8)
def _face_bank(size: int, n: int = 8) -> tuple[np.ndarray, ...]:
    try:
        from fer_bench.synth import sample_faces
    except ImportError:
        sample_faces = None
    if sample_faces is not None:
        faces, _labels = sample_faces(n, size=size, seed=0)        # uint8 (n, 3, S, S)
        return tuple(f.permute(1, 2, 0).numpy() for f in faces)
    rng = np.random.default_rng(size)
    return tuple(rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n))


def face_image(i: int, size: int = 32, grey: bool = False) -> np.ndarray:
    """uint8 (H, W, 3) or (H, W): one of a small bank of faces, cycled by ``i``."""
    bank = _face_bank(size)
    img = bank[i % len(bank)]
    return np.asarray(Image.fromarray(img).convert("L")) if grey else img


def write_image(path: Path, i: int = 0, size: int = 32, grey: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(face_image(i, size, grey)).save(path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- one builder per layout -----------------------------------------------------------------

def make_rafdb(root: Path, part: str, entries: list[tuple[str, int]]) -> Path:
    """``<root>/<part>/EmoLabel/list_patition_label.txt`` + aligned images."""
    lines = []
    for i, (name, code) in enumerate(entries):
        lines.append(f"{name} {code}")
        stem = name.rsplit(".", 1)[0]
        write_image(root / part / "Image" / "aligned" / f"{stem}_aligned.jpg", i)
    write_text(root / part / "EmoLabel" / "list_patition_label.txt", "\n".join(lines) + "\n")
    return root


def fer2013_pixels(i: int) -> str:
    """2304 grey values of row i, as FER2013 writes them."""
    return " ".join(str(v) for v in face_image(i, 48, grey=True).ravel())


def make_fer2013(root: Path, rows: list[tuple[int, str]]) -> Path:
    """``fer2013.csv`` with (emotion, Usage) rows; pixels from face_image(row index)."""
    lines = ["emotion,pixels,Usage"]
    lines += [f"{emotion},{fer2013_pixels(i)},{usage}" for i, (emotion, usage) in enumerate(rows)]
    write_text(root / "fer2013.csv", "\n".join(lines) + "\n")
    return root


FERPLUS_HEADER = ("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
                  "contempt,unknown,NF")


def make_ferplus_folders(root: Path, splits: dict[str, list[list[int]]]) -> Path:
    """FER2013Train/Valid/Test with ferNNNNNNN.png and header-less label.csv; ``splits``
    maps folder name -> vote lists (10 ints each); names continue across folders."""
    row = 0
    for folder, votes in splits.items():
        lines = []
        for v in votes:
            name = f"fer{row:07d}.png"
            write_image(root / folder / name, row, size=48, grey=True)
            lines.append(f'{name},"(0, 0, 48, 48)",' + ",".join(map(str, v)))
            row += 1
        write_text(root / folder / "label.csv", "\n".join(lines) + "\n")
    return root


def make_ferplus_csv(root: Path, rows: list[tuple[str, bool, list[int]]]) -> Path:
    """fer2013new.csv (Usage, named or not-a-face, votes) beside a matching fer2013.csv."""
    lines = [FERPLUS_HEADER]
    for i, (usage, is_face, votes) in enumerate(rows):
        name = f"fer{i:07d}.png" if is_face else ""
        lines.append(f"{usage},{name}," + ",".join(map(str, votes)))
    write_text(root / "fer2013new.csv", "\n".join(lines) + "\n")
    make_fer2013(root, [(0, usage) for usage, _, _ in rows])
    return root


AFFECTNET_HEADER = ("subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,"
                    "expression,valence,arousal")


def make_affectnet_csv(root: Path, splits: dict[str, list[tuple]]) -> Path:
    """training.csv / validation.csv rows (subDirectory_filePath, expression[, valence,
    arousal]; valence and arousal default to 0.1, -0.2) + images 64x64 with the face box
    (8, 8, 48, 48)."""
    for file_name, entries in splits.items():
        lines = [AFFECTNET_HEADER]
        for i, (rel, code, *va) in enumerate(entries):
            write_image(root / "Manually_Annotated_Images" / rel, i, size=64)
            valence, arousal = va or (0.1, -0.2)
            lines.append(f'{rel},8,8,48,48,"1.0;2.0",{code},{valence},{arousal}')
        write_text(root / file_name, "\n".join(lines) + "\n")
    return root


def make_affectnet_npy(root: Path, splits: dict[str, list[tuple]]) -> Path:
    """train_set/ val_set/ with images/<id>.jpg and annotations/<id>_exp.npy, _val.npy and
    _aro.npy (strings, as the release stores them); entries are (id, expression[, valence,
    arousal]), valence and arousal default to "0.25", "-0.5"."""
    for folder, entries in splits.items():
        for i, (image_id, code, *va) in enumerate(entries):
            write_image(root / folder / "images" / f"{image_id}.jpg", i)
            ann = root / folder / "annotations"
            ann.mkdir(parents=True, exist_ok=True)
            valence, arousal = va or ("0.25", "-0.5")
            np.save(ann / f"{image_id}_exp.npy", np.array(str(code)))
            np.save(ann / f"{image_id}_val.npy", np.array(str(valence)))
            np.save(ann / f"{image_id}_aro.npy", np.array(str(arousal)))
    return root


def make_ckplus(root: Path, sequences: list[tuple[str, str, int, str | None]]) -> Path:
    """(subject, sequence, n_frames, emotion-file text or None for unlabelled)."""
    for s, (subject, seq, n, code) in enumerate(sequences):
        for f in range(1, n + 1):
            write_image(root / "cohn-kanade-images" / subject / seq
                        / f"{subject}_{seq}_{f:08d}.png", s + f, grey=True)
        if code is not None:
            write_text(root / "Emotion" / subject / seq / f"{subject}_{seq}_{n:08d}_emotion.txt",
                       f"   {code}\n")
    return root


def write_ckplus_facs(root: Path, subject: str, seq: str, frame: int,
                      codes: list[tuple[float, float]], folder: str = "FACS") -> Path:
    """FACS/<subject>/<seq>/<subject>_<seq>_<frame>_facs.txt: one "AU intensity" line per
    code, in CK+'s float notation."""
    lines = [f"   {au:.7e}   {level:.7e}" for au, level in codes]
    return write_text(root / folder / subject / seq / f"{subject}_{seq}_{frame:08d}_facs.txt",
                      "\n".join(lines) + "\n")


def video_frame(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """RGB frame i of a test video: flat colour (8 + 12 i, 90, 200), so a decoded frame
    names its index within codec error and shows whether red and blue were swapped."""
    return np.broadcast_to(np.array([8 + 12 * i, 90, 200], np.uint8), (height, width, 3)).copy()


def write_video(path: Path, n_frames: int, fourcc: str = "XVID") -> Path:
    """An AVI of ``video_frame(0..n_frames-1)`` at 20 fps (XVID: key and predicted
    frames, so reading a frame exercises seeking)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 20, (64, 48))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} video {path}"
    for i in range(n_frames):
        writer.write(np.ascontiguousarray(video_frame(i)[:, :, ::-1]))    # OpenCV takes BGR
    writer.release()
    return path


DISFA_AUS = (1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26)


def make_disfa(root: Path, subjects: dict[str, int], code=lambda subject, au, frame: 0,
               camera: str = "Left", video_folder: str = "Videos_LeftCamera") -> Path:
    """ActionUnit_Labels/<SN>/<SN>_au<N>.txt ("frame,intensity", frames from 1) and one
    video per subject with ``subjects[SN]`` frames; ``code(subject, au, frame)`` gives the
    intensities (None leaves the frame out of that AU's file)."""
    for subject, n in subjects.items():
        for au in DISFA_AUS:
            lines = [f"{f},{code(subject, au, f)}" for f in range(1, n + 1)
                     if code(subject, au, f) is not None]
            write_text(root / "ActionUnit_Labels" / subject / f"{subject}_au{au}.txt",
                       "\n".join(lines) + "\n")
        write_video(root / video_folder / f"{camera}Video{subject}_comp.avi", n)
    return root


BP4D_AUS = (1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24)


def make_bp4d(root: Path, occurrence: dict[str, list[list[int]]],
              intensity: dict[str, dict[int, list[int]]] | None = None, first_frame: int = 100,
              frames_folder: str = "Sequences", coding: str = "AUCoding",
              name=lambda frame: f"{frame:04d}.jpg") -> Path:
    """``occurrence[F001_T1]``: one list of codes (one per BP4D_AUS) per frame, frames
    numbered from ``first_frame``, written as AU_OCC/F001_T1.csv under a "0,<AUs>" header;
    ``intensity[F001_T1][12]``: codes of those frames for AU_INT/AU12/F001_T1_AU12.csv;
    one image per frame under <frames_folder>/F001/T1/."""
    for sequence, lines in occurrence.items():
        subject, task = sequence.split("_")
        text = ["0," + ",".join(map(str, BP4D_AUS))]
        for k, codes in enumerate(lines):
            frame = first_frame + k
            text.append(f"{frame}," + ",".join(map(str, codes)))
            write_image(root / frames_folder / subject / task / name(frame), k)
        write_text(root / coding / "AU_OCC" / f"{sequence}.csv", "\n".join(text) + "\n")
        for au, codes in (intensity or {}).get(sequence, {}).items():
            rows = [f"{first_frame + k},{c}" for k, c in enumerate(codes)]
            write_text(root / coding / "AU_INT" / f"AU{au:02d}" / f"{sequence}_AU{au:02d}.csv",
                       "\n".join(rows) + "\n")
    return root
