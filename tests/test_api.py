"""The Python API exported from the package root: lazy import, evaluate, load_results,
list_encoders, list_datasets, get_encoder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from protocol_fakes import exploding_pixels

import fer_bench
from fer_bench.encoder import Encoder
from fer_bench.reporting.tables import LONG_COLUMNS, long_table, write_leaderboard

WILD = "synth-wild:n=100,size=32"          # shared with test_run_cli (rendered once)
FIXTURES = Path(__file__).parent / "fixtures" / "records" / "results"


def test_import_fer_bench_loads_nothing_heavy():
    code = ("import sys, fer_bench; heavy = [m for m in ('torch', 'pandas', 'numpy', "
            "'fer_bench.api', 'fer_bench.runner') if m in sys.modules]; print(heavy); "
            "print(sorted(set(fer_bench.__all__) - {'__version__'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == str(sorted(["evaluate", "load_results", "get_encoder", "list_encoders",
                                 "list_datasets"]))
    assert "evaluate" in dir(fer_bench)
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        fer_bench.evaluat  # noqa: B018


def test_evaluate_returns_numbers_and_load_results_the_same_rows(tmp_path):
    results = tmp_path / "records"
    scores = fer_bench.evaluate(["pixels"], ["linear:Cs=1", "knn", "subject-folds"], [WILD],
                                results_dir=results, cache_dir=tmp_path / "cache",
                                device="cpu", seeds=[0, 1], progress=False)
    assert list(scores.columns) == [*LONG_COLUMNS, "status", "note", "seconds"]
    assert scores["mean"].dtype == "float64" and scores["std"].dtype == "float64"
    for flag in ("headline", "test_selected", "pretraining_overlap", "short_classes",
                 "small_test", "seeds_identical"):
        assert scores[flag].dtype == bool, flag
    assert str(scores["n_test"].dtype) == "Int64"
    scored = scores[scores["status"] == "computed"]
    assert len(scored) == 2 * 3 and set(scored["protocol"]) == {"linear", "knn"}
    assert scored["mean"].between(0, 1).all()
    assert (scored["ci_low"] <= scored["mean"]).all()
    assert (scored["mean"] <= scored["ci_high"]).all()
    # synth-wild ships a test split: subject-folds is not applicable, one row, no score
    folds = scores[scores["protocol"] == "subject-folds"]
    assert len(folds) == 1 and folds["status"].iloc[0] == "not-applicable"
    assert pd.isna(folds["mean"].iloc[0]) and "test split" in folds["note"].iloc[0]
    assert folds["revision"].iloc[0] == "grey24"

    # The long frame of the leaderboard, row for row
    loaded = fer_bench.load_results(results)
    pd.testing.assert_frame_equal(loaded, long_table(results))
    back = scored.drop(columns=["status", "note", "seconds"])
    key = ["protocol", "target", "metric"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True),
        loaded.sort_values(key).reset_index(drop=True))
    paths = write_leaderboard(long_table(results), tmp_path / "board")
    csv = pd.read_csv(paths["long"])
    assert list(csv.columns) == list(loaded.columns) and len(csv) == len(loaded)

    # Objects and names mix; a rerun keeps the records (the object is never built)
    again = fer_bench.evaluate([exploding_pixels()], "knn", WILD, results_dir=results,
                               cache_dir=tmp_path / "cache", device="cpu", seeds=[0, 1],
                               progress=False)
    assert set(again["status"]) == {"kept"} and len(again) == 3


def test_load_results_skips_an_unreadable_record_with_a_warning(tmp_path):
    import shutil

    shutil.copytree(FIXTURES, tmp_path / "records")
    bad = tmp_path / "records" / "enc-a" / "r1" / "knn-v1" / "synth-lab.json"
    bad.write_text("{ truncated")
    with pytest.warns(UserWarning, match="skipped .*synth-lab.json"):
        frame = fer_bench.load_results(tmp_path / "records")
    assert len(frame) == len(long_table(FIXTURES)) - 3


def test_list_encoders_reads_metadata_without_loading_weights(monkeypatch):
    def no_loading(self):
        raise AssertionError(f"{self.info.name} weights were loaded")
    monkeypatch.setattr(Encoder, "model", property(no_loading))
    table = fer_bench.list_encoders()
    assert {"name", "revision", "embed_dim", "input_size", "pretrained_on", "weights",
            "licence"} <= set(table.columns)
    rows = table.set_index("name")
    assert rows.loc["pixels", "embed_dim"] == 576 and rows.loc["pixels", "input_size"] == 24
    assert rows.loc["pixels", "weights"] == "not needed"
    assert rows.loc["random-resnet18", "weights"] == "not needed"
    assert rows.loc["crs-cont", "weights"] == "shipped"
    assert "ferplus/train" in rows.loc["crs-cont", "pretrained_on"]   # FERPlus train only
    assert rows.loc["pyemotion", "pretrained_on"] == ["fer2013-images"]
    assert fer_bench.list_encoders(details=False) == sorted(table["name"])


def test_list_datasets_and_get_encoder():
    datasets = fer_bench.list_datasets().set_index("name")
    assert datasets.loc["synth-wild", "kind"] == "generated"
    assert datasets.loc["ferplus", "kind"] == "real"
    assert datasets.loc["folder", "kind"] == "folder"
    encoder = fer_bench.get_encoder("pixels", size=16)
    assert encoder.info.embed_dim == 256 and not encoder.loaded


def test_the_example_script_evaluates_and_plots(tmp_path):
    """examples/evaluate_custom_encoder.py: a custom encoder and two built-ins on a tiny
    generated dataset (120 faces of 32 px), plotted from the DataFrame; about 13 s on a
    busy 2-core machine (a process of its own: torch import, rendering, probes)."""
    script = Path(__file__).resolve().parents[1] / "examples" / "evaluate_custom_encoder.py"
    out = tmp_path / "plot.png"
    proc = subprocess.run([sys.executable, str(script), "--n", "120", "--size", "32",
                           "--out", str(out), "--results-dir", str(tmp_path / "records")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 300
    assert f"wrote {out}" in proc.stdout
    for name in ("edge-histogram", "pixels", "random-resnet18"):
        assert name in proc.stdout
    frame = fer_bench.load_results(tmp_path / "records")
    assert set(frame["encoder"]) == {"edge-histogram", "pixels", "random-resnet18"}
    assert set(frame["protocol"]) == {"linear", "knn"}
