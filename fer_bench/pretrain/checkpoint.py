"""Training checkpoints: written atomically, read back with ``weights_only=True``.

A checkpoint holds plain tensors, numbers, strings, lists and dicts only (model and
optimizer state, progress, the resolved config, the data summary), so the safe loader
reads it without allow-listing any class. The learning-rate schedule is a pure function
of progress (:func:`fer_bench.pretrain.trainer.learning_rate`), so it has no state here,
and the augmentation and sampling generators are re-seeded from (seed, rank, step), so
resuming continues exactly where an uninterrupted run would be.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "fer-bench-pretrain-checkpoint/1"


class CheckpointError(ValueError):
    pass


def save_checkpoint(path: Path, state: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save({"format": FORMAT, **state}, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # unpickling errors come in many types; name the file
        raise CheckpointError(f"{path}: not a loadable pre-training checkpoint "
                              f"({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a fer-bench pre-training checkpoint "
                              f"(expected format {FORMAT!r})")
    return state
