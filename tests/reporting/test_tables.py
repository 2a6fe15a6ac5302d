"""Leaderboard tables: the long CSV and the wide CSV against committed golden files,
hand-checked cells, numeric dtypes, column order, small-test and one-seed signals.

The fixture records under fixtures/records/results were written by the protocols on
in-memory blob datasets (tests/protocol_fakes.py) for two fake encoders (enc-a declares
synth-wild as pre-training data), plus a test-selected ``linear-online`` record and one
record in the old schema version 0. After a deliberate change to the table layout,
regenerate the golden files with
``FER_BENCH_UPDATE_GOLDEN=1 pytest tests/reporting/test_tables.py``
and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from protocol_fakes import make_record

from fer_bench.records import SCHEMA_VERSION, Flags, MetricSummary, read_record, write_record
from fer_bench.reporting.tables import (
    SMALL_TEST_MARK,
    WIDE_FIELDS,
    long_table,
    markdown_leaderboard,
    protocol_tables,
    wide_numeric_table,
    wide_table,
    write_leaderboard,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "records"
RESULTS = FIXTURES / "results"


def check_golden(written: Path, golden: Path) -> None:
    if os.environ.get("FER_BENCH_UPDATE_GOLDEN"):
        golden.write_text(written.read_text(encoding="utf-8"), encoding="utf-8")
    assert written.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8"), (
        f"{written.name} differs from {golden}; see the module doc to update it")


def test_long_and_wide_csv_match_the_golden_files(tmp_path):
    paths = write_leaderboard(long_table(RESULTS), tmp_path)
    check_golden(paths["long"], FIXTURES / "golden_leaderboard_long.csv")
    check_golden(paths["wide"], FIXTURES / "golden_leaderboard_wide.csv")


def test_long_rows_carry_the_record_values():
    long = long_table(RESULTS)
    assert len(long) == 18 * 3  # 18 records x 3 metrics
    row = long.query("encoder == 'enc-a' and protocol == 'knn' and target == 'synth-wild' "
                     "and metric == 'mean_class_accuracy'").iloc[0]
    record = read_record(RESULTS / row["record"])
    m = record.metrics["mean_class_accuracy"]
    assert (row["mean"], row["ci_low"], row["ci_high"]) == (m.mean, *m.interval)
    assert m.values == (m.mean,) and pd.isna(row["std"])           # one seed: no spread
    assert not row["seeds_identical"] and row["n_seeds"] == 1
    # A deterministic probe on fixed splits: both seeds give the same value
    pair = long.query("encoder == 'enc-a' and target == 'synth-lab__to__synth-lab' "
                      "and metric == 'mean_class_accuracy'").iloc[0]
    values = read_record(RESULTS / pair["record"]).headline.values
    assert len(values) == 2 and values[0] == values[1]
    assert pair["seeds_identical"] and pd.isna(pair["std"]) and pair["n_seeds"] == 2
    assert row["headline"] and row["pretraining_overlap"]
    assert row["overlap_with"] == "synth-wild"
    assert row["class_set"] == ";".join(record.class_set) and row["n_classes"] == 8
    pair = long.query("target == 'synth-lab__to__synth-wild'").iloc[0]
    assert (pair["source"], pair["dataset"]) == ("synth-lab", "synth-wild")
    old = long.query("encoder == 'pixels'")  # schema v0 record, migrated
    assert set(old["schema_version"]) == {SCHEMA_VERSION} and set(old["n_seeds"]) == {2}
    spread = old[old["metric"] == "mean_class_accuracy"].iloc[0]   # seeds that differ
    assert not spread["seeds_identical"] and spread["std"] > 0


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
    # 30 test items: a small test set (§)
    assert wide.loc["my_pkg.enc:make@v2"].to_dict() == {
        "linear-v3/synth-wild": "71.2 [69.8, 72.5]§", "linear-v3/synth-lab": "50.0†*§"}
    accuracy = wide_table(long_table(tmp_path), "accuracy")
    assert accuracy.loc["my_pkg.enc:make@v2", "linear-v3/synth-wild"] == "80.0 [70.0, 90.0]§"


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
    # enc-a pre-trained on synth-wild; every fixture test set is small (40 faces)
    assert linear[1][2] == "70.0 [51.7, 84.9]*§"
    assert sections["linear-online-v1"][1][1] == "47.5 [33.3, 61.1]†§"
    assert "† chosen on the test split" in text and "* the encoder was pre-trained" in text
    assert "§ small test set" in text


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


def test_wide_csv_is_numbers_and_booleans(tmp_path):
    paths = write_leaderboard(long_table(RESULTS), tmp_path)
    back = pd.read_csv(paths["wide"], index_col=0)
    expected = wide_numeric_table(long_table(RESULTS))
    assert list(back.columns) == list(expected.columns)
    for column in back.columns:
        field = column.rsplit("/", 1)[1]
        if field in ("score", "std", "ci_low", "ci_high"):
            assert back[column].dtype == "float64", column
        else:
            assert back[column].dtype == bool, column
    assert not any(isinstance(v, str) for v in back.to_numpy().ravel())
    cell = back.loc["enc-a@r1"]
    record = read_record(RESULTS / "enc-a/r1/linear-v1/synth-wild.json")
    m = record.headline
    assert cell["linear-v1/synth-wild/score"] == pytest.approx(m.mean, abs=1e-6)
    assert (cell["linear-v1/synth-wild/ci_low"], cell["linear-v1/synth-wild/ci_high"]) == (
        pytest.approx(m.interval[0], abs=1e-6), pytest.approx(m.interval[1], abs=1e-6))
    assert cell["linear-v1/synth-wild/pretraining_overlap"]
    assert not cell["linear-v1/synth-wild/test_selected"]
    assert cell["linear-v1/synth-wild/small_test"]          # 40 test faces
    assert pd.isna(cell["linear-online-v1/synth-wild/score"])   # enc-a has no such record
    assert not cell["linear-online-v1/synth-wild/test_selected"]
    assert back.loc["enc-b@r2", "linear-online-v1/synth-wild/test_selected"]
    # protocols in reading order, each with the fields in order
    protocols = list(dict.fromkeys(c.split("/", 1)[0] for c in back.columns))
    assert protocols == ["linear-v1", "knn-v1", "cross-dataset-v1", "linear-online-v1"]
    assert [c.rsplit("/", 1)[1] for c in back.columns[:len(WIDE_FIELDS)]] == list(WIDE_FIELDS)


def test_columns_follow_the_natural_order_of_shots(tmp_path):
    for target in ("blobs@10shot-knn", "blobs@1shot-knn", "blobs@20shot-knn", "blobs@5shot-knn",
                   "blobs@2shot-linear"):
        record = make_record(target)
        record.protocol = "few-shot"
        write_record(record, tmp_path)
    long = long_table(tmp_path)
    shots = ["blobs@1shot-knn", "blobs@5shot-knn", "blobs@10shot-knn", "blobs@20shot-knn",
             "blobs@2shot-linear"]
    assert list(wide_table(long).columns) == [f"few-shot-v3/{t}" for t in shots]
    numeric = wide_numeric_table(long)
    assert list(dict.fromkeys(c.rsplit("/", 1)[0] for c in numeric.columns)) == [
        f"few-shot-v3/{t}" for t in shots]
    paths = write_leaderboard(long, tmp_path / "board")
    header = pd.read_csv(paths["wide"], index_col=0, nrows=0).columns
    assert [c.rsplit("/", 1)[0] for c in header[::len(WIDE_FIELDS)]] == [
        f"few-shot-v3/{t}" for t in shots]


def test_small_test_sets_are_flagged_by_size_and_by_class(tmp_path):
    def record(target, confusion):
        r = make_record(target)
        r.flags = Flags()
        r.confusion = confusion
        r.per_seed = [{"seed": 0, "metrics": {}}, {"seed": 1, "metrics": {}}]  # 2 runs
        r.details = {"sample_sizes": {"test": sum(map(sum, confusion)) // 2}}
        return r

    write_record(record("big", [[100, 20], [20, 100]]), tmp_path)     # 120 items, 60 a class
    write_record(record("few", [[40, 10], [10, 40]]), tmp_path)       # 50 items
    write_record(record("thin", [[300, 0], [2, 14]]), tmp_path)       # 158 items, 8 in one
    long = long_table(tmp_path)
    head = long[long["headline"]].set_index("target")
    assert head["n_test"].to_dict() == {"big": 120, "few": 50, "thin": 158}
    assert head["min_class_test"].to_dict() == {"big": 60, "few": 25, "thin": 8}
    assert head["small_test"].to_dict() == {"big": False, "few": True, "thin": True}
    cells = wide_table(long).loc["my_pkg.enc:make@v2"]
    assert not cells["linear-v3/big"].endswith(SMALL_TEST_MARK)
    assert cells["linear-v3/few"].endswith(SMALL_TEST_MARK)
    assert cells["linear-v3/thin"].endswith(SMALL_TEST_MARK)
    text = markdown_leaderboard(long)
    assert f"{SMALL_TEST_MARK} small test set (fewer than 100 test items or a class with " \
           "fewer than 10)" in text


def test_one_seed_or_identical_seeds_report_no_spread(tmp_path):
    spread, same, single = (make_record(t) for t in ("spread", "same", "single"))
    same.metrics["mean_class_accuracy"] = MetricSummary(0.6, 0.0, (0.6, 0.6, 0.6), (0.5, 0.7))
    single.metrics["mean_class_accuracy"] = MetricSummary(0.6, 0.0, (0.6,), (0.5, 0.7))
    for record in (spread, same, single):
        write_record(record, tmp_path)
    head = long_table(tmp_path).query("headline").set_index("target")
    assert head.loc["spread", "std"] == pytest.approx(0.05)
    assert not head.loc["spread", "seeds_identical"]
    assert pd.isna(head.loc["same", "std"]) and head.loc["same", "seeds_identical"]
    assert head.loc["same", "n_seeds"] == 3
    assert pd.isna(head.loc["single", "std"]) and not head.loc["single", "seeds_identical"]
