"""Result records: round trip, layout, atomic writes, older schema versions."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from protocol_fakes import make_record

from fer_bench.records import (SCHEMA_VERSION, Flags, MetricSummary, RecordKey, RecordSchemaError,
                               find_record_files, pair_target, read_predictions, read_record,
                               record_path, split_pair, write_record)
from fer_bench.records.io import predictions_path, safe_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "records"


def test_round_trip_keeps_every_field(tmp_path):
    record = make_record()
    path = write_record(record, tmp_path)
    assert read_record(path) == record


def test_nan_is_written_as_json_null_and_read_back_as_nan(tmp_path):
    path = write_record(make_record(recall_nan=True), tmp_path)
    raw = json.loads(path.read_text())  # strict JSON: no NaN token
    assert raw["per_class_recall"] == {"neutral": 0.5, "happiness": None}
    assert math.isnan(read_record(path).per_class_recall["happiness"])


def test_layout_puts_revision_and_protocol_version_in_the_path(tmp_path):
    record = make_record(target=pair_target("synth-lab", "ferplus:mode=majority"))
    path = write_record(record, tmp_path)
    assert path == (tmp_path / "my_pkg.enc_make" / "v2" / "linear-v3"
                    / "synth-lab__to__ferplus_mode=majority.json")
    assert split_pair(record.target) == ("synth-lab", "ferplus:mode=majority")
    assert split_pair("synth-wild") is None
    assert record_path(tmp_path, record.key) == path
    assert record.key == RecordKey("my_pkg.enc:make", "v2", "linear", 3, record.target)


def test_safe_name_refuses_names_with_nothing_left():
    assert safe_name("a/b c") == "a_b_c"
    with pytest.raises(ValueError):
        safe_name("///")


def test_predictions_are_written_next_to_the_record(tmp_path):
    preds = pd.DataFrame({"id": ["001", "002"], "seed": [0, 0],
                          "y_true": ["neutral", "happiness"], "y_pred": ["neutral", "neutral"]})
    path = write_record(make_record(), tmp_path, preds)
    assert read_record(path).predictions_file == "synth-wild.predictions.csv.gz"
    pd.testing.assert_frame_equal(read_predictions(path), preds)  # ids stay strings


def test_a_failed_write_leaves_the_previous_record_and_no_temporary_files(tmp_path):
    path = write_record(make_record(), tmp_path)
    before = path.read_bytes()

    class Exploding(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_record(make_record(), tmp_path, Exploding({"id": ["1"]}))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert find_record_files(tmp_path) == [path]


def test_a_pre_release_schema_0_record_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"schema_version": 0, "encoder": "pixels"}))
    with pytest.raises(RecordSchemaError, match=r"old.json: unknown schema_version 0"):
        read_record(path)


def test_the_v1_fixture_record_loads_as_the_current_schema():
    record = read_record(FIXTURES / "results" / "pixels" / "grey24" / "linear-v1"
                         / "synth-wild.json")
    assert record.schema_version == SCHEMA_VERSION
    assert record.key == RecordKey("pixels", "grey24", "linear", 1, "synth-wild")
    assert record.headline == MetricSummary(0.5, 0.02, (0.48, 0.52), (0.44, 0.56))
    assert record.per_class_recall == {"neutral": 0.6, "happiness": 0.7, "sadness": 0.2}
    assert record.flags == Flags(test_selected=False, pretraining_overlap=())
    assert all(d.content_digest == "unknown" for d in record.datasets)


def test_records_newer_than_this_fer_bench_are_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(RecordSchemaError, match="newer"):
        read_record(path)


@pytest.mark.parametrize("text, message", [("{not json", "not a readable JSON"),
                                           ("[1, 2]", "expected a JSON object"),
                                           ('{"target": "x"}', "schema_version"),
                                           (f'{{"schema_version": {SCHEMA_VERSION}, '
                                            '"target": "x"}', "does not match")])
def test_bad_files_raise_an_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(RecordSchemaError, match=message) as err:
        read_record(path)
    assert "broken.json" in str(err.value)


def test_predictions_path_replaces_the_json_suffix():
    assert predictions_path("a/b/x.json") == Path("a/b/x.predictions.csv.gz")


def test_schema_version_1_record_loads_with_unknown_data_digests(tmp_path):
    raw = make_record().to_dict()
    raw["schema_version"] = 1
    for ref in raw["datasets"]:
        del ref["content_digest"], ref["labels_digest"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw))
    record = read_record(path)
    assert record.schema_version == SCHEMA_VERSION >= 2
    digests = [(d.content_digest, d.labels_digest) for d in record.datasets]
    assert digests == [("unknown", "unknown")]
    assert record.datasets[0].manifest_digest == "d" * 64


PREDS = pd.DataFrame({"id": ["001", "002"], "seed": [0, 0],
                      "y_true": ["neutral", "happiness"], "y_pred": ["neutral", "neutral"]})


def test_a_recomputed_record_with_the_same_numbers_leaves_the_files_untouched(tmp_path):
    import dataclasses
    import os
    first = make_record()
    path = write_record(first, tmp_path, PREDS.copy())
    pred = predictions_path(path)
    os.utime(path, (1, 1))
    os.utime(pred, (1, 1))
    before = (path.read_bytes(), pred.read_bytes())
    # the same numbers computed again later, elsewhere, from another weights folder
    again = dataclasses.replace(make_record(), created="2031-01-01T00:00:00+00:00",
                                timings={"total_s": 99.0},
                                environment={"python": "3.99", "device": "cuda"})
    again.encoder = {**again.encoder, "extra": {"weights": "/elsewhere/weights"}}
    assert write_record(again, tmp_path, PREDS.copy()) == path
    assert (path.read_bytes(), pred.read_bytes()) == before
    assert path.stat().st_mtime == 1 and pred.stat().st_mtime == 1


@pytest.mark.parametrize("change", ["metric", "prediction", "encoder"])
def test_a_record_whose_numbers_moved_is_rewritten(tmp_path, change):
    import dataclasses
    path = write_record(make_record(), tmp_path, PREDS.copy())
    record, preds = make_record(), PREDS.copy()
    if change == "metric":
        record = dataclasses.replace(record, metrics={
            k: dataclasses.replace(v, mean=v.mean + 0.01) for k, v in record.metrics.items()})
    elif change == "prediction":
        preds.loc[1, "y_pred"] = "happiness"
    else:
        record.encoder = {**record.encoder, "weights_digest": "f" * 64}
    write_record(record, tmp_path, preds)
    assert read_record(path) == record
    pd.testing.assert_frame_equal(read_predictions(path), preds)


def test_predictions_bytes_do_not_depend_on_when_they_were_written(tmp_path):
    a = predictions_path(write_record(make_record(), tmp_path / "a", PREDS.copy()))
    b = predictions_path(write_record(make_record(), tmp_path / "b", PREDS.copy()))
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("weights, kept", [
    ("/work/x/encoders/weights/crs-cont-cpu-ferplus-48", "crs-cont-cpu-ferplus-48"),
    ("C:\\Users\\me\\w\\mine.safetensors", "mine.safetensors"),
    ("mine", "mine"),
])
def test_records_keep_no_path_of_the_machine(weights, kept):
    from fer_bench.records.schema import portable_encoder
    info = {"name": "crs-cont", "extra": {"weights": weights, "epochs": 3}}
    assert portable_encoder(info) == {"name": "crs-cont",
                                      "extra": {"weights": kept, "epochs": 3}}
    assert info["extra"]["weights"] == weights          # the encoder's own info untouched
