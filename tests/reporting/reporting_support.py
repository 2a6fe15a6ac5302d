"""What the reporting tests share: the fixture records and ways to look into figures."""
from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

# Records written by the protocols for two fake encoders and pixels (see test_tables.py).
RESULTS = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "results"
LABELS = ["enc-a@r1", "enc-b@r2", "pixels@grey24"]


def panels(fig):
    """The drawn axes of a figure (no colour bars, no empty slots)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison and ax.get_title()]


def colours(path: Path) -> int:
    """Distinct colours of a PNG (RGBA bytes packed into one integer each)."""
    image = (mpimg.imread(path) * 255).astype(np.uint8)
    return len(np.unique(np.ascontiguousarray(image[..., :4]).view(np.uint32)))


def drawn(path: Path) -> bool:
    """A real drawing, not a blank canvas: many distinct RGBA colours."""
    return colours(path) > 30
