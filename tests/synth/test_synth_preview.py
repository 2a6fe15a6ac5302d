"""``fer-bench datasets preview``: a labelled grid, through the CLI and the library."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fer_bench.cli import main
from fer_bench.datasets.preview import CELL, pick_rows
from fer_bench.datasets.registry import load_dataset


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


def test_a_preset_not_in_the_cache_renders_only_the_sheet(tmp_path, monkeypatch):
    """The 6,000-face default synth-wild is never rendered for a preview of 8 faces."""
    import fer_bench.synth.generate as generate

    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    rendered = []
    render = generate.render_spec
    monkeypatch.setattr(generate, "render_spec",
                        lambda spec, size: rendered.append(size) or render(spec, size))
    out = tmp_path / "wild.png"
    result = CliRunner().invoke(main, ["datasets", "preview", "synth-wild", "--out", str(out),
                                       "--n", "8"])
    assert result.exit_code == 0, result.output
    assert rendered == [112] * 8                      # the sheet's faces, at the preset size
    assert not (tmp_path / "cache" / "synth").exists()   # the preset itself: not generated
    with Image.open(out) as im:
        assert im.width == 8 * CELL


@pytest.mark.parametrize("spec", ["synth-wild:n=40,size=32", "synth-lab:n=28,size=32",
                                  "synth-compound:n=30,size=32"])
def test_the_sheet_is_the_same_before_and_after_the_preset_is_rendered(tmp_path, monkeypatch,
                                                                       spec):
    from fer_bench.datasets.adapters.generated import preset_options
    from fer_bench.datasets.preview import preview_grid, preview_preset
    from fer_bench.datasets.registry import split_spec
    from fer_bench.synth.generate import is_generated

    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    entry, parsed = split_spec(spec)
    n, seed, size, _ = preset_options(entry.name, **parsed.options)
    planned = preview_preset(entry.name, tmp_path / "planned.png", n=12, seed=3,
                             options=parsed.options)
    assert not is_generated(entry.name, n, seed, size)
    read = preview_grid(load_dataset(spec), tmp_path / "read.png", n=12, seed=3)
    assert is_generated(entry.name, n, seed, size)
    cached = preview_preset(entry.name, tmp_path / "cached.png", n=12, seed=3,
                            options=parsed.options)
    with Image.open(planned) as a, Image.open(read) as b, Image.open(cached) as c:
        assert np.array_equal(np.asarray(a), np.asarray(b))
        assert np.array_equal(np.asarray(b), np.asarray(c))


def test_a_long_preview_shows_a_progress_line_on_stderr(tmp_path, monkeypatch, capsys):
    import fer_bench.datasets.preview as preview

    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(preview, "PROGRESS_AFTER_S", 0.0)   # "long" from the first face
    preview.preview_preset("synth-wild", tmp_path / "a.png", n=3, progress=True,
                           options={"size": "32"})
    captured = capsys.readouterr()
    assert "rendering synth-wild faces" in captured.err and captured.out == ""
    preview.preview_preset("synth-wild", tmp_path / "b.png", n=3, progress=False,
                           options={"size": "32"})
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("preset", ["synth-wild", "synth-lab", "synth-compound"])
def test_planning_some_rows_gives_the_faces_of_the_whole_plan(preset):
    from fer_bench.synth.plan import plan_preset, plan_rows, preset_labels
    from fer_bench.synth.preset_config import PRESETS

    cfg = PRESETS[preset]
    full = plan_preset(cfg, 120, 4)
    assert preset_labels(cfg, 120, 4) == [spec.meta["label"] for spec in full]
    rows = [len(full) - 1, 0, 57, 3, 57]
    for i, spec in zip(rows, plan_rows(cfg, 120, 4, rows)):
        assert spec.meta == full[i].meta and np.array_equal(spec.aus, full[i].aus)
        assert repr(spec.identity) == repr(full[i].identity)
        assert repr(spec.scene) == repr(full[i].scene)
