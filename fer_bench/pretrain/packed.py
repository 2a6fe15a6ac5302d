"""Packed pre-training data: a dataset's decoded images and labels in one compressed file,
for machines that cannot see the original folders (the lent GPU machine).

A pack is an uncompressed ``.npz`` (``images`` uint8 (N, H, W) or (N, C, H, W),
``labels``, ``splits``, ``ids`` as unicode arrays, ``meta`` a JSON string) inside an xz
stream whose delta filter subtracts the pixel one row above before LZMA2: FERPlus
train + val (28,236 faces, 48x48 grey, 65 MB raw) packs to about 46 MB, against 51 MB
for plain xz and 60 MB for zlib. Nothing in it is pickled: it loads with
``allow_pickle=False``.

Packs hold research-only images: they live in the git-ignored ``.pack/`` folder and must
never be committed. This module is the file format alone;
:func:`fer_bench.pretrain.data.load_packed` turns a pack into pre-training data.
"""
from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import tempfile
from pathlib import Path

import numpy as np

from fer_bench.datasets.base import DatasetError

FORMAT = "fer-bench-pack/1"


def save_packed(path: Path, images: np.ndarray, labels, splits, ids, meta: dict,
                preset: int = 6) -> Path:
    """Write a pack atomically; ``meta`` needs at least ``dataset`` and ``image_family``."""
    images = np.ascontiguousarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(f"pack images must be uint8 (N, H, W) or (N, C, H, W), got "
                         f"{images.dtype} {images.shape}")
    n = len(images)
    if not len(labels) == len(splits) == len(ids) == n:
        raise ValueError("pack: images, labels, splits and ids differ in length")
    missing = {"dataset", "image_family"} - set(meta)
    if missing:
        raise ValueError(f"pack meta lacks {sorted(missing)}")
    buf = io.BytesIO()
    np.savez(buf, images=images, labels=np.asarray(labels, dtype=str),
             splits=np.asarray(splits, dtype=str), ids=np.asarray(ids, dtype=str),
             meta=np.asarray(json.dumps({"format": FORMAT, **meta}, sort_keys=True)))
    # One image row is W bytes in (N, H, W) and in planar (N, C, H, W) layout alike.
    filters = [{"id": lzma.FILTER_DELTA, "dist": min(256, images.shape[-1])},
               {"id": lzma.FILTER_LZMA2, "preset": preset}]
    data = lzma.compress(buf.getvalue(), format=lzma.FORMAT_XZ, filters=filters)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def read_packed(path: Path) -> tuple[dict[str, np.ndarray], dict, str]:
    """(arrays, meta, sha256 of the file) of a pack, validated."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"pack {path} does not exist (make one with scripts/pack_ferplus.py)")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if path.name.endswith(".xz"):
            raw = lzma.decompress(raw)
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (lzma.LZMAError, OSError, ValueError, KeyError) as e:
        raise DatasetError(f"pack {path}: not a fer-bench pack ({type(e).__name__}: {e})") from None
    if meta.get("format") != FORMAT:
        raise DatasetError(f"pack {path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    for key in ("images", "labels", "splits", "ids"):
        if key not in arrays:
            raise DatasetError(f"pack {path}: lacks the {key!r} array")
    return arrays, meta, digest
