"""The software environment a record was produced in (versions, platform, device)."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

_PACKAGES = ("fer-bench", "torch", "torchvision", "numpy", "scikit-learn", "faiss-cpu",
             "faiss-gpu", "pandas")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe_environment(device: str) -> dict:
    """Versions of the packages that can change a score, plus python, platform, device."""
    versions = {p: v for p in _PACKAGES if (v := _version(p)) is not None}
    env = {"python": sys.version.split()[0], "platform": platform.platform(),
           "packages": versions, "device": str(device)}
    if str(device).startswith("cuda"):
        import torch
        env["device_name"] = torch.cuda.get_device_name(torch.device(device))
    return env
