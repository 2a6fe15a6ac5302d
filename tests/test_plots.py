"""Plots: bar charts and cross-dataset heatmaps are written as real, non-empty PNGs."""
from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from fer_bench.plots import write_plots

RESULTS = Path(__file__).parent / "fixtures" / "records" / "results"


def test_bars_per_single_dataset_protocol_and_a_heatmap_per_encoder(tmp_path):
    written = write_plots(RESULTS, tmp_path)
    assert sorted(p.name for p in written) == [
        "bars_knn-v1.png", "bars_linear-online-v1.png", "bars_linear-v1.png",
        "cross_enc-a@r1_cross-dataset-v1.png", "cross_enc-b@r2_cross-dataset-v1.png"]
    for path in written:
        image = mpimg.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 200
        # something was drawn: far from a blank canvas
        assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 50

