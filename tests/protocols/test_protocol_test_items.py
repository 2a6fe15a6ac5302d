"""``test_items=deduplicated``: linear and kNN scored on the test items with no
near-duplicate in train/val, as the record ``<dataset>@deduplicated`` beside the published
one; records written before the option existed stay valid."""
from __future__ import annotations

import pytest
from audit_fixtures import write_planted_folder
from click.testing import CliRunner

from fer_bench.cli import main
from fer_bench.protocols.base import ProtocolSpecError, get_protocol, protocol_from_spec
from fer_bench.records import load_records


def test_target_names_and_bad_values():
    assert get_protocol("linear").tasks(["ferplus"])[0].target == "ferplus"
    knn = protocol_from_spec("knn:test_items=deduplicated")
    assert knn.tasks(["ferplus"])[0].target == "ferplus@deduplicated"
    with pytest.raises(ProtocolSpecError, match="test_items"):
        protocol_from_spec("linear:test_items=clean")


def test_records_without_the_option_are_not_stale():
    protocol = get_protocol("linear")
    old = {k: v for k, v in protocol.resolved_config().items() if k != "test_items"}
    assert protocol.computing_config(old) == protocol.computing_config()
    dedup = get_protocol("linear", test_items="deduplicated")
    assert dedup.computing_config(old) != dedup.computing_config()


def test_planted_duplicates_leave_the_deduplicated_test_set(tmp_path):
    info = write_planted_folder(tmp_path / "faces")
    spec = f"folder:{tmp_path / 'faces'}:name=planted"
    result = CliRunner().invoke(main, [
        "run", "--encoder", "pixels", "--protocol", "knn",
        "--protocol", "knn:test_items=deduplicated", "--dataset", spec,
        "--results-dir", str(tmp_path / "records"), "--cache-dir", str(tmp_path / "cache"),
        "--device", "cpu", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    records = {r.target: r for r in load_records(tmp_path / "records")}
    (published,) = [r for t, r in records.items() if "@" not in t]
    (clean,) = [r for t, r in records.items() if t.endswith("@deduplicated")]
    planted_in_test = [p for p in info["planted"].values() if p[2] == "test"]
    n_test = published.details["sample_sizes"]["test"]
    about = clean.details["test_items"]
    assert about["dropped"] >= len(planted_in_test)
    assert clean.details["sample_sizes"]["test"] == n_test - about["dropped"]
    assert about["kind"] == "deduplicated" and about["audit_key"]
    assert clean.config["test_items"] == "deduplicated"
    # The audit's seconds are its own (computed here, from an empty cache), not probing.
    timings = clean.timings
    assert timings["audit_s"] > 0 and "audit_s" not in published.timings
    assert timings["probe_s"] == pytest.approx(
        timings["total_s"] - timings["extract_s"] - timings["audit_s"], abs=2e-3)
