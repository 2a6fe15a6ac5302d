"""Bar charts: bars sorted by score in each panel, score axes that end at 100."""
from __future__ import annotations

import pytest
from reporting_support import LABELS, panels

from fer_bench.reporting.bars import bar_figure
from fer_bench.reporting.style import display_names, ranked


def test_bars_are_sorted_by_score_in_each_panel(long):
    rows = long[long["protocol"] == "linear"]
    fig = bar_figure(rows, "linear")
    head = rows[rows["headline"]]
    names = display_names(LABELS)
    seen = []
    for ax in panels(fig):
        target = ax.get_title()
        sub = head[head["dataset"] == target]
        scores = sub.set_index(sub["encoder"] + "@" + sub["revision"])["mean"]
        widths = [bar.get_width() for bar in ax.patches]
        assert widths == sorted(widths, reverse=True), target           # best on top
        assert [bar.get_label() for bar in ax.patches] == ranked(scores)
        assert [t.get_text() for t in ax.get_yticklabels()] == [names[x] for x in ranked(scores)]
        assert widths == pytest.approx([100 * scores[x] for x in ranked(scores)])
        seen.append(target)
    assert seen == ["synth-lab", "synth-wild"]
    # pixels has no synth-lab record: left out of that panel, not drawn as a zero bar
    assert "pixels@grey24" not in [b.get_label() for b in panels(fig)[0].patches]


def test_score_axes_end_at_100(long):
    bars = bar_figure(long[long["protocol"] == "knn"], "knn")
    for ax in panels(bars):
        assert ax.get_xlim() == (0, 100) and max(ax.get_xticks()) == 100
