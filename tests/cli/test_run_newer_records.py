"""A record written by a newer fer-bench (a higher ``schema_version``) is never replaced
by an older one's recomputation, unless ``overwrite="always"``."""
from __future__ import annotations

import json
import re

import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.records import SCHEMA_VERSION
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import BASIC7


@pytest.fixture
def datasets():
    return {"a": blob_dataset("a", BASIC7, {"train": 4, "val": 1, "test": 2}),
            "b": blob_dataset("b", BASIC7, {"train": 4, "val": 1, "test": 2}, seed=1)}


def run(tmp_path, datasets, overwrite="missing", store=None):
    return run_benchmark([NeverBuilt()], ["knn"], ["a", "b"], results_dir=tmp_path,
                         overwrite=overwrite, seeds=(0,), progress=False,
                         store=store or ArrayStore(), load=datasets.__getitem__, device="cpu")


def from_the_future(path):
    raw = json.loads(path.read_text())
    raw["schema_version"] = 99
    raw["a_field_of_the_future"] = {"kept": True}
    path.write_text(json.dumps(raw))
    return path.read_bytes()


def test_default_run_refuses_to_overwrite_a_newer_record_before_any_work(tmp_path, datasets):
    first = run(tmp_path, datasets)
    newer = from_the_future(first[0].path)
    other = first[1].path.read_bytes()
    store = ArrayStore()
    try:
        run(tmp_path, datasets, store=store)
    except ValueError as e:                        # NewerRecordError
        message = str(e)
    else:
        message = ""
    assert re.search(r"newer fer-bench.*schema_version 99.*--overwrite always", message), message
    assert str(first[0].path) in message
    assert first[0].path.read_bytes() == newer and first[1].path.read_bytes() == other
    assert store.calls == []                       # refused before anything was computed


def test_never_keeps_a_newer_record_and_says_so(tmp_path, datasets):
    first = run(tmp_path, datasets)
    newer = from_the_future(first[0].path)
    entries = run(tmp_path, datasets, overwrite="never")
    assert [e.status for e in entries] == ["kept-stale", "kept"]
    assert "newer fer-bench" in entries[0].note
    assert first[0].path.read_bytes() == newer


def test_always_replaces_a_newer_record(tmp_path, datasets):
    first = run(tmp_path, datasets)
    from_the_future(first[0].path)
    entries = run(tmp_path, datasets, overwrite="always")
    assert [e.status for e in entries] == ["computed", "computed"]
    assert json.loads(first[0].path.read_text())["schema_version"] == SCHEMA_VERSION
