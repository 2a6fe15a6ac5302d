"""A folder dataset of generated faces with planted duplicates, for the audit's tests.

Several identities, each rendered with several expressions, every face in its own scene
(pose, light, background: synth-wild's ranges), spread over train/val/test; then copies
of some train faces, changed the ways duplicates differ in real datasets, written into
val and test.
"""
from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from fer_bench.vocabulary import BASIC

SPLIT_FOLDERS = ("train", "val", "test")


def identity_faces(identities: int, per_identity: int, size: int, seed: int = 0):
    """uint8 (identities * per_identity, size, size, 3) faces, their labels and
    identity numbers; an identity's faces show distinct expressions."""
    from fer_bench.synth.plan import plan_stills
    from fer_bench.synth.preset_config import WILD
    from fer_bench.synth.render import render_face

    cfg = replace(WILD, images_per_subject=per_identity)
    expressions = [c for c in BASIC if c != "contempt"]
    labels = [expressions[(i % per_identity + i // per_identity) % len(expressions)]
              for i in range(identities * per_identity)]
    specs = plan_stills(cfg, len(labels), seed, labels=labels)
    faces = np.stack([render_face(s.identity, s.aus, s.scene, size) for s in specs])
    return faces, labels, np.arange(len(labels)) // per_identity


def jpeg(face: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(face).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def crop(face: np.ndarray, keep: float, dx: int = 0, dy: int = 0) -> np.ndarray:
    """The central ``keep`` of the side (moved by dx, dy), resized back."""
    side = face.shape[0]
    c = int(round(side * keep))
    x0, y0 = (side - c) // 2 + dx, (side - c) // 2 + dy
    return np.asarray(Image.fromarray(face[y0:y0 + c, x0:x0 + c]).resize((side, side),
                                                                      Image.BILINEAR))


def shift(face: np.ndarray, d: int) -> np.ndarray:
    """Moved d pixels right and down, the edge repeated."""
    out = np.empty_like(face)
    out[d:, d:] = face[:-d, :-d]
    out[:d] = out[d:d + 1]
    out[:, :d] = out[:, d:d + 1]
    return out


def brightness(face: np.ndarray, factor: float) -> np.ndarray:
    return np.asarray(ImageEnhance.Brightness(Image.fromarray(face)).enhance(factor))


# name -> (how the copy is made, the stage that must find it)
PLANTS = {
    "copy": (None, "exact"),
    "jpeg50": (lambda f: jpeg(f, 50), "perceptual"),
    "darker": (lambda f: brightness(f, 0.7), "perceptual"),
    "brighter": (lambda f: brightness(f, 1.2), "perceptual"),
    "crop90": (lambda f: crop(f, 0.9), "aligned"),
    "crop90-shifted": (lambda f: crop(f, 0.9, 2, -2), "aligned"),
    "shift2": (lambda f: shift(f, 2), "aligned"),
    "crop92-jpeg70": (lambda f: jpeg(crop(f, 0.92), 70), "aligned"),
}


def write_planted_folder(root: Path, identities: int = 6, per_identity: int = 4,
                         size: int = 64, seed: int = 0) -> dict:
    """``root/<split>/<class>/<name>.png``: each identity's faces dealt over the three
    splits in turn, then one planted copy of a train face per entry of ``PLANTS``, in
    test (even entries) or val (odd). Returns where everything went: ``faces`` (split,
    id, identity), ``planted`` (plant name -> (source id, copy id, split, stage))."""
    faces, labels, identity = identity_faces(identities, per_identity, size, seed)
    where, paths = [], {}
    for i, (face, label) in enumerate(zip(faces, labels)):
        split = SPLIT_FOLDERS[i % len(SPLIT_FOLDERS)]
        path = root / split / label / f"face{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(face).save(path)
        where.append((split, f"{split}/{label}/face{i:03d}", int(identity[i])))
        paths[i] = path
    train = [i for i, (split, _, _) in enumerate(where) if split == "train"]
    planted = {}
    for n, (name, (change, stage)) in enumerate(PLANTS.items()):
        source = train[n % len(train)]
        split = ("test", "val")[n % 2]
        label = labels[source]
        path = root / split / label / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if change is None:
            shutil.copyfile(paths[source], path)
        else:
            Image.fromarray(change(faces[source])).save(path)
        planted[name] = (where[source][1], f"{split}/{label}/{name}", split, stage)
    return {"faces": where, "planted": planted}
