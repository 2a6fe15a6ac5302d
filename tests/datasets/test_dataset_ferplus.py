import numpy as np
import pytest
from datasets_fixtures import make_ferplus_csv, make_ferplus_folders, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.datasets.adapters.ferplus import ferplus_labels
from fer_bench.vocabulary import BASIC

# Vote columns: neutral happiness surprise sadness anger disgust fear contempt unknown NF.
# Each case: votes, majority label (hand-applied official rule), probability label.
CASES = [
    ([10, 0, 0, 0, 0, 0, 0, 0, 0, 0], "neutral", "neutral"),
    ([0, 6, 4, 0, 0, 0, 0, 0, 0, 0], "happiness", "happiness"),      # 6 > 10/2
    ([0, 5, 5, 0, 0, 0, 0, 0, 0, 0], "unknown", "happiness"),        # 5 is not > 5; tie -> first
    ([0, 5, 4, 1, 0, 0, 0, 0, 0, 0], "happiness", "happiness"),  # single vote dropped: 5 > 9/2
    ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "unknown", "neutral"),      # all single votes: none left
    ([0, 0, 0, 0, 0, 0, 0, 3, 0, 0], "contempt", "contempt"),
    ([0, 0, 0, 0, 0, 2, 0, 0, 0, 8], "NF", "NF"),
    ([2, 0, 0, 0, 0, 0, 0, 0, 7, 1], "unknown", "unknown"),          # majority unknown
    ([0, 0, 0, 0, 4, 3, 3, 0, 0, 0], "unknown", "anger"),            # 4 is not > 10/2
]


@pytest.mark.parametrize("votes, majority, probability", CASES)
def test_label_rules_case_by_case(votes, majority, probability):
    assert ferplus_labels(np.array([votes]), "majority")[0][0] == majority
    assert ferplus_labels(np.array([votes]), "probability")[0][0] == probability


def test_soft_labels_are_normalised_emotion_votes():
    _, soft = ferplus_labels(np.array([[4, 0, 0, 1, 3, 2, 0, 0, 0, 0], [0] * 8 + [5, 5]]),
                             "majority")
    np.testing.assert_allclose(soft[0], [0.4, 0, 0, 0.1, 0.3, 0.2, 0, 0])
    np.testing.assert_allclose(soft[1], np.zeros(8))


def folder_splits():
    votes = [c[0] for c in CASES]
    return {"FER2013Train": votes[:5], "FER2013Valid": votes[5:7], "FER2013Test": votes[7:]}


def test_folder_form_majority(tmp_path):
    make_ferplus_folders(tmp_path / "ferplus", folder_splits())
    ds = load_dataset("ferplus", tmp_path)
    assert ds.classes == BASIC and ds.official_val and ds.image_family == "fer2013-images"
    m = ds.manifest
    expected = {"fer0000000": ("neutral", "train"), "fer0000001": ("happiness", "train"),
                "fer0000003": ("happiness", "train"), "fer0000005": ("contempt", "val")}
    assert dict(zip(m["id"], zip(m["label"], m["split"]))) == expected
    assert ds.info["dropped"] == {"unknown": 4, "NF": 1}
    assert m.at[0, "path"] == "FER2013Train/fer0000000.png"
    assert ds.read_image(3).shape == (1, 48, 48)
    np.testing.assert_allclose(m.loc[1, [f"soft_{c}" for c in
                                         ("happiness", "surprise")]].to_numpy(float), [0.6, 0.4])


def test_folder_form_probability(tmp_path):
    make_ferplus_folders(tmp_path, folder_splits())
    ds = load_dataset("ferplus:mode=probability", tmp_path)
    labels = dict(zip(ds.manifest["id"], ds.manifest["label"]))
    expected = {f"fer{i:07d}": c[2] for i, c in enumerate(CASES) if c[2] not in ("unknown", "NF")}
    assert labels == expected
    assert ds.info["dropped"] == {"NF": 1, "unknown": 1}


def test_csv_form_reads_votes_and_fer2013_pixels(tmp_path):
    rows = [("Training", True, CASES[0][0]), ("Training", False, [0] * 9 + [10]),
            ("PublicTest", True, CASES[1][0]), ("PrivateTest", True, CASES[5][0]),
            ("PrivateTest", True, CASES[2][0])]
    make_ferplus_csv(tmp_path, rows)
    ds = load_dataset("ferplus", tmp_path)
    assert ds.info["form"] == "csv"
    assert dict(zip(ds.manifest["id"], zip(ds.manifest["label"], ds.manifest["split"]))) == {
        "fer0000000": ("neutral", "train"), "fer0000002": ("happiness", "val"),
        "fer0000003": ("contempt", "test")}
    assert ds.info["dropped"] == {"NF": 1, "unknown": 1}
    assert ds.manifest.at[1, "path"] == "fer2013.csv#2"
    assert ds.read_image(1).shape == (1, 48, 48)


def test_csv_form_needs_fer2013_csv(tmp_path):
    make_ferplus_csv(tmp_path, [("Training", True, CASES[0][0])])
    (tmp_path / "fer2013.csv").unlink()
    with pytest.raises(DatasetError, match="fer2013.csv"):
        load_dataset("ferplus", tmp_path)


def test_bad_votes_duplicate_and_missing_image(tmp_path):
    make_ferplus_folders(tmp_path, folder_splits())
    labels = tmp_path / "FER2013Train" / "label.csv"
    lines = labels.read_text().splitlines()
    lines.append(lines[0])                                         # duplicate id, line 6
    lines.append('fer0009999.png,"(0, 0, 48, 48)",' + ",".join(["10"] + ["0"] * 9))  # no image
    lines.append('fer0009998.png,"(0, 0, 48, 48)",x,0,0,0,0,0,0,0,0,0')           # bad votes
    write_text(labels, "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"label.csv:8: bad vote counts"):
        load_dataset("ferplus", tmp_path)
    ds = load_dataset("ferplus", tmp_path, on_error="skip")
    assert ds.info["skipped"] == {"bad vote counts": 1, "duplicate id": 1,
                                  "listed image missing": 1}
    assert any("label.csv:6" in e and "label.csv:1" in e for e in ds.info["skipped_examples"])
    assert len(ds) == 4
