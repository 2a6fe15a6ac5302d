"""The feature store in one process: layout, reuse, validation, resume, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from features_support import TinyEncoder, png_dataset, write_images

from fer_bench.features.store import Features, FeatureStore, InvalidEntryWarning
from fer_bench.images.decode import ImageDecodeError, decode_file


@pytest.fixture
def dataset(tmp_path):
    write_images(tmp_path / "img", 20)
    return png_dataset(tmp_path / "img")


@pytest.fixture
def store(tmp_path):
    return FeatureStore(tmp_path / "cache", shard_size=8)


def _get(store, dataset, encoder=None, **kw):
    kw.setdefault("batch_size", 4)
    kw.setdefault("num_workers", 0)
    return store.get(encoder or TinyEncoder(), dataset, progress=False, **kw)


def test_entry_layout_and_contents(store, dataset):
    enc = TinyEncoder()
    feats = _get(store, dataset, enc)
    assert isinstance(feats, Features) and feats.key == store.key(enc.info, dataset)
    path = store.root / feats.key[:2] / feats.key
    assert feats.path == path
    assert sorted(p.name for p in path.iterdir()) == ["features.npy", "ids.npy", "meta.json"]
    # no temporary or partial directories left behind
    assert [p.name for p in path.parent.iterdir() if p.suffix != ".lock"] == [feats.key]
    assert isinstance(feats.X, np.memmap) and feats.X.dtype == np.float32
    assert feats.X.shape == (20, 8) and feats.dim == 8 and len(feats) == 20
    assert feats.ids.tolist() == dataset.manifest["id"].tolist()
    expected = torch.cat([enc.embed(decode_file(dataset.image_path(i))[None])
                          for i in range(20)]).numpy()
    np.testing.assert_allclose(feats.X, expected, rtol=1e-6, atol=1e-6)
    meta = json.loads((path / "meta.json").read_text())
    assert meta["key"] == feats.key and (meta["n"], meta["dim"]) == (20, 8)
    assert meta["encoder"]["name"] == "tiny" and meta["dataset"]["name"] == dataset.name
    assert meta["timings"]["embedded_rows"] == 20 and meta["versions"]["torch"]


def test_second_get_reuses_the_entry_without_loading_weights(store, dataset):
    first = _get(store, dataset)
    again = TinyEncoder()
    # Batch size, worker count and device are not part of the key.
    second = _get(store, dataset, again, batch_size=7, num_workers=1)
    assert not again.loaded
    assert store.lookup(again.info, dataset).key == first.key and not again.loaded
    np.testing.assert_array_equal(first.X, second.X)


def test_lookup_misses_without_computing(store, dataset):
    enc = TinyEncoder()
    assert store.lookup(enc.info, dataset) is None
    assert not enc.loaded and not store.root.exists()


def test_splits_are_separate_entries_in_manifest_order(store, dataset):
    enc = TinyEncoder()
    whole = _get(store, dataset, enc)
    parts = store.get_splits(enc, dataset, ["train", "test"], batch_size=4, num_workers=0,
                             progress=False)
    assert parts["train"].key != parts["test"].key != whole.key
    assert parts["train"].ids.tolist() == dataset.subset("train").manifest["id"].tolist()
    np.testing.assert_allclose(np.concatenate([parts["train"].X, parts["test"].X]), whole.X,
                               rtol=1e-6, atol=1e-6)


def _corrupt_truncate(path, feats):
    with open(path / "features.npy", "r+b") as f:
        f.truncate(200)


def _corrupt_bytes(path, feats):  # finite garbage: only the content digest can tell
    data = bytearray((path / "features.npy").read_bytes())
    data[-16:] = np.ones(4, np.float32).tobytes()
    (path / "features.npy").write_bytes(bytes(data))


def _corrupt_nan(path, feats):
    X = np.load(path / "features.npy")
    X[3, 2] = np.nan
    np.save(path / "features.npy", X)


def _corrupt_ids(path, feats):
    ids = feats.ids.copy()
    ids[[0, 1]] = ids[[1, 0]]
    np.save(path / "ids.npy", ids)


def _corrupt_meta(path, feats):
    meta = json.loads((path / "meta.json").read_text())
    meta["dim"] = 9
    (path / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("corrupt", [_corrupt_truncate, _corrupt_bytes, _corrupt_nan,
                                     _corrupt_ids, _corrupt_meta])
def test_invalid_entry_is_recomputed_never_used(store, dataset, corrupt):
    feats = _get(store, dataset)
    good = np.array(feats.X)
    corrupt(feats.path, feats)
    enc = TinyEncoder()
    with pytest.warns(InvalidEntryWarning, match="recomputed"):
        assert store.lookup(enc.info, dataset) is None
    with pytest.warns(InvalidEntryWarning):
        again = _get(store, dataset, enc)
    assert enc.loaded and again.meta["timings"]["embedded_rows"] == 20
    np.testing.assert_array_equal(again.X, good)


def test_entry_of_other_rows_is_not_used(store, dataset):
    """ids.npy must equal the dataset's ids in order, even if the key file were reused."""
    feats = _get(store, dataset)
    other = dataset.subset([True] * len(dataset))
    other.manifest["id"] = other.manifest["id"][::-1].to_numpy()
    from fer_bench.features.entry import InvalidEntry, read_entry
    with pytest.raises(InvalidEntry, match="differs from the dataset at row 0"):
        read_entry(feats.path, ids=other.manifest["id"].to_numpy(str))


def test_interrupted_extraction_resumes_from_finished_shards(store, dataset):
    reference = np.array(_get(FeatureStore(store.root.parent / "ref", shard_size=8),
                              dataset).X)
    failing = TinyEncoder(nan_from_batch=4)  # batches of 4, shards of 8: 2 shards finish
    with pytest.raises(FloatingPointError) as err:
        _get(store, dataset, failing)
    message = str(err.value)
    assert "'tiny'" in message and dataset.name in message and "2 of 3 shards" in message
    key = store.key(failing.info, dataset)
    partial = store.root / key[:2] / f"{key}.partial"
    assert sorted(p.name for p in partial.glob("rows-*.npy")) == [
        "rows-0000000000-0000000008.npy", "rows-0000000008-0000000016.npy"]
    assert store.lookup(failing.info, dataset) is None

    resumed = _get(store, dataset)
    assert resumed.meta["timings"] == {**resumed.meta["timings"], "embedded_rows": 4,
                                       "resumed_rows": 16}
    np.testing.assert_array_equal(resumed.X, reference)
    assert not partial.exists()


def test_bad_image_error_names_the_file_and_keeps_finished_shards(store, dataset):
    dataset.image_path(17).write_bytes(b"not an image")
    with pytest.raises(ImageDecodeError, match=r"img0017\.png") as err:
        _get(store, dataset)
    assert "2 of 3 shards" in str(err.value) and "rerun resumes" in str(err.value)
    key = store.key(TinyEncoder().info, dataset)
    assert len(list((store.root / key[:2] / f"{key}.partial").glob("rows-*.npy"))) == 2


def test_empty_dataset_gives_an_empty_entry(store, dataset):
    empty = dataset.subset([False] * len(dataset))
    feats = _get(store, empty)
    assert feats.X.shape == (0, 8) and len(feats.ids) == 0


def test_images_replaced_in_place_are_extracted_again_not_reused(store, tmp_path):
    write_images(tmp_path / "swap", 6)
    first = _get(store, png_dataset(tmp_path / "swap"))
    write_images(tmp_path / "swap", 6, seed=1)      # same names, other pixels
    encoder = TinyEncoder()
    second = _get(store, png_dataset(tmp_path / "swap"), encoder)
    assert second.key != first.key and encoder.loaded
    assert not np.allclose(np.asarray(first.X), np.asarray(second.X))
