"""Overlap marks by side: ``*`` (a warning) when the encoder was pre-trained on the scored
data, ``°`` (information) when only on the data the probe was fitted on; the long and
wide CSVs say which side and which datasets; records written before sides keep their
marks, derived from the datasets' roles."""
from __future__ import annotations

from pathlib import Path

from protocol_fakes import make_record

from fer_bench.records import DatasetRef, Flags, Overlap, write_record
from fer_bench.reporting.few_shot import few_shot_frame
from fer_bench.reporting.results import read_results
from fer_bench.reporting.tables import (OVERLAP_MARK, SOURCE_OVERLAP_MARK, figure_notes,
                                        flat_legend, long_table, markdown_leaderboard,
                                        wide_numeric_table, wide_table)

RESULTS = Path(__file__).parents[1] / "fixtures" / "records" / "results"
SOURCE = Overlap("src", "source", "dataset src", "src/train", ("train",))
TARGET = Overlap("tgt", "target", "image family fam", "fam", ("test",))


def cross_record(target: str, *overlaps: Overlap):
    """A cross-dataset record src -> tgt (test-selected off, 30 test items: §)."""
    record = make_record(target)
    record.protocol = "cross-dataset"
    digests = ("d" * 64, "fam", {"train": 90}, "c" * 64, "l" * 64)
    record.datasets = [DatasetRef("src", "source", *digests), DatasetRef("tgt", "target", *digests)]
    record.flags = Flags(pretraining_overlap=tuple(sorted({o.dataset for o in overlaps})),
                         overlap=overlaps)
    return record


def board(tmp_path):
    for target, overlaps in {"src__to__tgt": (SOURCE,), "x__to__tgt": (TARGET,),
                             "y__to__tgt": (SOURCE, TARGET), "z__to__tgt": ()}.items():
        write_record(cross_record(target, *overlaps), tmp_path)
    return long_table(tmp_path)


def test_source_overlap_is_information_and_target_overlap_a_warning(tmp_path):
    cells = wide_table(board(tmp_path)).iloc[0]
    assert cells["cross-dataset-v3/src__to__tgt"].endswith(f"]{SOURCE_OVERLAP_MARK}§")
    assert cells["cross-dataset-v3/x__to__tgt"].endswith(f"]{OVERLAP_MARK}§")
    assert cells["cross-dataset-v3/y__to__tgt"].endswith(f"]{OVERLAP_MARK}§")   # one mark
    assert cells["cross-dataset-v3/z__to__tgt"].endswith("]§")


def test_the_long_and_wide_tables_say_which_side_and_what(tmp_path):
    long = board(tmp_path)
    head = long[long["headline"]].set_index("target")
    assert head.loc["src__to__tgt", ["pretraining_overlap", "overlap_source",
                                     "overlap_target"]].tolist() == [True, True, False]
    assert head.loc["src__to__tgt", "overlap_source_with"] == "src/train"
    assert head.loc["y__to__tgt", ["overlap_source_with", "overlap_target_with",
                                   "overlap_with"]].tolist() == ["src/train", "tgt/test",
                                                                 "src;tgt"]
    assert head.loc["z__to__tgt", ["overlap_with", "overlap_source_with",
                                   "overlap_target_with"]].tolist() == ["", "", ""]
    wide = wide_numeric_table(long).iloc[0]
    assert wide["cross-dataset-v3/src__to__tgt/overlap_source"]
    assert not wide["cross-dataset-v3/src__to__tgt/overlap_target"]
    assert wide["cross-dataset-v3/src__to__tgt/pretraining_overlap"]   # kept: any side


def test_legends_explain_each_mark_they_use(tmp_path):
    long = board(tmp_path)
    text = markdown_leaderboard(long)
    assert f"{OVERLAP_MARK} the encoder was pre-trained on the scored data" in text
    assert f"{SOURCE_OVERLAP_MARK} it was pre-trained on the data the probe was fitted on" in text
    lines = flat_legend(long[long["headline"]])
    assert any(line.startswith(f"{SOURCE_OVERLAP_MARK} ") for line in lines)
    assert any(line.startswith(f"{OVERLAP_MARK} ") for line in lines)
    only_source = long[long["target"] == "src__to__tgt"]
    assert not any(line.startswith(f"{OVERLAP_MARK} ") for line in flat_legend(only_source))
    assert figure_notes(only_source) == (f"{SOURCE_OVERLAP_MARK} pre-trained on the probe's "
                                         "training data only; § small test set")


def test_old_records_keep_their_marks_with_sides_from_their_roles():
    # fixture records of schema 1: enc-a declares synth-wild, flags list the dataset only
    cells = wide_table(long_table(RESULTS)).loc["enc-a@r1"]
    fitted_on_it = cells["cross-dataset-v1/synth-wild__to__synth-lab"]
    scored_on_it = cells["cross-dataset-v1/synth-lab__to__synth-wild"]
    assert SOURCE_OVERLAP_MARK in fitted_on_it and OVERLAP_MARK not in fitted_on_it
    assert OVERLAP_MARK in scored_on_it and SOURCE_OVERLAP_MARK not in scored_on_it
    # "eval" (fitted and scored on synth-wild): both sides, the warning as before
    assert OVERLAP_MARK in cells["linear-v1/synth-wild"]
    assert OVERLAP_MARK in cells["cross-dataset-v1/synth-wild__to__synth-wild"]


def test_few_shot_curves_tell_the_sides_apart(tmp_path):
    for shots, overlap in ((1, (SOURCE,)), (5, (TARGET,))):
        record = cross_record(f"src@{shots}shot-knn", *overlap)
        record.protocol = "few-shot"
        record.details = {"probe": "knn", "shots": shots}
        write_record(record, tmp_path)
    frame = few_shot_frame(read_results(tmp_path).records).sort_values("shots")
    assert frame[["overlap", "overlap_source"]].values.tolist() == [[False, True],
                                                                    [True, False]]
