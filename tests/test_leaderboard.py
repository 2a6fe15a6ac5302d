"""Leaderboard tables: the long CSV and the wide pivot against committed golden files,
and hand-checked cells.

The fixture records under fixtures/records/results were written by the protocols on
in-memory blob datasets (tests/protocol_fakes.py) for two fake encoders (enc-a declares
synth-wild as pre-training data), plus a test-selected ``linear-online`` record and one
record in the old schema version 0. After a deliberate change to the table layout,
regenerate the golden files with ``FER_BENCH_UPDATE_GOLDEN=1 pytest tests/test_leaderboard.py``
and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from protocol_fakes import make_record

from fer_bench.leaderboard import (
    long_table,
    markdown_leaderboard,
    protocol_tables,
    wide_table,
    write_leaderboard,
)
from fer_bench.records import SCHEMA_VERSION, Flags, MetricSummary, read_record, write_record

FIXTURES = Path(__file__).parent / "fixtures" / "records"
RESULTS = FIXTURES / "results"


def check_golden(written: Path, golden: Path) -> None:
    if os.environ.get("FER_BENCH_UPDATE_GOLDEN"):
        golden.write_text(written.read_text(encoding="utf-8"), encoding="utf-8")
    assert written.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8"), (
        f"{written.name} differs from {golden}; see the module doc to update it")


def test_long_and_wide_csv_match_the_golden_files(tmp_path):
    paths = write_leaderboard(RESULTS, tmp_path)
    check_golden(paths["long"], FIXTURES / "golden_leaderboard_long.csv")
    check_golden(paths["wide"], FIXTURES / "golden_leaderboard_wide.csv")


def test_long_rows_carry_the_record_values():
    long = long_table(RESULTS)
    assert len(long) == 18 * 3  # 18 records x 3 metrics
    row = long.query("encoder == 'enc-a' and protocol == 'knn' and target == 'synth-wild' "
                     "and metric == 'mean_class_accuracy'").iloc[0]
    record = read_record(RESULTS / row["record"])
    m = record.metrics["mean_class_accuracy"]
    assert (row["mean"], row["std"], row["ci_low"], row["ci_high"]) == (
        m.mean, m.std, *m.interval)
    assert row["headline"] and row["pretraining_overlap"] == "synth-wild"
    assert row["class_set"] == ";".join(record.class_set) and row["n_classes"] == 8
    pair = long.query("target == 'synth-lab__to__synth-wild'").iloc[0]
    assert (pair["source"], pair["dataset"]) == ("synth-lab", "synth-wild")
    old = long.query("encoder == 'pixels'")  # schema v0 record, migrated
    assert set(old["schema_version"]) == {SCHEMA_VERSION} and set(old["n_seeds"]) == {2}


def test_wide_cells_are_percent_with_interval_and_stamps(tmp_path):
    plain = make_record("synth-wild")
    plain.flags = Flags()
    plain.metrics["mean_class_accuracy"] = MetricSummary(0.712, 0.01, (0.702, 0.722),
                                                          (0.698, 0.725))
    stamped = make_record("synth-lab")  # test-selected and pre-trained on synth-wild
    stamped.metrics["mean_class_accuracy"] = MetricSummary(0.5, 0.0, (0.5,), None)
    for record in (plain, stamped):
        write_record(record, tmp_path)
    wide = wide_table(long_table(tmp_path))
    assert wide.loc["my_pkg.enc:make@v2"].to_dict() == {
        "linear-v3/synth-wild": "71.2 [69.8, 72.5]", "linear-v3/synth-lab": "50.0†*"}
    accuracy = wide_table(long_table(tmp_path), "accuracy")
    assert accuracy.loc["my_pkg.enc:make@v2", "linear-v3/synth-wild"] == "80.0 [70.0, 90.0]"


def _sections(text: str) -> dict[str, list[list[str]]]:
    """markdown -> {heading: table rows split into cells}."""
    sections, heading = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
            sections[heading] = []
        elif line.startswith("| ") and heading:
            sections[heading].append([c.strip() for c in line.strip("|").split(" | ")])
    return sections


def test_markdown_has_a_table_per_protocol_and_explains_the_stamps():
    long = long_table(RESULTS)
    text = markdown_leaderboard(long)
    sections = _sections(text)
    # Protocols in reading order (linear, knn, cross-dataset per source, ...), never one
    # column per record.
    assert list(sections) == ["linear-v1", "knn-v1", "cross-dataset-v1 · source synth-lab",
                              "cross-dataset-v1 · source synth-wild", "linear-online-v1"]
    linear = sections["linear-v1"]
    assert linear[0] == ["encoder", "synth-lab", "synth-wild"]
    assert [row[0] for row in linear[1:]] == ["enc-a@r1", "enc-b@r2", "pixels@grey24"]
    assert sections["cross-dataset-v1 · source synth-lab"][0] == [
        "encoder", "→ synth-lab", "→ synth-wild"]
    # Every cell is the wide table's cell for that record; a missing one is "–".
    wide = wide_table(long)
    for row in linear[1:]:
        for dataset, cell in zip(linear[0][1:], row[1:]):
            expected = wide.loc[row[0], f"linear-v1/{dataset}"]
            assert cell == (expected or "–")
    assert linear[1][2] == "70.0 [51.7, 84.9]*"   # enc-a pre-trained on synth-wild
    assert sections["linear-online-v1"][1][1] == "47.5 [33.3, 61.1]†"
    assert "† chosen on the test split" in text and "* the encoder was pre-trained" in text


def test_protocol_tables_cover_every_headline_cell_once():
    long = long_table(RESULTS)
    cells = [c for _, t in protocol_tables(long) for c in t.to_numpy().ravel() if c]
    wide = wide_table(long)
    assert sorted(cells) == sorted(c for c in wide.to_numpy().ravel() if c)


def test_an_empty_results_dir_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no result records"):
        long_table(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        long_table(tmp_path / "nope")


def test_wide_csv_reads_back_as_the_pivot(tmp_path):
    paths = write_leaderboard(RESULTS, tmp_path)
    back = pd.read_csv(paths["wide"], index_col=0, keep_default_na=False)
    pd.testing.assert_frame_equal(back, wide_table(long_table(RESULTS)), check_names=False)
