"""Pre-training overlap by side: ``NAME/SPLIT`` entries, what matched, the record's
``flags.overlap`` round trip, and records written before sides (schema 2) still load with
their sides derived from the datasets' roles."""
from __future__ import annotations

import json

import pytest
from protocol_fakes import make_record

from fer_bench.records import (SCHEMA_VERSION, DatasetRef, Flags, Overlap, read_record,
                               record_overlaps, write_record)
from fer_bench.records.io import record_path
from fer_bench.records.overlap import find_overlaps, overlap_labels, parse_entry

FERPLUS_SIDES = {"source": {"train", "val"}, "target": {"test"}}   # a linear probe


def _ferplus(entries):
    return find_overlaps(entries, "ferplus", {"ferplus"}, "fer2013-images", FERPLUS_SIDES)


def test_entries_are_a_name_with_an_optional_split():
    assert parse_entry("ferplus/train") == ("ferplus", "train")
    assert parse_entry("ferplus") == ("ferplus", None)
    for bad in ("/train", "ferplus/", "a/b/c", ""):
        with pytest.raises(ValueError, match="NAME or NAME/SPLIT"):
            parse_entry(bad)


def test_a_split_entry_overlaps_only_the_side_that_reads_that_split():
    assert _ferplus(["ferplus/train"]) == [
        Overlap("ferplus", "source", "dataset ferplus", "ferplus/train", ("train",))]
    assert _ferplus(["FERPlus/test"]) == [
        Overlap("ferplus", "target", "dataset FERPlus", "FERPlus/test", ("test",))]
    # a split neither side reads: no overlap at all
    assert _ferplus(["ferplus/extra"]) == []


def test_a_bare_name_covers_every_split_and_image_families_match_too():
    found = _ferplus(["fer2013-images"])
    assert [(o.side, o.matched, o.splits) for o in found] == [
        ("source", "image family fer2013-images", ("train", "val")),
        ("target", "image family fer2013-images", ("test",))]
    assert _ferplus(["rafdb", "rafdb/train"]) == []
    assert overlap_labels(found, "source") == ("ferplus/train", "ferplus/val")
    assert overlap_labels(found, "target") == ("ferplus/test",)


def test_flags_with_sides_round_trip_through_a_record_file(tmp_path):
    record = make_record()
    overlap = (Overlap("synth-wild", "source", "dataset synth-wild", "synth-wild/train",
                       ("train",)),)
    record.flags = Flags(pretraining_overlap=("synth-wild",), overlap=overlap)
    back = read_record(write_record(record, tmp_path))
    assert back.flags == record.flags and back.schema_version == SCHEMA_VERSION
    assert record_overlaps(back) == overlap


def _as_schema_2(tmp_path, record):
    """``record`` written as fer-bench wrote it before sides: schema 2, no flags.overlap."""
    path = write_record(record, tmp_path)
    raw = json.loads(path.read_text())
    raw["schema_version"] = 2
    del raw["flags"]["overlap"]
    path.write_text(json.dumps(raw))
    return path


def test_a_schema_2_record_loads_and_its_sides_follow_the_roles(tmp_path):
    record = make_record("synth-wild__to__synth-lab")
    record.protocol = "cross-dataset"
    record.encoder["pretrained_on"] = ["synth-wild"]
    digests = ("d" * 64, "synth-wild", {"train": 90}, "c" * 64, "l" * 64)
    record.datasets = [DatasetRef("synth-wild", "source", *digests),
                       DatasetRef("synth-lab", "target", "e" * 64, "synth-lab", {"test": 30},
                                  "c" * 64, "l" * 64)]
    record.flags = Flags(pretraining_overlap=("synth-wild",))
    back = read_record(_as_schema_2(tmp_path, record))
    assert back.schema_version == SCHEMA_VERSION and back.flags.overlap is None
    assert back.flags.pretraining_overlap == ("synth-wild",)
    # the source only: fitted on synth-wild, scored on synth-lab; the split is unknown
    assert record_overlaps(back) == (
        Overlap("synth-wild", "source", "dataset synth-wild", "synth-wild", ()),)


def test_an_eval_role_counts_as_both_sides_in_an_old_record(tmp_path):
    old = read_record(_as_schema_2(tmp_path, make_record()))   # linear on synth-wild
    assert old.flags.overlap is None
    assert {o.side for o in record_overlaps(old)} == {"source", "target"}
    # no pretrained_on in this record's encoder entry: what matched is unknown
    assert {o.matched for o in record_overlaps(old)} == {"recorded before overlap sides"}


def test_migration_keeps_everything_but_records_no_sides(tmp_path):
    record = make_record()
    new = read_record(write_record(record, tmp_path / "new"))
    old = read_record(_as_schema_2(tmp_path / "old", record))
    assert (old.metrics, old.datasets, old.config) == (new.metrics, new.datasets, new.config)
    assert record_path(tmp_path / "old", old.key).exists()
