"""End to end: ``fer-bench run`` on tiny generated presets with the pixels encoder, then
``leaderboard`` and ``plot`` on what it wrote."""
from __future__ import annotations

import os
import re

import pandas as pd
from click.testing import CliRunner
from datasets_fixtures import make_ferplus_folders, write_image

from fer_bench.cli import main
from fer_bench.reporting.tables import WIDE_FIELDS
from fer_bench.protocols.base import get_protocol
from fer_bench.records import find_record_files, load_records, read_record

WILD, LAB = "synth-wild:n=100,size=32", "synth-lab:n=112,size=32"
# One C keeps the probe quick; the sweep itself is tested with the probe.
PROTOCOLS = ["linear:Cs=1", "knn", "cross-dataset:Cs=1"]


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run_args(tmp_path, encoder="pixels"):
    args = ["run", "--encoder", encoder, "--dataset", WILD, "--dataset", LAB,
            "--results-dir", tmp_path / "records", "--cache-dir", tmp_path / "cache",
            "--seed", 0, "--seed", 1, "--device", "cpu", "--quiet"]
    for p in PROTOCOLS:
        args += ["--protocol", p]
    return args


def test_run_then_rerun_then_leaderboard_and_plots(tmp_path):
    output = invoke(*run_args(tmp_path))
    assert "8 record(s) computed, 0 kept" in output
    records = load_records(tmp_path / "records")
    assert sorted((r.protocol, r.target) for r in records) == sorted(
        [("linear", WILD), ("linear", LAB), ("knn", WILD), ("knn", LAB)]
        + [("cross-dataset", f"{s}__to__{t}") for s in (WILD, LAB) for t in (WILD, LAB)])
    for r in records:
        assert r.encoder["name"] == "pixels" and r.seeds == [0, 1]
        assert r.flags.test_selected is False and r.flags.pretraining_overlap == ()
        assert 0 <= r.headline.mean <= 1 and r.feature_keys
        assert (tmp_path / "records" / "pixels" / "grey24").is_dir()

    # Same command again, with an encoder whose weights explode if loaded: all kept.
    rerun = invoke(*run_args(tmp_path, encoder="protocol_fakes:exploding_pixels"))
    assert "0 record(s) computed, 8 kept" in rerun

    board = invoke("leaderboard", "--results-dir", tmp_path / "records",
                   "--out", tmp_path / "board")
    assert "| pixels@grey24 |" in board
    wide = pd.read_csv(tmp_path / "board" / "leaderboard_wide.csv", index_col=0)
    assert list(wide.index) == ["pixels@grey24"] and wide.shape[1] == 8 * len(WIDE_FIELDS)
    long = pd.read_csv(tmp_path / "board" / "leaderboard_long.csv")
    assert len(long) == 8 * 3

    plots = invoke("plot", "--results-dir", tmp_path / "records", "--out", tmp_path / "plots")
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    v = {name: f"{name}-v{get_protocol(name).version}"
         for name in ("linear", "knn", "cross-dataset")}
    assert {f"bars_{v['knn']}.png", f"bars_{v['linear']}.png",
            f"cross_{v['cross-dataset']}.png"} <= set(names)
    # fer_bench.reporting.heatmaps: recall heatmap and confusion grid per protocol and dataset
    assert {f"{kind}_{v[p]}_{ds}.png" for kind in ("recall", "confusion")
            for p in ("linear", "knn") for ds in ("synth-wild_n=100_size=32",
                                                   "synth-lab_n=112_size=32")} <= set(names)
    assert plots.count("wrote") == len(names)


def test_bad_weights_option_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["run", "--encoder", "pixels", "--protocol", "knn",
                                       "--weights", "pixels", "--results-dir", str(tmp_path)])
    assert result.exit_code == 2 and "expected ENCODER=PATH" in result.output
    assert not any(tmp_path.iterdir())


NEUTRAL, HAPPY = [10] + [0] * 9, [0, 10] + [0] * 8


def ferplus_copy(root, test_votes):
    train = [NEUTRAL, HAPPY] * 6
    return make_ferplus_folders(root / "ferplus", {"FER2013Train": train,
                                                   "FER2013Valid": [NEUTRAL, HAPPY],
                                                   "FER2013Test": test_votes})


def test_relabelled_data_or_another_data_root_is_recomputed_not_kept(tmp_path):
    test_votes = [NEUTRAL, HAPPY] * 3
    ferplus_copy(tmp_path / "a", test_votes)
    ferplus_copy(tmp_path / "b", [HAPPY, NEUTRAL] * 3)          # same images, other labels
    args = ["run", "--encoder", "pixels", "--protocol", "knn", "--dataset", "ferplus",
            "--results-dir", tmp_path / "records", "--cache-dir", tmp_path / "cache",
            "--seed", 0, "--device", "cpu", "--quiet", "--data-root"]
    assert "1 record(s) computed" in invoke(*args, tmp_path / "a")
    assert "0 record(s) computed, 1 kept" in invoke(*args, tmp_path / "a")
    assert "1 record(s) computed" in invoke(*args, tmp_path / "b")
    assert "0 record(s) computed, 1 kept" in invoke(*args, tmp_path / "b")
    ferplus_copy(tmp_path / "b", [NEUTRAL] * 6)                 # relabel test images in place
    assert "1 record(s) computed" in invoke(*args, tmp_path / "b")


def test_folder_datasets_get_records_of_their_own_without_the_path(tmp_path):
    for folder in ("x y", "x_y"):
        for split in ("train", "test"):
            for i, expression in enumerate(("happy", "sad") * 3):
                write_image(tmp_path / folder / split / expression / f"{split}{i}.png", i)
    invoke("run", "--encoder", "pixels", "--protocol", "knn",
           "--dataset", f"folder:{tmp_path / 'x y'}",
           "--dataset", f"folder:{tmp_path / 'x_y'}:face_crop=none,subject_regex=^(\\w+?)\\d",
           "--results-dir", tmp_path / "records", "--cache-dir", tmp_path / "cache",
           "--seed", 0, "--device", "cpu", "--quiet")
    files = find_record_files(tmp_path / "records")
    assert len(files) == 2
    targets = sorted((read_record(f).target for f in files), key=lambda t: ":" in t)
    assert re.fullmatch(r"folder-x_y-[0-9a-f]{8}", targets[0]), targets
    assert re.fullmatch(r"folder-x_y-[0-9a-f]{8}:face_crop=none,subject_regex=\^\(\\w\+\?\)\\d",
                        targets[1]), targets
    assert targets[0] != targets[1].split(":")[0]
    for f in files:
        assert str(tmp_path) not in f.read_text() and "x y" not in f.read_text()


def test_cache_dir_holds_the_generated_faces_too(tmp_path, monkeypatch):
    # --cache-dir is the whole cache: the faces a run generates go there, not to
    # FER_BENCH_CACHE's folder, which the command leaves as it was
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "elsewhere"))
    cache = tmp_path / "cache"
    invoke("run", "--encoder", "pixels", "--protocol", "knn", "--dataset", LAB,
           "--results-dir", tmp_path / "records", "--cache-dir", cache, "--device", "cpu",
           "--quiet")
    assert any((cache / "synth").glob("synth-lab-*/DONE"))
    assert (cache / "features").is_dir()
    assert not (tmp_path / "elsewhere").exists()
    assert os.environ["FER_BENCH_CACHE"] == str(tmp_path / "elsewhere")
