"""FERPlus majority labels on the real data equal the published counts
(listed in docs/datasets.md). Runs with -m realdata when FER_BENCH_DATA holds ferplus/."""
import pytest

from fer_bench.datasets import load_dataset

PUBLISHED = {  # train / valid / test
    "neutral": (8733, 1180, 1083), "happiness": (7284, 862, 892), "surprise": (3136, 411, 394),
    "sadness": (3022, 348, 382), "anger": (2098, 289, 269), "fear": (536, 60, 86),
    "contempt": (120, 16, 15), "disgust": (116, 25, 16)}


@pytest.mark.realdata
def test_ferplus_majority_counts_match_the_published_ones():
    ds = load_dataset("ferplus")                      # root from FER_BENCH_DATA
    m = ds.manifest
    counts = m.groupby(["label", "split"]).size()
    for label, (train, val, test) in PUBLISHED.items():
        assert (counts[label, "train"], counts[label, "val"], counts[label, "test"]) == \
            (train, val, test), label
    assert len(ds) == sum(map(sum, PUBLISHED.values()))
    assert ds.image_family == "fer2013-images" and ds.official_val


@pytest.mark.realdata
def test_fer2013_labels_for_the_same_images():
    # README: 28,558 / 3,579 / 3,573 images in FER2013Train / Valid / Test, all labelled.
    ds = load_dataset("fer2013")
    assert ds.info["form"] == "images"
    assert ds.manifest["split"].value_counts().to_dict() == {"train": 28558, "val": 3579,
                                                             "test": 3573}
    assert set(ds.manifest["label"]) == set(ds.classes)
