"""Extra plots: the frames hold the records' numbers, the embedding map is a PCA of the
cached test features the record names, and every figure is a real PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from fer_bench.features.entry import read_entry
from fer_bench.plots_extra import (
    class_view_frame,
    embedding_frame,
    embedding_map,
    few_shot_curves,
    few_shot_frame,
    load_record_files,
)
from fer_bench.probes.normalize import l2_normalize
from fer_bench.records import read_predictions
from fer_bench.runner import run_benchmark

FIXTURES = Path(__file__).parent / "fixtures" / "records" / "results"
WILD, LAB = "synth-wild:n=100,size=32", "synth-lab:n=112,size=32"


def drawn(path: Path) -> bool:
    """A real drawing, not a blank canvas: many distinct RGBA colours."""
    image = (mpimg.imread(path) * 255).astype(np.uint8)
    return len(np.unique(np.ascontiguousarray(image[..., :4]).view(np.uint32))) > 30


def test_class_views_skip_pairs_and_test_selected_records():
    frame = class_view_frame(load_record_files(FIXTURES))
    assert set(frame["protocol"]) == {"linear-v1", "knn-v1"}   # linear-online is stamped
    row = frame[(frame["encoder"] == "enc-a@r1") & (frame["protocol"] == "linear-v1")
                & (frame["target"] == "synth-wild")].iloc[0]
    assert row["confusion"].shape == (len(row["class_set"]),) * 2
    assert row["recall"]["neutral"] == pytest.approx(
        row["confusion"][0, 0] / row["confusion"][0].sum())


def test_few_shot_curves_from_a_frame(tmp_path):
    frame = pd.DataFrame({"encoder": ["a@1"] * 4 + ["b@1"] * 4, "dataset": "d",
                          "probe": ["knn", "knn", "linear", "linear"] * 2,
                          "shots": [1, 5] * 4, "mean": np.linspace(0.2, 0.9, 8),
                          "std": 0.05, "draws": 5, "short": False,
                          "overlap": [True] * 4 + [False] * 4})
    assert drawn(few_shot_curves(frame, "t", tmp_path / "curves.png"))


@pytest.fixture(scope="module")
def pixel_records(tmp_path_factory):
    root = tmp_path_factory.mktemp("emb")
    run_benchmark(["pixels"], ["knn", "few-shot:shots=1/2,draws=2,n_boot=50"], [WILD, LAB],
                  results_dir=root / "records", cache_dir=root / "cache", seeds=(0,),
                  progress=False, device="cpu", num_workers=0)
    return root


def test_embedding_is_the_pca_of_the_cached_test_features(pixel_records):
    records = load_record_files(pixel_records / "records")
    store = pixel_records / "cache" / "features"
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
            feats = read_entry(store / key[:2] / key)
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
    records = load_record_files(pixel_records / "records")
    shots = few_shot_frame(records)
    assert sorted(shots["shots"].unique()) == [1, 2] and set(shots["draws"]) == {2}
    assert len(shots) == 2 * 2 * 2                       # datasets x probes x shots
    assert not shots["overlap"].any()                     # pixels was never pre-trained
    points = embedding_frame(records, "pixels@grey24", pixel_records / "cache" / "features")
    assert drawn(embedding_map(points, "t", tmp_path / "map.png"))
    nothing = embedding_frame(records, "pixels@grey24", tmp_path / "empty-store")
    assert nothing.empty
