"""Output hygiene and hostile input files: spreadsheet formulas in leaderboard CSVs, HTML
in markdown, label-file paths that climb out of the dataset root, empty split files, and
an official checkpoint whose ``opt`` entry is malformed."""
from __future__ import annotations

import argparse
import csv
from dataclasses import replace

import pytest
import torch
from datasets_fixtures import (make_affectnet_csv, make_ferplus_folders, make_rafdb, write_image,
                               write_text)
from protocol_fakes import make_record

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.reporting.tables import long_table, markdown_leaderboard, write_leaderboard
from fer_bench.records import MetricSummary, write_record
from fer_bench.weights import WeightsError, load_official_crs_checkpoint

NEUTRAL, HAPPY = [10] + [0] * 9, [0, 10] + [0] * 8


# -- leaderboard CSVs and markdown --------------------------------------------------------
def hostile_records(root):
    record = make_record(target="@SUM(1+1)*cmd|' /C calc'!A0")
    record.encoder = {**record.encoder, "name": "=HYPERLINK(\"http://x\")",
                      "revision": "+1-evil"}
    record.metrics = {**record.metrics, "accuracy": MetricSummary(-0.5, 0.0, (-0.5,), None)}
    write_record(record, root)
    html = make_record()
    html.encoder = {**html.encoder, "name": "<img src=x onerror=alert(1)>"}
    write_record(html, root)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    hostile_records(tmp_path / "records")
    paths = write_leaderboard(long_table(tmp_path / "records"), tmp_path / "out")
    for name in ("long", "wide"):
        with open(paths[name], newline="", encoding="utf-8") as f:
            cells = [c for row in csv.reader(f) for c in row]
        formulas = [c for c in cells if c[:1] in ("=", "+", "@")
                    or (c[:1] == "-" and not _number(c))]
        assert formulas == [], (name, formulas)
        assert any(c.startswith("'=HYPERLINK") for c in cells), name
    long_cells = paths["long"].read_text(encoding="utf-8")
    assert ",-0.5," in long_cells                   # a number stays a number
    assert "'@SUM(1+1)" in long_cells and "'+1-evil" in long_cells


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_markdown_escapes_html(tmp_path):
    hostile_records(tmp_path / "records")
    markdown = markdown_leaderboard(long_table(tmp_path / "records"))
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    written = write_leaderboard(long_table(tmp_path / "records"), tmp_path / "out")["markdown"]
    assert "<img" not in written.read_text(encoding="utf-8")


# -- label files ----------------------------------------------------------------------------
def test_a_rafdb_path_climbing_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "RAF-DB"
    make_rafdb(root, "basic", [("train_00001.jpg", 1), ("test_0001.jpg", 3)])
    write_image(tmp_path / "secret_aligned.jpg", 5)     # outside the dataset root
    labels = root / "basic" / "EmoLabel" / "list_patition_label.txt"
    labels.write_text(labels.read_text() + "train_/../../../../secret.jpg 2\n")
    with pytest.raises(DatasetError, match=r"list_patition_label\.txt:3: path outside the "
                                           r"dataset root"):
        load_dataset("rafdb", root)
    ds = load_dataset("rafdb", root, on_error="skip")
    assert len(ds) == 2 and ds.info["skipped"] == {"path outside the dataset root": 1}


def test_a_ferplus_name_climbing_out_of_the_root_is_refused(tmp_path):
    root = make_ferplus_folders(tmp_path / "ferplus", {"FER2013Train": [NEUTRAL, HAPPY],
                                                       "FER2013Valid": [HAPPY],
                                                       "FER2013Test": [NEUTRAL]})
    write_image(tmp_path / "elsewhere.png", 3, size=48, grey=True)
    label = root / "FER2013Train" / "label.csv"
    label.write_text(label.read_text() + '../../elsewhere.png,"(0, 0, 48, 48)",'
                     + ",".join(map(str, HAPPY)) + "\n")
    with pytest.raises(DatasetError, match=r"FER2013Train/label\.csv:3: path outside"):
        load_dataset("ferplus", root)


@pytest.mark.parametrize("content", ["", "\n"])
def test_an_empty_ferplus_split_file_is_an_error(tmp_path, content):
    root = make_ferplus_folders(tmp_path / "ferplus", {"FER2013Train": [NEUTRAL, HAPPY],
                                                       "FER2013Valid": [HAPPY],
                                                       "FER2013Test": [NEUTRAL]})
    (root / "FER2013Valid" / "label.csv").write_text(content)
    with pytest.raises(DatasetError, match=r"FER2013Valid/label\.csv.*empty.*val"):
        load_dataset("ferplus", root)


def test_an_affectnet_split_file_without_rows_is_an_error(tmp_path):
    root = make_affectnet_csv(tmp_path / "AffectNet",
                              {"training.csv": [("1/a.jpg", 0), ("1/b.jpg", 1)],
                               "validation.csv": [("2/c.jpg", 0)]})
    header = (root / "validation.csv").read_text().splitlines()[0]
    write_text(root / "validation.csv", header + "\n")
    with pytest.raises(DatasetError, match=r"validation\.csv.*no rows.*test"):
        load_dataset("affectnet", root)


def test_a_rafdb_label_file_without_test_rows_is_an_error(tmp_path):
    root = tmp_path / "RAF-DB"
    make_rafdb(root, "basic", [("train_00001.jpg", 1), ("train_00002.jpg", 3)])
    with pytest.raises(DatasetError, match=r"list_patition_label\.txt.*no test_"):
        load_dataset("rafdb", root)


# -- official checkpoints ----------------------------------------------------------------
def _official(path, opt):
    torch.save({"opt": opt, "model": {"encoder.conv1.weight": torch.zeros(64, 3, 7, 7)},
                "epoch": 3}, path)
    return path


@pytest.mark.parametrize("opt", [
    "resnet18 at 224",
    [1, 2, 3],
    {"size": "big"},
    argparse.Namespace(size=[224]),
    argparse.Namespace(dataset=["RAF-DB"]),
    {"model": 18},
])
def test_a_malformed_opt_entry_names_the_file(tmp_path, opt):
    path = _official(tmp_path / "odd-opt.pth", opt)
    with pytest.raises(WeightsError, match=r"odd-opt\.pth.*'opt'"):
        load_official_crs_checkpoint(path)


def test_a_well_formed_opt_still_loads(tmp_path):
    path = _official(tmp_path / "fine.pth", argparse.Namespace(size=112, dataset="RAF-DB"))
    state, meta = load_official_crs_checkpoint(path)
    assert meta["input_size"] == 112 and meta["pretrained_on"] == ["rafdb"]
    assert replace(make_record()).target == "synth-wild"  # the fakes import cleanly
