"""fer-bench weights say what they were trained on split by split: a header's
``pretrained_on`` is narrowed to the splits its ``data_sources`` list, so the shipped
crs-cont (FERPlus train) overlaps FERPlus test nowhere."""
from __future__ import annotations

from fer_bench.encoder_registry import get_encoder
from fer_bench.weights import pretrained_splits

FERPLUS_TRAIN = {"dataset": "ferplus", "image_family": "fer2013-images", "splits": ["train"]}


def test_sources_narrow_the_names_to_their_splits():
    meta = {"pretrained_on": ["ferplus", "fer2013-images"], "data_sources": [FERPLUS_TRAIN]}
    assert pretrained_splits(meta) == ("ferplus/train", "fer2013-images/train")
    two = {**FERPLUS_TRAIN, "splits": ["train", "val"]}
    assert pretrained_splits({"pretrained_on": ["ferplus"], "data_sources": [two]}) == (
        "ferplus/train", "ferplus/val", "fer2013-images/train", "fer2013-images/val")


def test_names_without_a_source_stay_bare_every_split():
    assert pretrained_splits({"pretrained_on": ["synth-wild", "ferplus"]}) == (
        "synth-wild", "ferplus")
    meta = {"pretrained_on": ["ferplus", "imagenet"], "data_sources": [FERPLUS_TRAIN]}
    assert pretrained_splits(meta) == ("ferplus/train", "fer2013-images/train", "imagenet")


def test_the_shipped_crs_cont_was_pre_trained_on_ferplus_train_only():
    info = get_encoder("crs-cont", revision="cpu-ferplus-48").info
    assert info.pretrained_on == ("ferplus/train", "fer2013-images/train")
