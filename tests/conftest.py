"""Test-wide settings.

Every test run gets a cache directory of its own choosing (never the user's
~/.cache/fer-bench): FER_BENCH_CACHE when set (CI sets it), else a folder in the repo
that survives between runs so generated faces are rendered once. Tests that exercise
caching itself use tmp_path.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("FER_BENCH_CACHE", str(REPO / ".fer-bench-cache" / "tests"))
os.environ.setdefault("MPLBACKEND", "Agg")
# Per-image encoders (lbp, hog, dlib-face) compute in-process unless a test asks for
# workers: spawning a pool per small test batch costs more than it saves.
os.environ.setdefault("FER_BENCH_ENCODER_WORKERS", "1")


def ferplus_root() -> Path | None:
    """The data root holding ferplus/, from FER_BENCH_DATA, or None."""
    root = os.environ.get("FER_BENCH_DATA")
    if root and (Path(root) / "ferplus").is_dir():
        return Path(root)
    return None


def pytest_collection_modifyitems(config, items):
    # realdata tests run only with -m realdata; .ci/run selects them when its data folder
    # exists, so CI never skips them silently where the data is present.
    for item in items:
        if "realdata" in item.keywords and ferplus_root() is None:
            item.add_marker(pytest.mark.skip(
                reason="FER_BENCH_DATA does not point at a folder holding ferplus/"))


def pytest_configure(config):
    # Under pytest-xdist every worker is a process of its own: one intra-op thread each
    # keeps 2 workers on 2 cores from oversubscribing (small ops slow down ~10x then).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tiny-tensor tests, also outside xdist: threads
    only wait on each other there (about 10x slower on a busy machine)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
