"""The committed reference leaderboard still comes out of the code: two cheap cells
(pixels x linear and knn on synth-lab, protocols v2) are recomputed from scratch (empty
results folder and feature cache) and compared with ``results/leaderboard_long.csv``.

Tolerance: 1e-6 absolute on every metric's mean, interval ends and spread, i.e. the
table's own rounding (6 decimals). Both probes are deterministic on the CPU (seeded
splits, L-BFGS from a fixed start, exact FAISS search, seeded bootstrap), so any larger
difference is a change of behaviour: bump the protocol's version and regenerate the
reference, or fix the change.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "leaderboard_long.csv"
TOLERANCE = 1e-6
CELLS = [("linear", "synth-lab"), ("knn", "synth-lab")]


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory) -> Path:
    """One empty feature cache for both cells (the generated faces render once)."""
    return tmp_path_factory.mktemp("cache")


@pytest.mark.slow
@pytest.mark.parametrize("protocol, dataset", CELLS)
def test_a_reference_cell_is_recomputed_to_its_committed_numbers(tmp_path, fresh_cache,
                                                                 protocol, dataset):
    from fer_bench.api import evaluate

    reference = pd.read_csv(REFERENCE)
    expected = reference[(reference.encoder == "pixels") & (reference.protocol == protocol)
                         & (reference.target == dataset)].set_index("metric")
    assert len(expected) == 3, "the reference table lost the cell this test checks"
    version = int(expected.protocol_version.iloc[0])
    got = evaluate("pixels", protocol, dataset, results_dir=tmp_path / "results",
                   cache_dir=fresh_cache, device="cpu", progress=False)
    got = got[got.status == "computed"].set_index("metric")
    assert int(got.protocol_version.iloc[0]) == version, (
        f"{protocol} is at v{got.protocol_version.iloc[0]} now, the reference at v{version}: "
        "regenerate the reference leaderboard")
    for metric in ("mean_class_accuracy", "accuracy", "macro_f1"):
        for column in ("mean", "ci_low", "ci_high", "std"):
            want, have = expected.at[metric, column], got.at[metric, column]
            if pd.isna(want):
                assert pd.isna(have), (metric, column, have)
            else:
                assert abs(have - want) <= TOLERANCE, (metric, column, have, want)
