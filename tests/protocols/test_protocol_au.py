"""The ``au`` protocol on datasets whose features are given: an oracle reaches the top,
noise the floor, and the record says what was scored and how."""
import numpy as np
import pytest

from fer_bench.protocols.base import Task, get_protocol
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset
from target_fakes import au_dataset


def _run(ds, protocol="au", **options):
    ctx = RunContext(NeverBuilt(), ArrayStore(), load=lambda spec: ds, progress=False,
                     seeds=(0, 1))
    p = get_protocol(protocol, n_boot=100, **options)
    return p.run_task(ctx, Task(protocol, (ds.name,), ds.name))


def test_oracle_features_score_near_perfect_noise_near_chance():
    record, predictions = _run(au_dataset(signal=3.0))
    assert record.headline_metric == "mean_f1"
    assert record.class_set == ["AU1", "AU4", "AU12", "AU25"]
    assert record.metrics["mean_f1"].mean > 0.9
    assert record.metrics["mean_auc"].mean > 0.97
    assert record.metrics["mean_icc"].mean > 0.85
    lo, hi = record.metrics["mean_f1"].interval
    assert lo <= record.metrics["mean_f1"].mean <= hi
    noise, _ = _run(au_dataset(signal=0.0))
    assert 0.35 < noise.metrics["mean_auc"].mean < 0.65
    assert noise.metrics["mean_icc"].mean < 0.25
    # per-sample predictions: one row per seed x scored face x AU x family
    assert set(predictions["family"]) == {"occurrence", "intensity"}
    assert set(predictions["target"]) == set(record.class_set)


def test_official_split_runs_once_and_scores_the_test_split():
    ds = au_dataset()
    record, predictions = _run(ds)
    assert record.details["test_origin"] == "official test split"
    assert len(record.per_seed) == 1                      # official val: deterministic
    test_ids = set(ds.manifest.loc[ds.manifest.split == "test", "id"])
    assert set(predictions["id"]) == test_ids
    per_au = record.details["per_target"]["AU12"]
    assert set(per_au) == {"f1", "auc", "icc", "pearson_r", "mae"}


def test_folds_score_every_row_once_per_seed_and_never_a_fitted_subject():
    ds = au_dataset(splits=False)
    record, predictions = _run(ds)
    assert record.details["test_origin"] == "3 subject folds, pooled"
    assert len(record.per_seed) == 2
    one = predictions[(predictions.seed == 0) & (predictions.target == "AU1")
                      & (predictions.family == "occurrence")]
    assert sorted(one["id"]) == sorted(ds.manifest["id"])
    for entry in record.per_seed:
        sizes = entry["details"]["divisions"]
        assert sum(d["n_test"] for d in sizes) == len(ds.manifest)


def test_rare_aus_are_skipped_with_the_reason():
    ds = au_dataset()
    ds.manifest["au_4"] = 0.0
    ds.manifest.loc[:3, "au_4"] = 0.9
    record, _ = _run(ds)
    assert "AU4" not in record.class_set
    assert "positive" in record.details["skipped"]["AU4"]


def test_occurrence_column_overrides_intensity_and_uncoded_rows_are_left_out():
    ds = au_dataset()
    ds.manifest["au_1_present"] = (ds.manifest["au_1"] >= 0.25).astype(float)
    ds.manifest.loc[ds.manifest.index[::2], ["au_1", "au_1_present"]] = np.nan
    record, predictions = _run(ds)
    scored = predictions[(predictions.target == "AU1") & (predictions.family == "occurrence")]
    coded = ds.manifest.loc[(ds.manifest.split == "test") & ds.manifest["au_1"].notna(), "id"]
    assert sorted(scored["id"]) == sorted(coded)


def test_dataset_without_aus_is_not_applicable():
    ds = blob_dataset("plain", ("happiness", "sadness"), {"train": 5, "test": 5})
    with pytest.raises(TaskNotApplicable, match="no action-unit labels"):
        _run(ds)


def test_bad_intensity_is_a_protocol_error_naming_it():
    ds = au_dataset()
    ds.manifest.loc[0, "au_12"] = 3.0                    # FACS code, not the [0, 1] scale
    with pytest.raises(ProtocolError, match="au_12"):
        _run(ds)
