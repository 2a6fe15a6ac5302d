import pytest
from datasets_fixtures import AFFECTNET_HEADER, make_affectnet_csv, make_affectnet_npy, write_text

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
