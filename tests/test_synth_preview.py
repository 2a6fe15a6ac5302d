"""``fer-bench datasets preview``: a labelled grid, through the CLI and the library."""
from __future__ import annotations

from click.testing import CliRunner
from PIL import Image

from fer_bench.cli import main
from fer_bench.datasets.registry import load_dataset
from fer_bench.synth.preview import CELL, pick_rows


def test_preview_command_writes_a_png(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "grids" / "lab.png"
    result = CliRunner().invoke(main, ["datasets", "preview", "synth-lab:n=28,size=48",
                                       "--out", str(out), "--n", "8"])
    assert result.exit_code == 0, result.output
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width == 8 * CELL


def test_preview_of_unknown_dataset_fails_cleanly(tmp_path):
    result = CliRunner().invoke(main, ["datasets", "preview", "synth-nope", "--out",
                                       str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "unknown dataset" in result.output


def test_pick_rows_takes_classes_in_turn(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    ds = load_dataset("synth-lab:n=28,size=32")
    rows = pick_rows(ds, 8, seed=1)
    assert [ds.manifest.label[r] for r in rows] == list(ds.classes)
    assert pick_rows(ds, 8, seed=1) == rows and pick_rows(ds, 8, seed=2) != rows
