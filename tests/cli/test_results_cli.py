"""Machine-readable output: ``fer-bench run --format json|csv`` keeps stdout for the data
(progress and notes on stderr), ``fer-bench results show`` filters and formats records,
and the numbers parse with the standard tools."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fer_bench.cli import main
from fer_bench.reporting.tables import LONG_COLUMNS, SMALL_TEST_MARK, long_table

RESULTS = Path(__file__).resolve().parents[1] / "fixtures" / "records" / "results"
WILD = "synth-wild:n=100,size=32"          # shared with test_run_cli (rendered once)


def invoke(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def run_args(tmp_path, fmt):
    return ["run", "--encoder", "pixels", "--protocol", "linear:Cs=1", "--protocol", "knn",
            "--dataset", WILD, "--results-dir", tmp_path / "records",
            "--cache-dir", tmp_path / "cache", "--seed", 0, "--seed", 1, "--device", "cpu",
            "--format", fmt]


def test_run_json_is_the_data_alone_on_stdout(tmp_path):
    result = invoke(*run_args(tmp_path, "json"))       # progress bars on: they go to stderr
    rows = json.loads(result.stdout)
    assert "record(s) computed" in result.stderr and "record(s)" not in result.stdout
    assert len(rows) == 2 * 3                           # 2 records x 3 metrics
    assert set(rows[0]) == {*LONG_COLUMNS, "status", "note", "seconds"}
    head = {r["protocol"]: r for r in rows if r["headline"]}
    assert set(head) == {"linear", "knn"}
    for r in head.values():
        assert r["status"] == "computed" and 0 <= r["mean"] <= 1
        assert r["ci_low"] <= r["mean"] <= r["ci_high"]
        assert isinstance(r["small_test"], bool) and isinstance(r["n_test"], int)
    # Official splits: seeds cannot change a deterministic probe, so one seed ran and
    # there is no std (null, not 0.0) although two were asked for
    for r in head.values():
        assert r["n_seeds"] == 1 and r["std"] is None and r["seeds_identical"] is False
    assert head["knn"]["n_test"] < 100 and head["knn"]["small_test"] is True
    again = json.loads(invoke(*run_args(tmp_path, "json")).stdout)
    assert {r["status"] for r in again} == {"kept"}


def test_run_csv_parses_with_numeric_columns(tmp_path):
    result = invoke(*run_args(tmp_path, "csv"))
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert len(frame) == 6
    for column in ("mean", "std", "ci_low", "ci_high", "seconds"):
        assert frame[column].dtype == "float64", column
    for column in ("headline", "test_selected", "pretraining_overlap", "short_classes",
                   "small_test", "seeds_identical"):
        assert frame[column].dtype == bool, column
    assert frame["n_test"].dtype == "int64"


def test_run_table_shows_no_spread_as_a_dash_and_explains_the_stamps(tmp_path):
    out = invoke(*run_args(tmp_path, "table")).stdout
    lines = out.splitlines()
    header = lines[0].split()
    assert header[:6] == ["encoder", "revision", "protocol", "target", "status",
                          "mean_class_accuracy"]
    knn = next(line for line in lines if " knn " in line)
    assert " - " in knn and "±" not in out and SMALL_TEST_MARK in knn
    assert any(line.startswith("std -: no spread") for line in lines)
    assert any(line.startswith(f"{SMALL_TEST_MARK} small test set: fewer than 100")
               for line in lines)


def test_run_json_pipes_into_json_load(tmp_path):
    """The shell form: fer-bench run ... --format json | python -c 'json.load(...)'."""
    fer_bench = Path(sys.executable).with_name("fer-bench")
    if not fer_bench.exists():
        pytest.skip("the fer-bench console script is not installed next to this python")
    args = " ".join(f"'{a}'" for a in run_args(tmp_path, "json"))
    command = (f"'{fer_bench}' {args} | '{sys.executable}' -c "
               "'import json,sys; rows = json.load(sys.stdin); print(len(rows))'")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "6"


def test_results_show_formats_and_filters_the_records():
    table = invoke("results", "show", "--results-dir", RESULTS).stdout
    assert "enc-a" in table and "pixels" in table and "† chosen on the test split" in table
    rows = json.loads(invoke("results", "show", "--results-dir", RESULTS, "--format",
                             "json").stdout)
    assert len(rows) == len(long_table(RESULTS))           # every record x metric
    some = json.loads(invoke("results", "show", "--results-dir", RESULTS, "--encoder",
                             "enc-a@r1", "--protocol", "knn", "--protocol", "linear-v1",
                             "--dataset", "synth-wild", "--format", "json").stdout)
    assert {(r["encoder"], r["protocol"], r["target"]) for r in some} == {
        ("enc-a", "knn", "synth-wild"), ("enc-a", "linear", "synth-wild")}
    pairs = json.loads(invoke("results", "show", "--results-dir", RESULTS, "--protocol",
                              "cross-dataset", "--dataset", "synth-lab", "--metric",
                              "accuracy", "--format", "json").stdout)
    assert {r["target"] for r in pairs} == {"synth-lab__to__synth-lab",
                                            "synth-lab__to__synth-wild",
                                            "synth-wild__to__synth-lab"}
    assert {r["metric"] for r in pairs} == {"accuracy"}
    csv = invoke("results", "show", "--results-dir", RESULTS, "--format", "csv").stdout
    frame = pd.read_csv(io.StringIO(csv))
    assert frame["mean"].dtype == "float64" and frame["small_test"].dtype == bool
    # reading order: linear before knn before cross-dataset, as the leaderboard
    shown = invoke("results", "show", "--results-dir", RESULTS, "--encoder", "enc-b").stdout
    order = [line.split()[2] for line in shown.splitlines()[1:] if line.startswith("enc-b")]
    assert order == sorted(order, key=["linear", "knn", "cross-dataset",
                                       "linear-online"].index)


def test_results_show_names_what_it_cannot_find():
    result = invoke("results", "show", "--results-dir", RESULTS, "--encoder", "enc-c", code=2)
    assert "did you mean 'enc-b'" in result.output and "Traceback" not in result.output
    result = invoke("results", "show", "--results-dir", RESULTS, "--dataset", "ferplus", code=2)
    assert "datasets there: synth-lab, synth-wild" in result.output
