"""``run_benchmark``'s overwrite modes; existing records are judged before any encoder
weights or features are touched."""
from __future__ import annotations

import json

import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.protocols.base import get_protocol
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import BASIC7


class RefusingStore:
    """A feature store that must not be asked for anything."""

    def get(self, *args, **kwargs):
        raise AssertionError("features were requested")


@pytest.fixture
def datasets():
    return {"a": blob_dataset("a", BASIC7, {"train": 4, "val": 1, "test": 2}),
            "b": blob_dataset("b", BASIC7, {"train": 4, "val": 1, "test": 2}, seed=1)}


def run(tmp_path, datasets, overwrite="missing", store=None, encoder=None, seeds=(0,),
        protocols=("knn",)):
    return run_benchmark([encoder or NeverBuilt()], list(protocols), ["a", "b"],
                         results_dir=tmp_path, overwrite=overwrite, seeds=seeds,
                         progress=False, store=store or ArrayStore(), load=datasets.__getitem__,
                         device="cpu")


def statuses(entries):
    return {e.target: e.status for e in entries}


def test_missing_keeps_current_records_without_touching_encoder_or_features(tmp_path, datasets):
    first = run(tmp_path, datasets)
    assert statuses(first) == {"a": "computed", "b": "computed"}
    before = {e.path: e.path.read_bytes() for e in first}
    second = run(tmp_path, datasets, store=RefusingStore())  # NeverBuilt raises on build
    assert statuses(second) == {"a": "kept", "b": "kept"}
    assert {e.path: e.path.read_bytes() for e in second} == before
    assert [e.record.headline for e in second] == [e.record.headline for e in first]


def test_missing_recomputes_stale_and_unreadable_records(tmp_path, datasets):
    first = run(tmp_path, datasets)
    first[0].path.write_text("{ truncated")
    entries = run(tmp_path, datasets, seeds=(0, 1))  # b: written with other seeds
    assert statuses(entries) == {"a": "computed", "b": "computed"}
    assert json.loads(first[1].path.read_text())["seeds"] == [0, 1]


@pytest.mark.parametrize("change, reason", [
    (lambda: {"seeds": (3,)}, "seeds"),
    (lambda: {"encoder": NeverBuilt(digest="other")}, "other weights"),
    (lambda: {"encoder": NeverBuilt(layer="other")}, "another encoder layer"),
    (lambda: {"protocols": (get_protocol("knn", k=3),)}, "another protocol config"),
])
def test_never_keeps_stale_records_and_says_why(tmp_path, datasets, change, reason):
    run(tmp_path, datasets)
    entries = run(tmp_path, datasets, overwrite="never", store=RefusingStore(), **change())
    assert statuses(entries) == {"a": "kept-stale", "b": "kept-stale"}
    assert all(reason in e.note for e in entries)


def test_missing_notices_a_changed_dataset(tmp_path, datasets):
    run(tmp_path, datasets)
    datasets["b"] = blob_dataset("b", BASIC7, {"train": 5, "val": 1, "test": 2}, seed=1)
    entries = run(tmp_path, datasets, overwrite="never", store=RefusingStore())
    assert statuses(entries) == {"a": "kept", "b": "kept-stale"}
    assert "dataset b changed" in entries[1].note
    assert statuses(run(tmp_path, datasets)) == {"a": "kept", "b": "computed"}


def test_never_keeps_unreadable_files(tmp_path, datasets):
    first = run(tmp_path, datasets)
    first[0].path.write_text("[]")
    entries = run(tmp_path, datasets, overwrite="never", store=RefusingStore())
    assert statuses(entries) == {"a": "kept-stale", "b": "kept"}
    assert entries[0].record is None and "unreadable" in entries[0].note
    assert first[0].path.read_text() == "[]"


def test_always_recomputes_current_records(tmp_path, datasets):
    run(tmp_path, datasets)
    store = ArrayStore()
    assert statuses(run(tmp_path, datasets, overwrite="always", store=store)) == {
        "a": "computed", "b": "computed"}
    assert len(store.calls) == 4  # train and test of both datasets


def test_bad_overwrite_mode_and_bad_protocol_fail_before_any_work(tmp_path, datasets):
    with pytest.raises(ValueError, match="overwrite must be one of"):
        run(tmp_path, datasets, overwrite="sometimes", store=RefusingStore())
    with pytest.raises(ValueError, match="at least two datasets"):
        run_benchmark([NeverBuilt()], ["knn", "cross-dataset"], ["a"], results_dir=tmp_path,
                      store=RefusingStore(), load=datasets.__getitem__, progress=False)
    assert not any(tmp_path.iterdir())


def test_pairs_without_enough_shared_classes_are_reported_not_applicable(tmp_path, datasets):
    datasets["c"] = blob_dataset("c", ("happiness", "happily surprised"), {"train": 3, "test": 2})
    entries = run_benchmark([NeverBuilt()], ["cross-dataset:Cs=1,include_diagonal=false"],
                            ["a", "c"], results_dir=tmp_path, store=ArrayStore(),
                            load=datasets.__getitem__, progress=False, seeds=(0,), device="cpu")
    assert [(e.target, e.status) for e in entries] == [("a__to__c", "not-applicable"),
                                                       ("c__to__a", "not-applicable")]
    assert "share 1 class" in entries[0].note and not any(tmp_path.iterdir())


def test_missing_notices_relabelled_rows(tmp_path, datasets):
    first = run(tmp_path, datasets)
    relabelled = blob_dataset("b", BASIC7, {"train": 4, "val": 1, "test": 2}, seed=1)
    labels = relabelled.manifest["label"]
    relabelled.manifest["label"] = labels.where(labels != "anger", "disgust").where(
        labels != "disgust", "anger")                  # swap two classes, same rows and files
    datasets["b"] = relabelled
    entries = run(tmp_path, datasets, overwrite="never", store=RefusingStore())
    assert statuses(entries) == {"a": "kept", "b": "kept-stale"}
    assert "labels" in entries[1].note and "b" in entries[1].note
    assert first[1].path.exists()


def _with_files(ds, root):
    """The blob dataset ``ds`` with a real file behind every row."""
    for path in ds.manifest["path"]:
        (root / path).write_bytes(path.encode())
    ds.root = root
    return ds


def test_missing_notices_images_whose_bytes_changed(tmp_path, datasets):
    (tmp_path / "img").mkdir()
    datasets["b"] = _with_files(datasets["b"], tmp_path / "img")
    run(tmp_path / "out", datasets)
    (tmp_path / "img" / datasets["b"].manifest.at[3, "path"]).write_bytes(b"other pixels")
    entries = run(tmp_path / "out", datasets, overwrite="never", store=RefusingStore())
    assert statuses(entries) == {"a": "kept", "b": "kept-stale"}
    assert "images of b changed" in entries[1].note


def test_records_written_before_data_digests_are_stale_and_say_so(tmp_path, datasets):
    first = run(tmp_path, datasets)
    raw = json.loads(first[0].path.read_text())
    raw["schema_version"] = 1
    for ref in raw["datasets"]:
        del ref["content_digest"], ref["labels_digest"]
    first[0].path.write_text(json.dumps(raw))
    entries = run(tmp_path, datasets, overwrite="never", store=RefusingStore())
    assert statuses(entries) == {"a": "kept-stale", "b": "kept"}
    assert "schema" in entries[0].note and "image" in entries[0].note


def test_two_datasets_whose_names_share_a_file_name_are_refused(tmp_path, datasets):
    clash = {"x y": datasets["a"], "x_y": datasets["b"]}
    with pytest.raises(ValueError, match="same record file"):
        run_benchmark([NeverBuilt()], ["knn"], ["x y", "x_y"], results_dir=tmp_path,
                      store=ArrayStore(), load=clash.__getitem__, progress=False, seeds=(0,),
                      device="cpu")
    assert not any(tmp_path.iterdir())
    run_benchmark([NeverBuilt()], ["knn"], ["x y"], results_dir=tmp_path, store=ArrayStore(),
                  load=clash.__getitem__, progress=False, seeds=(0,), device="cpu")
    with pytest.raises(ValueError, match="holds the record of 'x y'"):
        run_benchmark([NeverBuilt()], ["knn"], ["x_y"], results_dir=tmp_path,
                      store=ArrayStore(), load=clash.__getitem__, progress=False,
                      seeds=(0,), device="cpu", overwrite="always")
