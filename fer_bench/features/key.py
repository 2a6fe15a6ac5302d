"""The content key of a feature-store entry.

sha256 of the canonical JSON of exactly what changes the features: the encoder (name,
revision, weights digest, layer, dimension, sealed preprocessing), the face-crop
settings, the dataset's manifest digest (ids, paths, boxes, pixel identity of the rows
in order, so a split subset has its own key), the content digest of the rows' image
files (their bytes: an image replaced in place under the same name changes the key), the
dtype and the store format, and the forward pass's precision when it is not fp32 (bf16
features are other numbers; fp32 keys are those of entries written before precision was
a setting). Never the device, batch size, worker count or labels: a GPU change or a
label-map fix must not make earlier features invisible (torchgeo-bench's resume key
hashed the device).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from fer_bench.datasets.base import Dataset
from fer_bench.encoder import PRECISIONS, EncoderInfo

# Bump when the entry layout or the meaning of stored features changes.
STORE_FORMAT = 1
DTYPE = "float32"


def key_inputs(info: EncoderInfo, dataset: Dataset, precision: str = "fp32") -> dict:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    inputs = {
        "format": STORE_FORMAT,
        "dtype": DTYPE,
        "encoder": {
            "name": info.name,
            "revision": info.revision,
            "weights_digest": info.weights_digest,
            "layer": info.layer,
            "embed_dim": info.embed_dim,
            "preprocessing": asdict(info.preprocessing),
        },
        "face_crop": dataset.face_crop,
        "manifest_digest": dataset.manifest_digest(),
        "content_digest": dataset.content_digest(),
    }
    if precision != "fp32":  # absent for fp32: today's keys stay what they were
        inputs["precision"] = precision
    return inputs


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def feature_key(info: EncoderInfo, dataset: Dataset, precision: str = "fp32") -> str:
    inputs = key_inputs(info, dataset, precision)
    return hashlib.sha256(canonical_json(inputs).encode()).hexdigest()
