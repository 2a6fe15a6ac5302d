"""Pre-training data: every image decoded once into one uint8 tensor.

``--data`` specs name a dataset and, optionally, its options and splits:
``NAME[:key=value,...][:SPLIT[+SPLIT...]]``, e.g. ``ferplus:train``,
``synth-wild:n=20000,workers=14:train`` or ``ferplus:train+val``. A part with ``=`` is
dataset options (passed to :func:`~fer_bench.datasets.registry.load_dataset`), a part
without is the split list. Without splits, a dataset's ``train`` split is used when it has
one (its val and test stay unseen), else all of it. A packed file
(:mod:`fer_bench.pretrain.packed`) is named by its path: ``.pack/ferplus.npz.xz:train``.

All images are resized (bilinear, antialiased) to one stored size, by default the
training input size: crops of the stored image are then always upsampled, as
torchvision's RandomResizedCrop upsamples crops of a 48 px FERPlus face. They are kept as
one (N, C, S, S) uint8 tensor, C = 1 when every source is grey, which can live on the GPU
(FERPlus train at 112 px: 0.3 GB grey, 0.9 GB colour).
"""
from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from fer_bench.runtime import worker_count
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.pretrain.packed import read_packed
from fer_bench.vocabulary import ALL_EXPRESSIONS, COARSE, canonical, coarse_id

_RESIZE_CHUNK = 1024


@dataclass
class Source:
    """Decoded images of one ``--data`` spec, before merging."""
    spec: str
    dataset: str
    image_family: str
    splits: tuple[str, ...]
    images: torch.Tensor            # uint8 (N, C, S, S)
    labels: list[str]               # canonical names
    identity: str                   # manifest digest or packed-file digest
    dropped: int = 0                # rows without a label in the coarse vocabulary


@dataclass
class PretrainData:
    images: torch.Tensor            # uint8 (N, C, S, S)
    fine: torch.Tensor              # int64 (N,) index into fine_classes
    coarse: torch.Tensor            # int64 (N,) index into vocabulary.COARSE
    fine_classes: tuple[str, ...]
    sources: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device) -> PretrainData:
        return PretrainData(self.images.to(device), self.fine.to(device),
                            self.coarse.to(device), self.fine_classes, self.sources)

    @property
    def present_classes(self) -> tuple[str, ...]:
        """Fine classes with at least one training image (canonical order)."""
        counts = torch.bincount(self.fine.cpu(), minlength=len(self.fine_classes))
        return tuple(c for c, k in zip(self.fine_classes, counts.tolist()) if k)

    @property
    def pretrained_on(self) -> tuple[str, ...]:
        """Dataset names and image families (for overlap flags), first-seen order."""
        names = [s["dataset"] for s in self.sources] + [s["image_family"] for s in self.sources]
        return tuple(dict.fromkeys(names))

    def summary(self) -> dict:
        """What went into training, as recorded in logs and exported metadata."""
        coarse = torch.bincount(self.coarse.cpu(), minlength=len(COARSE)).tolist()
        fine = torch.bincount(self.fine.cpu(), minlength=len(self.fine_classes)).tolist()
        return {"n_images": len(self), "stored_size": int(self.images.shape[-1]),
                "channels": int(self.images.shape[1]), "sources": self.sources,
                "fine_counts": dict(zip(self.fine_classes, fine)),
                "coarse_counts": dict(zip(COARSE, coarse))}


# -- specs ---------------------------------------------------------------------------------
def parse_spec(spec: str) -> tuple[str, str | None, tuple[str, ...]]:
    """``NAME[:opts][:SPLITS]`` -> (name, option string or None, splits)."""
    packed = _packed_path(spec)
    if packed is not None:
        rest = spec[len(packed):].lstrip(":")
        return packed, None, tuple(s for s in rest.split("+") if s) if rest else ()
    name, _, rest = spec.partition(":")
    if name == "folder":  # folder:/path/to/images (the generic image-folder adapter)
        return spec, None, ()
    options, splits = [], ()
    for part in filter(None, rest.split(":")):
        if "=" in part:
            options.append(part)
        elif splits:
            raise DatasetError(f"--data {spec!r}: two split lists; write SPLIT+SPLIT")
        else:
            splits = tuple(s for s in part.split("+") if s)
    return name, ",".join(options) or None, splits


def _packed_path(spec: str) -> str | None:
    match = re.fullmatch(r"(.*?\.npz(?:\.xz)?)(?::.*)?", spec)
    return match.group(1) if match else None


def load_source(spec: str, stored_size: int, root: str | Path | None = None,
                workers: int | None = None) -> Source:
    name, options, splits = parse_spec(spec)
    if name.endswith((".npz", ".npz.xz")):
        return load_packed(Path(name), splits, stored_size, spec=spec)
    from fer_bench.datasets.registry import load_dataset
    ds = load_dataset(f"{name}:{options}" if options else name, root=root)
    return source_from_dataset(ds, splits, stored_size, spec, workers)


def load_packed(path: Path, splits: tuple[str, ...], stored_size: int, spec: str = ""):
    """A pack's rows of ``splits`` (default: train if present, else all) as a
    :class:`Source`."""
    arrays, meta, digest = read_packed(path)
    all_splits = tuple(dict.fromkeys(arrays["splits"].tolist()))
    if not splits:
        splits = ("train",) if "train" in all_splits else all_splits
    unknown = [s for s in splits if s not in all_splits]
    if unknown:
        raise DatasetError(f"pack {path}: no split {unknown[0]!r}; it has {', '.join(all_splits)}")
    labels = arrays["labels"].tolist()
    keep = np.isin(arrays["splits"], splits) & np.array(
        [_coarse_or_none(label) is not None for label in labels], dtype=bool)
    dropped = int(np.isin(arrays["splits"], splits).sum() - keep.sum())
    images = torch.from_numpy(arrays["images"][keep])
    if images.ndim == 3:
        images = images.unsqueeze(1)
    return Source(spec=spec or str(path), dataset=meta["dataset"],
                  image_family=meta["image_family"], splits=tuple(splits),
                  images=resize_images(images, stored_size),
                  labels=[label for label, k in zip(labels, keep) if k],
                  identity=f"pack-sha256:{digest}", dropped=dropped)


def source_from_dataset(ds: Dataset, splits: tuple[str, ...], stored_size: int, spec: str,
                        workers: int | None = None) -> Source:
    """Decode the rows of ``splits`` whose label has a coarse group; count the others."""
    ds = select_splits(ds, splits, spec)
    keep = np.array([_coarse_or_none(label) is not None for label in ds.manifest["label"]],
                    dtype=bool)
    dropped = int((~keep).sum())
    ds = ds.subset(keep)
    images = decode_dataset(ds, stored_size, workers)
    return Source(spec=spec, dataset=ds.name, image_family=ds.image_family,
                  splits=tuple(dict.fromkeys(ds.manifest["split"])), images=images,
                  labels=list(ds.manifest["label"]), identity=ds.manifest_digest(),
                  dropped=dropped)


def select_splits(ds: Dataset, splits: tuple[str, ...], spec: str) -> Dataset:
    available = ds.splits
    if not splits:
        return ds.subset("train") if "train" in available else ds
    unknown = [s for s in splits if s not in available]
    if unknown:
        raise DatasetError(f"--data {spec!r}: {ds.name} has no split {unknown[0]!r}; it has "
                           f"{', '.join(available)} (or give dataset options as key=value)")
    return ds.subset(ds.manifest["split"].isin(splits).to_numpy())


def _coarse_or_none(label: str) -> int | None:
    try:
        return coarse_id(label) if label else None
    except KeyError:
        return None


# -- decoding -------------------------------------------------------------------------------
def decode_dataset(ds: Dataset, size: int, workers: int | None = None) -> torch.Tensor:
    """Every row of ``ds`` (face crop applied) as uint8 (N, C, size, size)."""
    from fer_bench.images.facecrop import apply_face_crop

    def read(row: int) -> torch.Tensor:
        try:
            return apply_face_crop(ds.read_image(row), ds.box(row), ds.face_crop)
        except Exception as e:  # name the image whatever the reader raised
            raise DatasetError(f"{ds.name}: cannot read image of row {row} "
                               f"({ds.manifest.at[row, 'path']}): {e}") from e

    workers = workers or worker_count(8)
    if len(ds) == 0:
        raise DatasetError(f"{ds.name}: no labelled images to pre-train on")
    with ThreadPoolExecutor(workers) as pool:  # decoders release the GIL
        images = list(pool.map(read, range(len(ds)), chunksize=64))
    return resize_images(images, size)


def resize_images(images: list[torch.Tensor] | torch.Tensor, size: int) -> torch.Tensor:
    """Resize (C, H, W) uint8 images to (C', size, size), in batches of equal shape;
    C' = 1 when all are grey, else 3. A stacked (N, C, H, W) tensor is resized as is."""
    if isinstance(images, torch.Tensor):
        return torch.cat([_resize(images[i:i + _RESIZE_CHUNK], size)
                          for i in range(0, len(images), _RESIZE_CHUNK)])
    grey = all(im.shape[0] == 1 for im in images)
    out = torch.empty(len(images), 1 if grey else 3, size, size, dtype=torch.uint8)
    by_shape: dict[tuple, list[int]] = {}
    for i, im in enumerate(images):
        by_shape.setdefault(tuple(im.shape), []).append(i)
    for rows in by_shape.values():
        for start in range(0, len(rows), _RESIZE_CHUNK):
            idx = rows[start:start + _RESIZE_CHUNK]
            batch = torch.stack([images[i] for i in idx])
            out[idx] = _resize(batch.expand(-1, out.shape[1], -1, -1), size)
    return out


def _resize(batch: torch.Tensor, size: int) -> torch.Tensor:
    if batch.shape[-2:] == (size, size):
        return batch.contiguous()
    x = F.interpolate(batch.float(), size=(size, size), mode="bilinear", align_corners=False,
                      antialias=True)
    return x.round_().clamp_(0, 255).to(torch.uint8)


# -- merging --------------------------------------------------------------------------------
def load_pretrain_data(specs: list[str] | tuple[str, ...], stored_size: int,
                       root: str | Path | None = None, workers: int | None = None
                       ) -> PretrainData:
    """Decode every ``--data`` spec and merge them into one :class:`PretrainData`."""
    if not specs:
        raise DatasetError("no pre-training data: give at least one --data SPEC")
    return merge_sources([load_source(s, stored_size, root, workers) for s in specs])


def canonical_hold_out(names) -> tuple[str, ...]:
    """Held-out expression names in the canonical vocabulary; a one-line error otherwise."""
    try:
        return tuple(dict.fromkeys(canonical(n) for n in names))
    except KeyError as e:
        raise ValueError(f"--hold-out: {e.args[0]}") from None


def without_expressions(data: PretrainData, hold_out: tuple[str, ...]) -> PretrainData:
    """``data`` without the images of the ``hold_out`` expressions: they leave the fine
    classes too, so nothing downstream (heads, exported label set) knows them. Each
    source's metadata counts its held-out rows."""
    if not hold_out:
        return data
    missing = [c for c in hold_out if c not in data.fine_classes]
    if missing:
        raise DatasetError(f"--hold-out {', '.join(missing)}: no training image of "
                           f"{', '.join(s['spec'] for s in data.sources)} has that label; "
                           f"its classes are {', '.join(data.fine_classes)}")
    held_ids = torch.tensor([data.fine_classes.index(c) for c in hold_out])
    keep = ~torch.isin(data.fine.cpu(), held_ids)
    sources, start = [], 0
    for src in data.sources:
        n = src["n_images"]
        kept = int(keep[start:start + n].sum())
        sources.append({**src, "n_images": kept, "held_out": n - kept})
        start += n
    fine_classes = tuple(c for c in data.fine_classes if c not in hold_out)
    remap = torch.tensor([fine_classes.index(c) if c in fine_classes else -1
                          for c in data.fine_classes])
    index = keep.nonzero().squeeze(1).to(data.images.device)
    fine = remap.to(data.fine.device)[data.fine[index]]
    return PretrainData(data.images[index].contiguous(), fine, data.coarse[index],
                        fine_classes, sources)


def merge_sources(sources: list[Source]) -> PretrainData:
    present = {label for s in sources for label in s.labels}
    fine_classes = tuple(c for c in ALL_EXPRESSIONS if c in present)
    lookup = {c: i for i, c in enumerate(fine_classes)}
    channels = max(s.images.shape[1] for s in sources)
    images = torch.cat([s.images.expand(-1, channels, -1, -1) for s in sources])
    labels = [label for s in sources for label in s.labels]
    fine = torch.tensor([lookup[label] for label in labels], dtype=torch.int64)
    coarse = torch.tensor([coarse_id(label) for label in labels], dtype=torch.int64)
    meta = [{"spec": s.spec, "dataset": s.dataset, "image_family": s.image_family,
             "splits": list(s.splits), "n_images": len(s.labels), "dropped": s.dropped,
             "identity": s.identity} for s in sources]
    return PretrainData(images.contiguous(), fine, coarse, fine_classes, meta)


def data_identity(data: PretrainData) -> str:
    """Short digest of the sources' identities (for naming runs)."""
    h = hashlib.sha256("|".join(s["identity"] for s in data.sources).encode())
    return h.hexdigest()[:12]
