"""Per-class views: the frame holds the records' numbers (no pairs, nothing
test-selected); confusion matrices sized for the report."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reporting_support import panels

from fer_bench.reporting.heatmaps import class_view_frame, confusion_figure
from fer_bench.reporting.style import MAX_WIDTH_IN
from fer_bench.vocabulary import BASIC7


def test_class_views_skip_pairs_and_test_selected_records(results):
    frame = class_view_frame(results.records)
    assert set(frame["protocol"]) == {"linear-v1", "knn-v1"}   # linear-online is stamped
    row = frame[(frame["encoder"] == "enc-a@r1") & (frame["protocol"] == "linear-v1")
                & (frame["target"] == "synth-wild")].iloc[0]
    assert row["confusion"].shape == (len(row["class_set"]),) * 2
    assert row["recall"]["neutral"] == pytest.approx(
        row["confusion"][0, 0] / row["confusion"][0].sum())


def test_confusion_matrices_are_readable_at_the_report_size(results):
    """Nine encoders on eight classes: the figure fits the report column (shown at its
    own size), each cell is large enough for its number, numbers are set in 8 pt."""
    frame = class_view_frame(results.records)
    one = frame[(frame["protocol"] == "linear-v1") & (frame["target"] == "synth-wild")]
    rng = np.random.default_rng(0)
    many = pd.concat([one.iloc[[0]].assign(
        encoder=f"encoder-{i}@r", confusion=[rng.integers(0, 30, (8, 8)).astype(float)],
        recall=[dict(zip(BASIC7 + ("contempt",), rng.random(8)))]) for i in range(9)])
    fig = confusion_figure(many, "confusion")
    fig.canvas.draw()                                   # the layout is made when drawn
    width, height = fig.get_size_inches()
    assert width <= MAX_WIDTH_IN
    drawn = panels(fig)
    assert len(drawn) == 9 and len({round(ax.get_position().x0, 3) for ax in drawn}) == 3
    cell = drawn[0].get_window_extent().width / fig.dpi / 8
    assert cell >= 0.3                                  # inches: room for "100" at 8 pt
    numbers = [t for ax in drawn for t in ax.texts]
    assert numbers and min(t.get_fontsize() for t in numbers) >= 8
    assert min(t.get_fontsize() for ax in drawn for t in ax.get_xticklabels()) >= 8
    # panels in order of mean recall, each titled with it
    scores = [float(ax.get_title().split(" · ")[1]) for ax in drawn]
    assert scores == sorted(scores, reverse=True)
