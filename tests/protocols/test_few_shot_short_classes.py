"""A few-shot record whose support could not hold ``n`` rows of some class (the class had
fewer train rows) says so in its flags, and the leaderboard stamps its cells."""
from __future__ import annotations

import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.records import read_record, write_record
from fer_bench.reporting import tables
from fer_bench.reporting.tables import long_table, markdown_leaderboard

SHORT_CLASSES_MARK = getattr(tables, "SHORT_CLASSES_MARK", "‡")
CLASSES = ("neutral", "happiness", "sadness", "surprise")


@pytest.fixture
def blobs():
    # train: 6 rows per class, except 3 of surprise
    ds = blob_dataset("blobs", CLASSES, {"train": 6, "test": 3})
    keep = ~((ds.manifest["label"] == "surprise") & (ds.manifest["split"] == "train")
             & (ds.manifest["id"].str.split("-").str[-1].astype(int) >= 3))
    ds.manifest = ds.manifest[keep.to_numpy()].reset_index(drop=True)
    return ds


def records(ds, shots):
    protocol = get_protocol("few-shot", n_boot=20, draws=1, probes=("knn",), shots=shots)
    ctx = RunContext(NeverBuilt(), ArrayStore(), load={"blobs": ds}.__getitem__, seeds=(0,))
    return {t.target: protocol.run_task(ctx, t)[0] for t in protocol.tasks(["blobs"])}


def test_flags_name_the_classes_shorter_than_the_shots(blobs):
    out = records(blobs, (2, 5, 100000))
    assert out["blobs@2shot-knn"].flags.short_classes == ()
    assert out["blobs@5shot-knn"].flags.short_classes == ("surprise",)
    assert out["blobs@100000shot-knn"].flags.short_classes == CLASSES


def test_the_flag_survives_the_file_and_stamps_the_tables(blobs, tmp_path):
    for record in records(blobs, (2, 5)).values():
        write_record(record, tmp_path)
    path = next(tmp_path.rglob("blobs@5shot-knn.json"))
    assert read_record(path).flags.short_classes == ("surprise",)
    long = long_table(tmp_path)
    head = long[long["headline"]].set_index("target")
    assert head["short_classes"].to_dict() == {"blobs@2shot-knn": False,
                                               "blobs@5shot-knn": True}
    assert head["short_class_names"].to_dict() == {"blobs@2shot-knn": "",
                                                   "blobs@5shot-knn": "surprise"}
    markdown = markdown_leaderboard(long)
    assert SHORT_CLASSES_MARK in markdown.split("\n")[2]            # the legend explains it
    header = next(line for line in markdown.splitlines() if line.startswith("| encoder"))
    row = next(line for line in markdown.splitlines() if line.startswith("| fake@r1"))
    cells = dict(zip(header.split("|"), row.split("|")))
    assert SHORT_CLASSES_MARK in cells[" @5shot-knn "], cells
    assert SHORT_CLASSES_MARK not in cells[" @2shot-knn "], cells


def test_records_without_the_flag_still_load():
    from protocol_fakes import make_record

    from fer_bench.records.schema import ResultRecord

    data = make_record().to_dict()
    data["flags"].pop("short_classes", None)
    assert ResultRecord.from_dict(data).flags.short_classes == ()
