"""Few-shot curves: drawn from a frame, on a score axis that ends at 100."""
from __future__ import annotations

import numpy as np
import pandas as pd
from reporting_support import drawn

from fer_bench.reporting.few_shot import few_shot_figure
from fer_bench.reporting.style import save


def test_score_axes_end_at_100():
    frame = pd.DataFrame({"encoder": ["a@1"] * 2, "dataset": "d", "probe": "knn",
                          "shots": [1, 5], "mean": [0.2, 0.4], "std": 0.05, "draws": 5,
                          "short": False, "overlap": False})
    assert few_shot_figure(frame, "t").axes[0].get_ylim() == (0, 100)


def test_few_shot_curves_from_a_frame(tmp_path):
    frame = pd.DataFrame({"encoder": ["a@1"] * 4 + ["b@1"] * 4, "dataset": "d",
                          "probe": ["knn", "knn", "linear", "linear"] * 2,
                          "shots": [1, 5] * 4, "mean": np.linspace(0.2, 0.9, 8),
                          "std": 0.05, "draws": 5, "short": False,
                          "overlap": [True] * 4 + [False] * 4})
    assert drawn(save(few_shot_figure(frame, "t"), tmp_path / "curves.png"))
