"""A dataset = a manifest (one row per image) + how to read its images.

The manifest is the contract between dataset adapters and everything downstream:
required columns ``id`` (unique str), ``path`` (relative to ``root``, or a
reader-specific reference), ``label`` (canonical expression name, or "" when the image
has none, e.g. not-a-face), ``split`` ("train" / "val" / "test" / ...), ``subject``
(str, "" when unknown). Optional columns: ``box_x, box_y, box_w, box_h`` (face box in
pixels), ``sequence`` and ``frame`` (video datasets), ``coarse``, ``intensity``,
``au_*`` (AU intensities), ``soft_*`` (label distributions), ``yaw/pitch/roll``,
``preset``. Adapters may add other columns; nothing downstream requires them.

Three digests say what a dataset is, each for its own user:

- :meth:`Dataset.manifest_digest`: which rows, in which order, read how (ids, paths,
  boxes, crop settings, reader facts such as a generator version);
- :meth:`Dataset.content_digest`: the bytes of the files the pixels come from (a sha256
  per file, remembered by :mod:`fer_bench.datasets.file_digests`);
- :meth:`Dataset.labels_digest`: everything else a protocol reads (every manifest column:
  labels, splits, subjects, ...; the declared classes; whether val is official).

The feature key takes the first two and never the third: labels are applied after
extraction, so a label fix keeps the features. Result records keep all three.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fer_bench.datasets.file_digests import file_digests
from fer_bench.plugins import SpecError

if TYPE_CHECKING:  # pragma: no cover - listing datasets must not import torch
    import torch

REQUIRED_COLUMNS = ("id", "path", "label", "split", "subject")
BOX_COLUMNS = ("box_x", "box_y", "box_w", "box_h")


class DatasetError(ValueError):
    """Bad dataset input: the message names the file and what was expected."""


class DatasetSpecError(DatasetError, SpecError):
    """A dataset spec that names no dataset, breaks the spec grammar, or gives an unknown
    option or a bad option value: a mistake on the command line, found before any file
    is read."""


@dataclass
class Dataset:
    name: str
    root: Path
    classes: tuple[str, ...]            # declared label space, canonical names; index = class id
    manifest: pd.DataFrame
    # Which datasets' images these are, for pre-training overlap flags (e.g. FERPlus and
    # FER2013 share images, so both say "fer2013-images").
    image_family: str = ""
    # Face crop applied before the encoder; None = images are already aligned faces.
    face_crop: dict | None = None
    official_val: bool = True            # False: protocols carve a seeded val from train
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in self.manifest.columns]
        if missing:
            raise DatasetError(f"{self.name}: manifest lacks columns {missing}")
        self.root = Path(self.root)
        self.image_family = self.image_family or self.name
        self.manifest = self.manifest.reset_index(drop=True)
        if self.manifest["id"].duplicated().any():
            dup = self.manifest.loc[self.manifest["id"].duplicated(), "id"].iloc[:5].tolist()
            raise DatasetError(f"{self.name}: duplicate image ids {dup}")

    # --- views -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.manifest)

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.manifest["split"]))

    def subset(self, mask_or_split) -> Dataset:
        """Rows of one split (str) or of a boolean mask, as a Dataset of the same kind."""
        if isinstance(mask_or_split, str):
            if mask_or_split not in set(self.manifest["split"]):
                raise DatasetError(f"{self.name}: no split {mask_or_split!r}; has {self.splits}")
            mask = self.manifest["split"] == mask_or_split
        else:
            mask = np.asarray(mask_or_split, dtype=bool)
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.manifest = self.manifest.loc[mask].reset_index(drop=True)
        return clone

    def labelled(self) -> Dataset:
        """Only rows whose label is one of the declared classes."""
        return self.subset(self.manifest["label"].isin(self.classes).to_numpy())

    def label_indices(self, classes: tuple[str, ...] | None = None) -> np.ndarray:
        """Class index of every row in ``classes`` (default: the declared ones); -1 if absent."""
        classes = classes or self.classes
        lookup = {c: i for i, c in enumerate(classes)}
        return self.manifest["label"].map(lambda x: lookup.get(x, -1)).to_numpy(np.int64)

    # --- images ----------------------------------------------------------------
    def image_path(self, row: int) -> Path:
        return self.root / str(self.manifest.at[row, "path"])

    def read_image(self, row: int) -> torch.Tensor:
        """uint8 tensor (C, H, W) of manifest row ``row``, C = 1 or 3. Subclasses that keep
        pixels elsewhere (fer2013.csv rows, arrays) override this."""
        from fer_bench.images.decode import decode_file  # local: keeps manifests light
        return decode_file(self.image_path(row))

    def box(self, row: int) -> tuple[int, int, int, int] | None:
        if "box_x" not in self.manifest.columns:
            return None
        vals = self.manifest.loc[row, list(BOX_COLUMNS)]
        if vals.isna().any():
            return None
        return tuple(int(v) for v in vals)

    # --- identity for caching ----------------------------------------------------
    def manifest_digest(self) -> str:
        """sha256 over what changes pixels: ids, paths, boxes, crop, reader facts."""
        cols = ["id", "path"] + [c for c in BOX_COLUMNS if c in self.manifest.columns]
        h = hashlib.sha256()
        h.update(json.dumps({"name": self.name, "face_crop": self.face_crop,
                             "extra": self.pixel_identity()}, sort_keys=True).encode())
        h.update(pd.util.hash_pandas_object(self.manifest[cols].astype(str), index=False)
                 .to_numpy().tobytes())
        return h.hexdigest()

    def pixel_identity(self) -> dict:
        """Extra facts that change pixels (e.g. generator version); subclasses extend."""
        return {}

    def pixel_files(self) -> np.ndarray:
        """The file each row's pixels come from, in row order (str). Subclasses whose
        pixels live elsewhere (rows of one CSV) override this."""
        return (str(self.root) + os.sep + self.manifest["path"].astype(str)).to_numpy(object)

    def content_digest(self) -> str:
        """sha256 over the sha256 of every row's pixel file ("missing" for an absent one),
        in row order. Each file version is read once (a digest index in the cache); an
        unchanged file costs a ``stat``."""
        return hashlib.sha256("\n".join(file_digests(self.pixel_files())).encode()).hexdigest()

    def labels_digest(self) -> str:
        """sha256 over every manifest column (labels, splits, subjects, soft labels, ...),
        the declared classes and whether val is official: what a protocol reads besides
        the pixels."""
        columns = sorted(self.manifest.columns)
        h = hashlib.sha256(json.dumps({"columns": columns, "classes": list(self.classes),
                                       "official_val": bool(self.official_val)}).encode())
        h.update(pd.util.hash_pandas_object(self.manifest[columns].astype(str), index=False)
                 .to_numpy().tobytes())
        return h.hexdigest()
