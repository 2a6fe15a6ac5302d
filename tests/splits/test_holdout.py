"""The subject hold-out (fer_bench.splits.holdout)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fer_bench.splits import subject_holdout


def manifest(subjects):
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(subjects))], "subject": subjects})


def test_whole_subjects_are_held_out_and_the_draw_is_seeded():
    rows = manifest([f"s{i % 10}" for i in range(40)])   # 10 subjects, 4 rows each
    mask = subject_holdout(rows, 0.2, seed=0)
    held = set(rows["subject"][mask])
    assert len(held) == 2 and mask.sum() == 8
    assert held.isdisjoint(rows["subject"][~mask])
    np.testing.assert_array_equal(mask, subject_holdout(rows, 0.2, seed=0))
    assert any(not np.array_equal(mask, subject_holdout(rows, 0.2, seed=s)) for s in (1, 2, 3))


def test_rows_without_a_subject_are_their_own_subject():
    rows = manifest([""] * 12 + [None] * 8)
    mask = subject_holdout(rows, 0.25)
    assert mask.sum() == math.ceil(0.25 * len(rows))  # GroupShuffleSplit rounds up
    with pytest.raises(ValueError, match="at least two subjects"):
        subject_holdout(rows.iloc[:1], 0.2)
