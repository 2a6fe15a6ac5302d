"""The file format of fer-bench's encoder weights, and loading third-party checkpoints.

A fer-bench encoder file is plain safetensors (no pickle, so loading it runs no code) whose
header carries one metadata entry, ``"fer_bench"``: a JSON object with at least

- ``format``: ``"fer-bench-encoder/1"``;
- ``tensor_digest``: sha256 over the sorted tensor names, dtypes, shapes and bytes. It
  identifies the weights whatever the sharding or the other metadata, so it is what the
  feature cache keys on, and it is re-checked on every load;

plus whatever the exporter describes (the encoders read ``encoder``, ``revision``,
``architecture``, ``embed_dim``, ``layer``, ``input_size``, ``channels``, ``mean``, ``std``,
``pretrained_on``, ``pretrain_classes``, ``method``, ``licence``, ``description``).

Weights above ``max_shard_bytes`` are split the way Hugging Face splits them: a directory of
``model-00001-of-0000N.safetensors`` files plus ``model.safetensors.index.json``
(``{"metadata": {...}, "weight_map": {tensor name: file name}}``), each shard carrying the
same header metadata.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

FORMAT = "fer-bench-encoder/1"
HEADER_KEY = "fer_bench"
INDEX_NAME = "model.safetensors.index.json"
_SHARD_NAME = "model-{:05d}-of-{:05d}.safetensors"

Metadata = dict[str, "str | int | float | list"]


class WeightsError(ValueError):
    """A weights file that is not what it claims to be; the message names the file."""


# -- digest ------------------------------------------------------------------------------
def tensor_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over sorted names, dtypes, shapes and raw bytes (little-endian, as stored)."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(json.dumps([name, str(t.dtype).removeprefix("torch."), list(t.shape)])
                 .encode() + b"\n")
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


# -- writing -----------------------------------------------------------------------------
def save_encoder_weights(state_dict: dict[str, torch.Tensor], out: Path,
                         metadata: Metadata, dtype: torch.dtype | None = torch.float16,
                         max_shard_bytes: int | None = None) -> list[Path]:
    """Write encoder weights as fer-bench safetensors; return the files written.

    Floating-point tensors are stored as ``dtype`` (None keeps each tensor's own dtype);
    integer buffers (BatchNorm's ``num_batches_tracked``) keep theirs. ``out`` is one file,
    or, when ``max_shard_bytes`` is set and the tensors exceed it, a directory of shards
    plus an index. The write is atomic: a crash leaves the previous ``out`` (if any) intact.
    """
    out = Path(out)
    tensors = _storable(state_dict, dtype)
    header = dict(metadata)
    for reserved in ("format", "tensor_digest"):
        header.pop(reserved, None)
    header = {"format": FORMAT, "tensor_digest": tensor_digest(tensors), **header}
    try:
        header_json = json.dumps(header, sort_keys=True)
    except TypeError as e:
        raise TypeError(f"encoder weights metadata for {out} must be JSON values: {e}") from e
    st_meta = {HEADER_KEY: header_json}

    shards = _split(tensors, max_shard_bytes)
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(shards) == 1:
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=st_meta)
            _replace(Path(tmp), out)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return [out]

    tmp_dir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        weight_map = {}
        names = [_SHARD_NAME.format(i + 1, len(shards)) for i in range(len(shards))]
        for fname, keys in zip(names, shards):
            save_file({k: tensors[k] for k in keys}, tmp_dir / fname, metadata=st_meta)
            weight_map.update({k: fname for k in keys})
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        index = {"metadata": {**header, "total_size": total}, "weight_map": weight_map}
        (tmp_dir / INDEX_NAME).write_text(json.dumps(index, indent=1, sort_keys=True))
        _replace(tmp_dir, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return [out / n for n in names] + [out / INDEX_NAME]


def _storable(state_dict: dict[str, torch.Tensor], dtype: torch.dtype | None) -> dict:
    tensors = {}
    for name, t in state_dict.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"state_dict[{name!r}] is {type(t).__name__}, not a tensor")
        t = t.detach().cpu()
        if t.is_floating_point() and t.numel():
            # amax, not isfinite(): several times faster, and NaN/inf propagate through it.
            if not torch.isfinite(t.abs().amax()):
                raise ValueError(f"{name}: holds NaN or inf values; refusing to export them")
            if dtype is not None and t.dtype != dtype:
                t = t.to(dtype)
                if torch.isinf(t.abs().amax()):
                    raise ValueError(f"{name}: values overflow {dtype} (max |x| = "
                                     f"{state_dict[name].abs().amax().item():.4g}); "
                                     "export with a wider dtype")
                tensors[name] = t.contiguous()
                continue
        tensors[name] = t.contiguous().clone()  # own storage: safetensors refuses shared
    return tensors


def _split(tensors: dict[str, torch.Tensor], max_bytes: int | None) -> list[list[str]]:
    """Greedy split in sorted name order; a tensor larger than the limit gets its own shard."""
    keys = sorted(tensors)
    if max_bytes is None:
        return [keys]
    if max_bytes <= 0:
        raise ValueError(f"max_shard_bytes must be positive, got {max_bytes}")
    shards: list[list[str]] = [[]]
    size = 0
    for k in keys:
        nbytes = tensors[k].numel() * tensors[k].element_size()
        if shards[-1] and size + nbytes > max_bytes:
            shards.append([])
            size = 0
        shards[-1].append(k)
        size += nbytes
    return shards


def _replace(new: Path, out: Path) -> None:
    """Move ``new`` onto ``out``, whichever of them is a file or a directory."""
    if out.is_dir() and not out.is_symlink():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    if new.is_dir() and out.exists():
        out.unlink()  # a single file becomes a shard directory
    os.replace(new, out)


# -- reading -----------------------------------------------------------------------------
def read_encoder_metadata(path: Path) -> dict:
    """The ``fer_bench`` header of a weights file, shard directory or index (cheap: no
    tensors are read). Raises :class:`WeightsError` when it is not a fer-bench file."""
    path = Path(path)
    index = _index_path(path)
    if index is not None:
        return _read_index(index)[0]
    return _file_header(path)


def pretrained_splits(meta: dict) -> tuple[str, ...]:
    """A header's ``pretrained_on`` narrowed to the splits its ``data_sources`` name:
    each source's dataset and image family as ``NAME/SPLIT`` per split it trained on
    (``ferplus/train``, ``fer2013-images/train``), so that scoring a split the training
    never saw is no overlap. Names no source accounts for, or a header without sources,
    stay bare (every split)."""
    qualified: list[str] = []
    for source in meta.get("data_sources") or ():
        names = [source.get(k) for k in ("dataset", "image_family") if source.get(k)]
        splits = list(source.get("splits") or ())
        qualified += [f"{n}/{s}" for n in names for s in splits] if splits else names
    covered = {entry.split("/", 1)[0] for entry in qualified}
    bare = [n for n in meta.get("pretrained_on", ()) if n.split("/", 1)[0] not in covered]
    return tuple(dict.fromkeys(qualified + bare))


def load_encoder_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Load and validate fer-bench encoder weights (a file, a shard directory or its index
    json). Returns (float32 state dict, metadata); integer buffers keep their dtype."""
    path = Path(path)
    index = _index_path(path)
    if index is None:
        meta = _file_header(path)
        tensors = _read_tensors(path)
    else:
        meta, weight_map = _read_index(index)
        tensors = {}
        for fname in sorted(set(weight_map.values())):
            shard = index.parent / fname
            if not shard.is_file():
                raise WeightsError(f"{index}: lists shard {fname}, which does not exist")
            if _file_header(shard).get("tensor_digest") != meta["tensor_digest"]:
                raise WeightsError(f"{shard}: belongs to other weights than {index} "
                                   "(its tensor_digest differs)")
            part = _read_tensors(shard)
            expected = {k for k, f in weight_map.items() if f == fname}
            if set(part) != expected:
                raise WeightsError(f"{shard}: holds tensors {sorted(set(part) ^ expected)[:5]} "
                                   f"where {index.name} says otherwise")
            tensors.update(part)
        path = index
    digest = tensor_digest(tensors)
    if digest != meta["tensor_digest"]:
        raise WeightsError(f"{path}: tensors do not match the digest in its header "
                           f"({digest[:12]} != {meta['tensor_digest'][:12]}): corrupted or "
                           "edited file")
    return {k: (t.float() if t.is_floating_point() else t) for k, t in tensors.items()}, meta


def _index_path(path: Path) -> Path | None:
    if path.is_dir():
        index = path / INDEX_NAME
        if not index.is_file():
            raise WeightsError(f"{path}: a weights directory must hold {INDEX_NAME}")
        return index
    if path.name.endswith(".json"):
        return path
    return None


def _read_index(index: Path) -> tuple[dict, dict[str, str]]:
    try:
        doc = json.loads(index.read_text())
        meta, weight_map = doc["metadata"], doc["weight_map"]
    except FileNotFoundError:
        raise WeightsError(f"{index}: no such weights index") from None
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise WeightsError(f"{index}: not a safetensors index with 'metadata' and "
                           f"'weight_map' ({e})") from None
    _check_format(meta, index)
    bad = [f for f in set(weight_map.values()) if Path(f).name != f]
    if bad:  # shard names are plain file names next to the index, never paths elsewhere
        raise WeightsError(f"{index}: shard names must be plain file names, got {bad[:3]}")
    return meta, weight_map


def _file_header(path: Path) -> dict:
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(HEADER_KEY)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such weights file") from None
    except (SafetensorError, OSError) as e:
        raise WeightsError(f"{path}: not a safetensors file ({e})") from None
    if raw is None:
        raise WeightsError(f"{path}: safetensors file without a {HEADER_KEY!r} header entry; "
                           "not exported by fer-bench (see fer_bench.weights)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise WeightsError(f"{path}: {HEADER_KEY!r} header entry is not JSON ({e})") from None
    _check_format(meta, path)
    return meta


def _check_format(meta: object, where: Path) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else meta
        raise WeightsError(f"{where}: weights format {found!r}, this fer-bench reads {FORMAT!r}")
    if not re.fullmatch(r"[0-9a-f]{64}", str(meta.get("tensor_digest", ""))):
        raise WeightsError(f"{where}: header lacks a valid tensor_digest")


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as e:
        raise WeightsError(f"{path}: unreadable safetensors data ({e})") from None


# -- official CRS-CONT checkpoints -------------------------------------------------------
# Official layout (docs/crs-cont.md): torch.save({'opt': argparse.Namespace,
# 'model': state_dict, 'optimizer': ..., 'epoch': int}); the ResNet-18 is under
# "encoder.", with an extra "module." after DataParallel training, and its residual
# projections are called "shortcut" where torchvision says "downsample".
_DATASETS_OF_OFFICIAL_RUN = {"Mix": ("rafdb", "affectnet"), "RAF-DB": ("rafdb",),
                             "AffectNet": ("affectnet",)}


def load_official_crs_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Load an official CRS-CONT ``.pth`` safely; return (ResNet-18 trunk state dict with
    torchvision key names, float32; metadata from the checkpoint's ``opt``)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such checkpoint")
    try:
        with _namespace_allowed():
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle and zip errors have many types; name the file
        raise WeightsError(f"{path}: cannot be loaded as a weights-only torch checkpoint "
                           f"({type(e).__name__}: {e})") from None
    model = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(model, dict):
        raise WeightsError(f"{path}: expected a dict with a 'model' state dict, got "
                           f"{type(ckpt).__name__}")
    trunk = {}
    for key, value in model.items():
        parts = [p for p in key.split(".") if p != "module"]
        if not parts or parts[0] != "encoder" or not isinstance(value, torch.Tensor):
            continue  # head.*, linear_classifier.*: training-only parts
        name = ".".join(parts[1:]).replace(".shortcut.", ".downsample.")
        trunk[name] = value.float() if value.is_floating_point() else value
    if not trunk:
        raise WeightsError(f"{path}: no 'encoder.*' tensors; keys start with "
                           f"{sorted({k.split('.')[0] for k in model})[:8]}")
    opt = _official_opt(ckpt.get("opt") if isinstance(ckpt, dict) else None, path)
    epoch = ckpt.get("epoch") if isinstance(ckpt, dict) else None
    meta = {
        "format": "crs-cont-official",
        "epoch": epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None,
        "method": opt.get("method", "CRS-CONT"),
        "architecture": opt.get("model", "resnet18"),
        "input_size": opt.get("size") or 224,
        "channels": "bgr",  # the official loader reads with OpenCV and never converts
        "pretrained_on": list(_DATASETS_OF_OFFICIAL_RUN.get(opt.get("dataset", "Mix"), ())),
        "opt": {k: v for k, v in opt.items() if isinstance(v, (str, int, float, bool, list))},
    }
    return trunk, meta


def _official_opt(opt: object, path: Path) -> dict:
    """The training options of an official checkpoint (an argparse.Namespace, a dict or
    absent), with the entries fer-bench reads checked; errors name the file."""
    if opt is None:
        return {}
    if isinstance(opt, argparse.Namespace):
        opt = vars(opt)
    if not isinstance(opt, dict) or not all(isinstance(k, str) for k in opt):
        raise WeightsError(f"{path}: its 'opt' entry is a {type(opt).__name__}; expected the "
                           "training options as an argparse.Namespace or a dict with "
                           "string keys")
    expected = {"method": (str, "a method name such as 'CRS-CONT'"),
                "model": (str, "an architecture name such as 'resnet18'"),
                "dataset": (str, "a dataset name such as 'Mix' or 'RAF-DB'"),
                "size": (int, "the input size in pixels, an integer")}
    for key, (kind, what) in expected.items():
        value = opt.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise WeightsError(f"{path}: its 'opt' entry has {key}={value!r}; expected {what}")
    if opt.get("size") is not None and not 16 <= opt["size"] <= 4096:
        raise WeightsError(f"{path}: its 'opt' entry has size={opt['size']}; expected an input "
                           "size between 16 and 4096 pixels")
    return opt


@contextlib.contextmanager
def _namespace_allowed():
    """Allow-list argparse.Namespace for a weights-only load, nothing else."""
    serialization = torch.serialization
    if hasattr(serialization, "safe_globals"):  # torch >= 2.5: scoped
        with serialization.safe_globals([argparse.Namespace]):
            yield
    else:  # torch 2.4: process-wide, still only this one class
        serialization.add_safe_globals([argparse.Namespace])
        yield
