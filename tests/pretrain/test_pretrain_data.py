"""Pre-training data: spec parsing, split selection, label filtering, merging, packs."""
from __future__ import annotations

import lzma

import numpy as np
import pandas as pd
import pytest
import torch

from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.pretrain.data import (canonical_hold_out, load_packed, load_pretrain_data,
                                     merge_sources, parse_spec, source_from_dataset,
                                     without_expressions)
from fer_bench.pretrain.packed import save_packed
from fer_bench.vocabulary import COARSE


class ArrayDataset(Dataset):
    """Images made from the row number, so tests can tell which rows were kept."""

    def read_image(self, row: int) -> torch.Tensor:
        value = int(self.manifest.at[row, "id"].removeprefix("img"))
        channels = self.info.get("channels", 3)
        return torch.full((channels, 8, 8), value, dtype=torch.uint8)


def array_dataset(labels, splits, channels=3, name="toy") -> ArrayDataset:
    manifest = pd.DataFrame({"id": [f"img{i}" for i in range(len(labels))],
                             "path": [f"{i}.png" for i in range(len(labels))],
                             "label": labels, "split": splits, "subject": ""})
    return ArrayDataset(name=name, root=".", classes=("anger", "happiness", "neutral"),
                        manifest=manifest, image_family=f"{name}-images",
                        info={"channels": channels})


@pytest.mark.parametrize("spec, expected", [
    ("ferplus", ("ferplus", None, ())),
    ("ferplus:train", ("ferplus", None, ("train",))),
    ("ferplus:train+val", ("ferplus", None, ("train", "val"))),
    ("synth-wild:n=200,seed=3", ("synth-wild", "n=200,seed=3", ())),
    ("synth-wild:n=200,seed=3:test", ("synth-wild", "n=200,seed=3", ("test",))),
    (".pack/ferplus.npz.xz:train", (".pack/ferplus.npz.xz", None, ("train",))),
    ("/tmp/x.npz", ("/tmp/x.npz", None, ())),
    ("folder:/data/faces", ("folder:/data/faces", None, ())),
])
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


def test_source_keeps_the_split_and_drops_rows_without_a_coarse_group():
    ds = array_dataset(["anger", "", "happiness", "neutral", "happily surprised"],
                       ["train", "train", "train", "test", "train"])
    src = source_from_dataset(ds, (), 16, "toy")          # default: the train split
    assert src.labels == ["anger", "happiness", "happily surprised"]
    assert src.dropped == 1 and src.splits == ("train",)
    assert src.images.shape == (3, 3, 16, 16)
    assert src.images[:, 0, 0, 0].tolist() == [0, 2, 4]  # rows 0, 2, 4
    both = source_from_dataset(ds, ("train", "test"), 8, "toy:train+test")
    assert both.labels == ["anger", "happiness", "neutral", "happily surprised"]


def test_unknown_split_names_the_spec_and_the_splits_there_are():
    ds = array_dataset(["anger"], ["train"])
    with pytest.raises(DatasetError, match=r"toy:val.*no split 'val'.*train"):
        source_from_dataset(ds, ("val",), 8, "toy:val")


def test_merge_builds_one_tensor_with_fine_and_coarse_ids():
    grey = source_from_dataset(array_dataset(["neutral", "anger"], ["train"] * 2, channels=1,
                                             name="g"), (), 8, "g")
    colour = source_from_dataset(array_dataset(["happiness", "anger"], ["train"] * 2, name="c"),
                                 (), 8, "c")
    assert grey.images.shape[1] == 1
    data = merge_sources([grey, colour])
    assert data.images.shape == (4, 3, 8, 8) and data.images.dtype == torch.uint8
    assert data.fine_classes == ("neutral", "happiness", "anger")   # canonical order
    assert data.fine.tolist() == [0, 2, 1, 2]
    assert [COARSE[i] for i in data.coarse.tolist()] == ["neutral", "negative", "positive",
                                                         "negative"]
    assert data.pretrained_on == ("g", "c", "g-images", "c-images")
    assert data.summary()["coarse_counts"] == {"neutral": 1, "negative": 2, "positive": 1,
                                               "surprise": 0}
    only_grey = merge_sources([grey])
    assert only_grey.images.shape[1] == 1                            # grey stays 1 channel


def test_pack_round_trip_selects_splits_and_resizes(tmp_path):
    imgs = np.arange(5 * 6 * 6, dtype=np.uint8).reshape(5, 6, 6)
    path = save_packed(tmp_path / "toy.npz.xz", imgs,
                       labels=["anger", "", "happiness", "surprise", "neutral"],
                       splits=["train", "train", "train", "val", "val"],
                       ids=[f"i{i}" for i in range(5)],
                       meta={"dataset": "toy", "image_family": "toy-images"})
    src = load_packed(path, (), 6)
    assert src.labels == ["anger", "happiness"] and src.dropped == 1
    assert torch.equal(src.images[:, 0], torch.from_numpy(imgs[[0, 2]]))
    assert src.dataset == "toy" and src.identity.startswith("pack-sha256:")
    val = load_packed(path, ("val",), 12)
    assert val.images.shape == (2, 1, 12, 12) and val.labels == ["surprise", "neutral"]
    data = load_pretrain_data([f"{path}:train+val"], 6)
    assert len(data) == 4


def test_bad_packs_name_the_file(tmp_path):
    bad = tmp_path / "bad.npz.xz"
    bad.write_bytes(lzma.compress(b"not an npz"))
    with pytest.raises(DatasetError, match="bad.npz.xz"):
        load_packed(bad, (), 8)
    with pytest.raises(DatasetError, match="does not exist"):
        load_packed(tmp_path / "missing.npz.xz", (), 8)
    good = save_packed(tmp_path / "p.npz.xz", np.zeros((1, 4, 4), np.uint8), ["anger"],
                       ["train"], ["a"], {"dataset": "p", "image_family": "p"})
    with pytest.raises(DatasetError, match="no split 'test'"):
        load_packed(good, ("test",), 8)


def test_registry_specs_load_generated_faces():
    data = load_pretrain_data(["synth-wild:n=40,size=32"], 24)
    src = data.sources[0]
    assert src["dataset"] == "synth-wild" and src["splits"] == ["train"]
    assert 0 < len(data) < 40 and data.images.shape[1:] == (3, 24, 24)
    assert set(data.present_classes) <= set(data.fine_classes)


def test_a_held_out_expression_leaves_the_images_the_fine_classes_and_is_counted():
    a = source_from_dataset(array_dataset(["anger", "happiness", "neutral", "happiness"],
                                          ["train"] * 4), (), 8, "a")
    b = source_from_dataset(array_dataset(["happiness", "neutral"], ["train"] * 2, name="b"),
                            (), 8, "b")
    data = without_expressions(merge_sources([a, b]), canonical_hold_out(["Happy"]))
    assert data.fine_classes == ("neutral", "anger")        # canonical order, no happiness
    assert data.images[:, 0, 0, 0].tolist() == [0, 2, 1]   # rows anger, neutral | neutral
    assert [data.fine_classes[i] for i in data.fine] == ["anger", "neutral", "neutral"]
    assert data.coarse.tolist() == [COARSE.index("negative"), COARSE.index("neutral"),
                                    COARSE.index("neutral")]
    assert [(s["n_images"], s["held_out"]) for s in data.sources] == [(2, 2), (1, 1)]
    assert "happiness" not in data.present_classes


def test_holding_out_an_absent_or_unknown_expression_is_a_clear_error():
    data = merge_sources([source_from_dataset(array_dataset(["anger"], ["train"]), (), 8, "a")])
    with pytest.raises(DatasetError, match="--hold-out contempt: no training image of a"):
        without_expressions(data, ("contempt",))
    with pytest.raises(ValueError, match="--hold-out: unknown expression name 'smug'"):
        canonical_hold_out(["smug"])
    assert without_expressions(data, ()) is data
