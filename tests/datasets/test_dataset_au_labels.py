"""The manifest conventions for action units (fer_bench.datasets.au_labels)."""
import numpy as np
import pandas as pd
import pytest

from fer_bench.datasets.au_labels import coded_aus, facs_intensity, read_frame_codes, \
    with_au_columns
from fer_bench.datasets.policy import BadData
from fer_bench.synth.facs import grade


def test_facs_codes_fall_in_the_generators_grade_bands():
    assert [facs_intensity(c) for c in range(6)] == pytest.approx([0, .2, .4, .6, .8, 1])
    assert [grade(facs_intensity(c)) for c in range(1, 6)] == ["A", "B", "C", "D", "E"]


def test_columns_sorted_by_au_and_uncoded_is_nan():
    rows = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    frame = with_au_columns(rows, [{12: 0.4, 2: 0.0}, {}, {12: 1.0}], [{}, {12: 1.0}, {}],
                            aus=(1,))
    assert list(frame.columns) == ["id", "au_1", "au_2", "au_12", "au_12_present"]
    assert frame["au_2"].isna().tolist() == [False, True, True]          # b, c: not coded
    assert frame["au_12_present"].isna().tolist() == [True, False, True]
    assert frame["au_1"].isna().all()


def test_coded_aus_prefers_stated_occurrence():
    row = pd.Series({"au_1": 0.2, "au_6": 0.4, "au_12": np.nan, "au_12_present": 1.0,
                     "au_25": 0.25})
    assert coded_aus(row) == [6, 12, 25]                  # A (0.2) is below B: not present
    assert coded_aus(pd.Series({"label": "happiness"})) is None


def test_frame_code_lines(tmp_path):
    path = tmp_path / "codes.txt"
    path.write_text("1,0\n2,3.0\n\n4,9\n")
    assert read_frame_codes(path, BadData("x"), (0, 3, 9), "0, 3 or 9") == {
        1: (0, f"{path}:1"), 2: (3, f"{path}:2"), 4: (9, f"{path}:4")}
    path.write_text("1,0\n1,0\n")
    with pytest.raises(ValueError, match=r"codes.txt:2: duplicate frame; expected each frame "
                                         r"once; frame 1 is already at .*codes.txt:1"):
        read_frame_codes(path, BadData("x"), (0,), "0")
