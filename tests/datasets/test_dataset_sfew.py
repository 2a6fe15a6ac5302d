import pytest
from datasets_fixtures import write_image

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC7

FOLDERS = {"Angry": "anger", "Disgust": "disgust", "Fear": "fear", "Happy": "happiness",
           "Neutral": "neutral", "Sad": "sadness", "Surprise": "surprise"}


def test_train_and_val_class_folders(tmp_path):
    root = tmp_path / "SFEW"
    for c, folder in enumerate(FOLDERS):
        write_image(root / "Train" / folder / f"Movie_{c:03d}_00000005.png", c)
        write_image(root / "Train" / folder / f"Movie_{c:03d}_00000009.png", c + 1)
        write_image(root / "Val" / "Val_Aligned_Faces" / folder / f"Film_{c:03d}.png", c)
    write_image(root / "Test" / "x_001.png")                     # unlabelled: not read
    ds = load_dataset("sfew", tmp_path)
    m = ds.manifest
    assert ds.classes == BASIC7 and not ds.official_val
    assert (m["split"] == "train").sum() == 14 and (m["split"] == "test").sum() == 7
    for folder, label in FOLDERS.items():
        assert set(m.loc[m["path"].str.contains(f"/{folder}/"), "label"]) == {label}
    assert ds.face_crop["method"] == "haar"
    assert load_dataset("sfew:face_crop=none", tmp_path).face_crop is None


def test_needs_val(tmp_path):
    write_image(tmp_path / "Train" / "Happy" / "a.png")
    with pytest.raises(DatasetError, match=r"missing folder .*Val"):
        load_dataset("sfew", tmp_path)
