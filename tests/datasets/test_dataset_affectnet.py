import numpy as np
import pytest
from datasets_fixtures import (AFFECTNET_HEADER, make_affectnet_csv, make_affectnet_npy,
                               write_image, write_text)

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC, BASIC7

# AffectNet's own codes: 0 neutral, 1 happiness, 2 sadness, 3 surprise, 4 fear, 5 disgust,
# 6 anger, 7 contempt, 8 none, 9 uncertain, 10 no-face.
CODE = {0: "neutral", 1: "happiness", 2: "sadness", 3: "surprise", 4: "fear", 5: "disgust",
        6: "anger", 7: "contempt"}


def csv_tree(root):
    train = [(f"10/img{c}.jpg", c) for c in range(11)]
    val = [("20/v0.jpg", 7), ("20/v1.jpg", 0)]
    return make_affectnet_csv(root, {"training.csv": train, "validation.csv": val})


def test_csv_release_8_classes(tmp_path):
    ds = load_dataset("affectnet", csv_tree(tmp_path / "AffectNet").parent)
    m = ds.manifest.set_index("id")
    assert ds.classes == BASIC and ds.info["release"] == "csv" and not ds.official_val
    for c, name in CODE.items():
        assert m.at[f"10/img{c}.jpg", "label"] == name
        assert m.at[f"10/img{c}.jpg", "split"] == "train"
    assert m.loc[["20/v0.jpg", "20/v1.jpg"], "split"].tolist() == ["test", "test"]
    assert ds.info["dropped"] == {"none": 1, "uncertain": 1, "no-face": 1}
    assert m.at["10/img3.jpg", "path"] == "Manually_Annotated_Images/10/img3.jpg"
    row = ds.manifest.index[ds.manifest["id"] == "10/img3.jpg"][0]
    assert ds.box(row) == (8, 8, 48, 48) and ds.face_crop == {"method": "box", "margin": 0.0}


def test_csv_release_7_class_view_drops_contempt(tmp_path):
    ds = load_dataset("affectnet:classes=7", csv_tree(tmp_path))
    assert ds.classes == BASIC7 and "contempt" not in set(ds.manifest["label"])
    assert len(ds) == 7 + 1
    assert ds.info["dropped"]["contempt (not in the 7-class view)"] == 2


def test_npy_release(tmp_path):
    make_affectnet_npy(tmp_path, {"train_set": [("0", 1), ("1", 7), ("2", 9)],
                                  "val_set": [("0", 6)]})
    ds = load_dataset("affectnet", tmp_path)
    assert ds.info["release"] == "npy" and ds.face_crop is None
    got = dict(zip(ds.manifest["id"], zip(ds.manifest["label"], ds.manifest["split"])))
    assert got == {"train_set/0": ("happiness", "train"), "train_set/1": ("contempt", "train"),
                   "val_set/0": ("anger", "test")}
    assert ds.info["dropped"] == {"uncertain": 1}


def test_npy_release_missing_annotation(tmp_path):
    make_affectnet_npy(tmp_path, {"train_set": [("0", 1), ("1", 2)], "val_set": [("0", 6)]})
    (tmp_path / "train_set" / "annotations" / "1_exp.npy").unlink()
    with pytest.raises(DatasetError, match=r"1_exp.npy: missing annotation"):
        load_dataset("affectnet", tmp_path)
    assert len(load_dataset("affectnet", tmp_path, on_error="skip")) == 2


def test_csv_unknown_code_names_line(tmp_path):
    csv_tree(tmp_path)
    text = (tmp_path / "validation.csv").read_text() + '20/v2.jpg,1,1,5,5,"",12,0,0\n'
    write_text(tmp_path / "validation.csv", text)
    with pytest.raises(DatasetError,
                       match=r"validation.csv:4: unknown label code; expected a code in 0..10"):
        load_dataset("affectnet", tmp_path)


def test_csv_missing_column(tmp_path):
    write_text(tmp_path / "training.csv", AFFECTNET_HEADER.replace("expression,", "") + "\n")
    with pytest.raises(DatasetError, match=r"lacks columns \['expression'\]"):
        load_dataset("affectnet", tmp_path)


# --- valence and arousal ----------------------------------------------------------------

def test_csv_valence_arousal_with_not_coded(tmp_path):
    train = [("1/a.jpg", 1, 0.5, -1.0), ("1/b.jpg", 2, -2, 0.3), ("1/c.jpg", 8, -2, -2)]
    make_affectnet_csv(tmp_path, {"training.csv": train, "validation.csv": [("2/d.jpg", 0)]})
    m = load_dataset("affectnet", tmp_path).manifest.set_index("id")
    assert m.at["1/a.jpg", "valence"] == 0.5 and m.at["1/a.jpg", "arousal"] == -1.0
    assert np.isnan(m.at["1/b.jpg", "valence"]) and m.at["1/b.jpg", "arousal"] == 0.3  # -2: NaN
    assert m.at["2/d.jpg", "valence"] == pytest.approx(0.1)       # the builder's default
    assert "1/c.jpg" not in m.index                                # code 8 (none): dropped


def test_csv_valence_out_of_range_names_the_line(tmp_path):
    make_affectnet_csv(tmp_path, {"training.csv": [("1/a.jpg", 1), ("1/b.jpg", 2, 0.2, 1.5)],
                                  "validation.csv": [("2/d.jpg", 0)]})
    with pytest.raises(DatasetError) as e:
        load_dataset("affectnet", tmp_path)
    assert "\n" not in str(e.value) and ("training.csv:3: valence/arousal out of range; expected "
                                         "arousal in [-1, 1] or -2 (not coded), found 1.5"
                                         ) in str(e.value)
    ds = load_dataset("affectnet", tmp_path, on_error="skip")
    assert len(ds) == 2 and ds.info["skipped"] == {"valence/arousal out of range": 1}


def test_csv_without_valence_columns_loads_without_them(tmp_path):
    header = AFFECTNET_HEADER.replace(",valence,arousal", "")
    write_text(tmp_path / "training.csv", header + '\n1/a.jpg,8,8,48,48,"",1\n')
    write_text(tmp_path / "validation.csv", header + '\n2/d.jpg,8,8,48,48,"",0\n')
    for rel in ("1/a.jpg", "2/d.jpg"):
        write_image(tmp_path / "Manually_Annotated_Images" / rel)
    ds = load_dataset("affectnet", tmp_path)
    assert len(ds) == 2 and not {"valence", "arousal"} & set(ds.manifest.columns)


def test_npy_valence_arousal(tmp_path):
    make_affectnet_npy(tmp_path, {"train_set": [("0", 1, "0.75", "-0.25"), ("1", 2, "-2", "0.5")],
                                  "val_set": [("0", 6)]})
    m = load_dataset("affectnet", tmp_path).manifest.set_index("id")
    assert (m.at["train_set/0", "valence"], m.at["train_set/0", "arousal"]) == (0.75, -0.25)
    assert np.isnan(m.at["train_set/1", "valence"]) and m.at["train_set/1", "arousal"] == 0.5
    assert (m.at["val_set/0", "valence"], m.at["val_set/0", "arousal"]) == (0.25, -0.5)


def test_npy_valence_arousal_bad_or_missing(tmp_path):
    make_affectnet_npy(tmp_path, {"train_set": [("0", 1, "3.0", "0")], "val_set": [("0", 6)]})
    with pytest.raises(DatasetError, match=r"0_val.npy: valence/arousal out of range; expected "
                                           r"valence in \[-1, 1\] or -2"):
        load_dataset("affectnet", tmp_path)
    make_affectnet_npy(tmp_path, {"train_set": [("0", 1)], "val_set": [("0", 6)]})
    (tmp_path / "val_set/annotations/0_aro.npy").unlink()
    with pytest.raises(DatasetError, match=r"val_set/annotations/0_aro.npy: missing annotation; "
                                           r"expected the arousal of"):
        load_dataset("affectnet", tmp_path)
