"""Cross-dataset transfer: one figure for every encoder, best transfer first, one 0-100
colour scale."""
from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
from reporting_support import panels

from fer_bench.reporting.cross_dataset import cross_figure
from fer_bench.reporting.figures import write_figures


def test_score_axes_end_at_100(long):
    cross = cross_figure(long[long["protocol"] == "cross-dataset"], "cross")
    assert all(image.get_clim() == (0, 100) for ax in cross.axes for image in ax.images)


def test_one_cross_dataset_figure_holds_every_encoder(tmp_path, results, long):
    written = write_figures(results, tmp_path, kinds=("bars", "cross"))
    assert sorted(p.name for p in written) == [
        "bars_knn-v1.png", "bars_linear-online-v1.png", "bars_linear-v1.png",
        "cross_cross-dataset-v1.png"]
    rows = long[long["protocol"] == "cross-dataset"]
    fig = cross_figure(rows, "cross")
    titles = [ax.get_title() for ax in panels(fig)]
    # best mean transfer (off-diagonal cells) first
    off = rows[rows["headline"] & (rows["source"] != rows["dataset"])]
    transfer = off.groupby("encoder")["mean"].mean()
    assert titles == list(transfer.sort_values(ascending=False).index) == ["enc-a", "enc-b"]
    cells = panels(fig)[0].images[0].get_array()
    assert cells.shape == (2, 2)                        # sources x targets
    for path in written:
        image = mpimg.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 200
        assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 50
