"""The software environment a record was produced in (versions, source revision, device)."""
from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# Packages whose version can change a score: the core stack, plus the optional packages
# the baseline encoders compute their features with (absent ones are left out).
_PACKAGES = ("fer-bench", "torch", "torchvision", "numpy", "scikit-learn", "faiss-cpu",
             "faiss-gpu", "pandas", "pillow", "opencv-python-headless", "scikit-image",
             "h5py", "mediapipe", "dlib-bin", "dlib")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def source_revision() -> str | None:
    """The git commit fer-bench runs from (``+dirty`` when the tracked code has local
    changes), or None outside a checkout (an installed wheel: its version says it)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no", "--", "fer_bench", "encoders",
                                "protocols"], check=True, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def describe_environment(device: str) -> dict:
    """Versions of the packages that can change a score, the fer-bench source revision,
    python, platform and device."""
    versions = {p: v for p in _PACKAGES if (v := _version(p)) is not None}
    env = {"python": sys.version.split()[0], "platform": platform.platform(),
           "packages": versions, "device": str(device)}
    if (revision := source_revision()) is not None:
        env["fer_bench_revision"] = revision
    if str(device).startswith("cuda"):
        import torch
        env["device_name"] = torch.cuda.get_device_name(torch.device(device))
    return env
