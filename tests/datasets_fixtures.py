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


def make_affectnet_csv(root: Path, splits: dict[str, list[tuple[str, int]]]) -> Path:
    """training.csv / validation.csv rows (subDirectory_filePath, expression) + images 64x64
    with the face box (8, 8, 48, 48)."""
    for file_name, entries in splits.items():
        lines = [AFFECTNET_HEADER]
        for i, (rel, code) in enumerate(entries):
            write_image(root / "Manually_Annotated_Images" / rel, i, size=64)
            lines.append(f'{rel},8,8,48,48,"1.0;2.0",{code},0.1,-0.2')
        write_text(root / file_name, "\n".join(lines) + "\n")
    return root


def make_affectnet_npy(root: Path, splits: dict[str, list[tuple[str, int]]]) -> Path:
    """train_set/ val_set/ with images/<id>.jpg and annotations/<id>_exp.npy (a string code,
    as the release stores it)."""
    for folder, entries in splits.items():
        for i, (image_id, code) in enumerate(entries):
            write_image(root / folder / "images" / f"{image_id}.jpg", i)
            ann = root / folder / "annotations"
            ann.mkdir(parents=True, exist_ok=True)
            np.save(ann / f"{image_id}_exp.npy", np.array(str(code)))
            np.save(ann / f"{image_id}_val.npy", np.array("0.25"))
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
