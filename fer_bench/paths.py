"""Where fer-bench keeps things: cache (features, generated faces, fetched weights) and
where it finds user datasets. Both can be overridden per command."""
from __future__ import annotations

import os
from pathlib import Path

# Where `fer-bench run` and the Python API write records unless told otherwise (relative
# to the working directory; the repository's committed reference lives in results/).
DEFAULT_RESULTS_DIR = "fer-bench-results"


def cache_dir(override: str | Path | None = None) -> Path:
    """``--cache-dir`` > ``FER_BENCH_CACHE`` > ``$XDG_CACHE_HOME/fer-bench`` >
    ``~/.cache/fer-bench``."""
    if override:
        return Path(override).expanduser()
    if os.environ.get("FER_BENCH_CACHE"):
        return Path(os.environ["FER_BENCH_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "fer-bench"


def data_root(override: str | Path | None = None) -> Path | None:
    """``--data-root`` > ``FER_BENCH_DATA``; None when neither is given."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("FER_BENCH_DATA")
    return Path(env).expanduser() if env else None
