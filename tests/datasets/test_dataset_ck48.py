import pytest
from datasets_fixtures import write_image

from fer_bench.datasets import DatasetError, load_dataset

FOLDERS = {"anger": "anger", "contempt": "contempt", "disgust": "disgust", "fear": "fear",
           "happy": "happiness", "sadness": "sadness", "surprise": "surprise"}


def test_class_folders_and_subjects(tmp_path):
    root = tmp_path / "CK+48"
    for i, folder in enumerate(FOLDERS):
        for frame in (17, 18):
            write_image(root / folder / f"S{10 + i % 3:03d}_{i:03d}_{frame:08d}.png", i, 48,
                        grey=True)
    ds = load_dataset("ck48", tmp_path)
    assert ds.classes == ("happiness", "sadness", "surprise", "fear", "disgust", "anger",
                          "contempt")
    assert len(ds) == 14 and set(ds.manifest["split"]) == {"train"} and not ds.official_val
    for folder, label in FOLDERS.items():
        rows = ds.manifest[ds.manifest["path"].str.startswith(f"{folder}/")]
        assert len(rows) == 2 and set(rows["label"]) == {label}
    assert set(ds.manifest["subject"]) == {"S010", "S011", "S012"}
    assert ds.manifest.set_index("id").at["happy/S011_004_00000017", "subject"] == "S011"
    assert ds.image_family == "ckplus" and ds.face_crop is None


def test_unknown_folder(tmp_path):
    write_image(tmp_path / "happy" / "S010_001_00000001.png")
    write_image(tmp_path / "bored" / "S010_001_00000002.png")
    with pytest.raises(DatasetError, match=r"bored: unknown class folder"):
        load_dataset("ck48", tmp_path)
    ds = load_dataset("ck48", tmp_path, on_error="skip")
    assert len(ds) == 1 and ds.info["skipped"] == {"unknown class folder": 1}
