"""Generating a preset once into the cache, atomically, and reusing it afterwards.

Layout: ``cache_dir()/synth/<preset>-v<GENERATOR_VERSION>-s<seed>-n<n>-<size>px/`` with
``images/*.png``, ``manifest.csv``, ``generator.json`` and a ``DONE`` marker. The folder is
built under a temporary name and renamed into place under a file lock, so concurrent
callers wait for one generation and a crash never leaves a folder that looks complete.
The temporary folder is removed when generation fails or is interrupted (Ctrl-C, and
SIGTERM / SIGHUP where nothing else handles them); one left by a killed process
(SIGKILL, power loss) is removed by the next generation of the same configuration.
Bump GENERATOR_VERSION whenever any change alters pixels or labels: the folder name (and
the datasets' pixel identity, hence every feature-cache key) changes with it.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock
from PIL import Image

from fer_bench.runtime import worker_count
from fer_bench.paths import cache_dir
from fer_bench.synth.plan import FaceSpec, plan_preset
from fer_bench.synth.preset_config import PRESETS
from fer_bench.synth.render import render_face

GENERATOR_VERSION = 4
MANIFEST = "manifest.csv"
_CHUNK = 64
_IN_PROCESS_BELOW = 256   # spawning workers costs more than rendering this many faces


def folder_name(preset: str, seed: int, n: int, size: int) -> str:
    return f"{preset}-v{GENERATOR_VERSION}-s{seed}-n{n}-{size}px"


def default_workers() -> int:
    """Rendering processes (at most 2)."""
    return worker_count(2)


def render_spec(spec: FaceSpec, size: int) -> np.ndarray:
    return render_face(spec.identity, spec.aus, spec.scene, size)


def _write_chunk(specs: list[FaceSpec], names: list[str], folder: str, size: int,
                 one_channel: bool) -> int:
    for spec, name in zip(specs, names):
        img = render_spec(spec, size)
        im = Image.fromarray(img[..., 0] if one_channel else img)
        im.save(os.path.join(folder, name), compress_level=1)
    return len(specs)


def write_images(specs: list[FaceSpec], folder: Path, size: int, workers: int,
                 one_channel: bool = False) -> list[str]:
    """Render every spec to ``folder/images``; returns the relative paths in order.

    ``one_channel``: store grey PNGs with a single channel, as grey datasets (CK+) do.
    """
    (folder / "images").mkdir(parents=True, exist_ok=True)
    paths = [f"images/{i:06d}.png" for i in range(len(specs))]
    if workers <= 1 or len(specs) < _IN_PROCESS_BELOW:
        _write_chunk(specs, paths, str(folder), size, one_channel)
        return paths
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    try:
        jobs = [pool.submit(_write_chunk, specs[i:i + _CHUNK], paths[i:i + _CHUNK], str(folder),
                            size, one_channel)
                for i in range(0, len(specs), _CHUNK)]
        for job in jobs:
            job.result()
    except BaseException:
        # Interrupted or failed: drop the chunks not started (a plain `with` would still
        # render all of them before the caller could clean up).
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return paths


def manifest_frame(specs: list[FaceSpec], paths: list[str], preset: str) -> pd.DataFrame:
    rows = [{"id": f"{preset}-{i:06d}", "path": p, **s.meta} for i, (s, p) in
            enumerate(zip(specs, paths))]
    df = pd.DataFrame(rows)
    first = ["id", "path", "label", "split", "subject"]
    return df[first + [c for c in df.columns if c not in first]]


def generate(preset: str, n: int, seed: int, size: int, folder: Path,
             workers: int | None = None) -> pd.DataFrame:
    """Render a preset into ``folder`` (images + manifest + generator.json), no caching."""
    cfg = PRESETS[preset]
    specs = plan_preset(cfg, n, seed)
    paths = write_images(specs, folder, size, workers or default_workers(), one_channel=cfg.grey)
    manifest = manifest_frame(specs, paths, preset)
    manifest.to_csv(folder / MANIFEST, index=False)
    info = {"preset": preset, "generator_version": GENERATOR_VERSION, "seed": seed,
            "n_requested": n, "n_images": len(manifest), "size": size}
    (folder / "generator.json").write_text(json.dumps(info, indent=1))
    return manifest


@contextlib.contextmanager
def _termination_raises():
    """Within: SIGTERM and SIGHUP raise SystemExit (so ``finally`` and ``except`` blocks
    run, as after Ctrl-C) where they would otherwise kill the process; handlers installed
    by others, and threads other than the main one, are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)
    replaced = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            replaced[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, previous in replaced.items():
            signal.signal(sig, previous)


def _remove_leftovers(root: Path, name: str) -> None:
    """Temporary folders of ``name`` left by a killed generation (the caller holds the
    lock of ``name``, so none of them is being written)."""
    for leftover in root.glob(f".{name}.*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def generated_folder(preset: str, n: int, seed: int, size: int) -> Path:
    """Where this preset configuration lives in the cache (rendered or not yet)."""
    return cache_dir() / "synth" / folder_name(preset, seed, n, size)


def is_generated(preset: str, n: int, seed: int, size: int) -> bool:
    """Whether this preset configuration is rendered in the cache, complete."""
    return (generated_folder(preset, n, seed, size) / "DONE").is_file()


def ensure_generated(preset: str, n: int, seed: int, size: int,
                     workers: int | None = None) -> Path:
    """The cache folder of this preset configuration, generating it first if needed."""
    final = generated_folder(preset, n, seed, size)
    root, name = final.parent, final.name
    if (final / "DONE").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{name}.lock")), _termination_raises():
        if (final / "DONE").is_file():       # another process finished while we waited
            return final
        _remove_leftovers(root, name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
        try:
            generate(preset, n, seed, size, tmp, workers)
            (tmp / "DONE").write_text("complete\n")
            if final.exists():                # a leftover without DONE: never valid
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final
