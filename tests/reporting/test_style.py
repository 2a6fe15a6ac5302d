"""The one figure style: a colour per encoder from the sorted labels, names without a
lone revision, scores ranked best first."""
from __future__ import annotations

from fer_bench.reporting.style import display_names, encoder_colours, ranked


def test_colours_follow_the_sorted_labels_and_names_drop_a_lone_revision():
    colours = encoder_colours(["b@1", "a@1", "c@2", "a@1"])
    assert list(colours) == ["a@1", "b@1", "c@2"]
    assert encoder_colours(["c@2", "b@1", "a@1"]) == colours
    many = encoder_colours(f"e{i:02d}@r" for i in range(14))
    assert len(set(many.values())) == 14
    assert display_names(["a@1", "a@2", "b@1"]) == {"a@1": "a@1", "a@2": "a@2", "b@1": "b"}
    assert ranked({"x": 0.2, "y": float("nan"), "z": 0.9, "w": 0.2}) == ["z", "w", "x", "y"]
