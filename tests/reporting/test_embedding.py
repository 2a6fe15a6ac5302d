"""Embedding maps: a PCA of the cached test features the records name, read through the
feature store; ``fer-bench plot`` and ``fer-bench report`` find them under --cache-dir."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from reporting_support import drawn
from sklearn.decomposition import PCA

from fer_bench.cli import main
from fer_bench.features.entry import read_entry
from fer_bench.features.store import FeatureStore
from fer_bench.probes.normalize import l2_normalize
from fer_bench.records import read_predictions
from fer_bench.reporting.embedding import embedding_figure, embedding_frame
from fer_bench.reporting.few_shot import few_shot_frame
from fer_bench.reporting.results import read_results
from fer_bench.reporting.style import save
from fer_bench.runner import run_benchmark

WILD, LAB = "synth-wild:n=100,size=32", "synth-lab:n=112,size=32"


@pytest.fixture(scope="module")
def pixel_records(tmp_path_factory):
    root = tmp_path_factory.mktemp("emb")
    run_benchmark(["pixels"], ["knn", "few-shot:shots=1/2,draws=2,n_boot=50"], [WILD, LAB],
                  results_dir=root / "records", cache_dir=root / "cache", seeds=(0,),
                  progress=False, device="cpu", num_workers=0)
    return root


def test_embedding_is_the_pca_of_the_cached_test_features(pixel_records):
    records = read_results(pixel_records / "records").records
    store = FeatureStore.in_cache(pixel_records / "cache")
    frame = embedding_frame(records, "pixels@grey24", store, per_dataset=15, seed=3)
    assert frame["dataset"].value_counts().to_dict() == {WILD: 15, LAB: 15}
    # rebuild: the same rows of the same entries, L2-normalised, PCA'd
    blocks, labels = [], []
    rng = np.random.default_rng(3)
    for spec in sorted([WILD, LAB]):
        path, record = next((p, r) for p, r in records
                            if r.protocol == "knn" and r.target == spec)
        truth = read_predictions(path).set_index("id")["y_true"]
        for key in record.feature_keys:
            feats = read_entry(store.entry_path(key))
            ids = np.asarray(feats.ids).astype(str)
            rows = np.flatnonzero(pd.Index(truth.index).get_indexer(ids) >= 0)
            if len(rows):
                rows = np.sort(rng.permutation(rows)[:15])
                blocks.append(l2_normalize(np.asarray(feats.X[rows])))
                labels += truth.loc[ids[rows]].tolist()
                break
    expected = PCA(n_components=2, random_state=3).fit_transform(np.concatenate(blocks))
    np.testing.assert_allclose(frame[["x", "y"]].to_numpy(), expected, rtol=1e-5, atol=1e-6)
    assert frame["expression"].tolist() == labels


def test_embedding_map_and_few_shot_frame_of_a_real_run(pixel_records, tmp_path):
    records = read_results(pixel_records / "records").records
    shots = few_shot_frame(records)
    assert sorted(shots["shots"].unique()) == [1, 2] and set(shots["draws"]) == {2}
    assert len(shots) == 2 * 2 * 2                       # datasets x probes x shots
    assert not shots["overlap"].any()                     # pixels was never pre-trained
    points = embedding_frame(records, "pixels@grey24",
                             FeatureStore.in_cache(pixel_records / "cache"))
    assert drawn(save(embedding_figure(points, "t"), tmp_path / "map.png"))
    nothing = embedding_frame(records, "pixels@grey24", FeatureStore(tmp_path / "empty-store"))
    assert nothing.empty


@pytest.mark.parametrize("command", ["plot", "report"])
def test_plot_and_report_read_the_features_under_cache_dir(pixel_records, tmp_path, command):
    def run(cache):
        result = CliRunner().invoke(main, [command, "--results-dir",
                                           str(pixel_records / "records"), "--out",
                                           str(tmp_path / cache), "--cache-dir",
                                           str(pixel_records / cache)])
        assert result.exit_code == 0, result.output
        return sorted(p.name for p in (tmp_path / cache).glob("embedding_*"))

    assert run("cache") == ["embedding_pixels@grey24.png"]
    assert run("elsewhere") == []          # another cache folder holds no features
