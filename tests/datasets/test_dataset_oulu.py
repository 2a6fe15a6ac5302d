import pytest
from datasets_fixtures import write_image

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC6

FOLDERS = {"Anger": "anger", "Disgust": "disgust", "Fear": "fear", "Happiness": "happiness",
           "Sadness": "sadness", "Surprise": "surprise"}


def make_oulu(root, lighting="Strong", frames=5):
    for p, subject in enumerate(["P001", "P002"]):
        for c, folder in enumerate(FOLDERS):
            for f in range(frames):
                write_image(root / "OriginalImg" / "VL" / lighting / subject / folder
                            / f"{f:03d}.jpeg", p + c + f)


def test_last_three_frames_of_vl_strong(tmp_path):
    make_oulu(tmp_path / "Oulu-CASIA")
    make_oulu(tmp_path / "Oulu-CASIA", lighting="Dark", frames=4)
    ds = load_dataset("oulu", tmp_path)
    m = ds.manifest
    assert ds.classes == BASIC6 and len(m) == 2 * 6 * 3 and set(m["split"]) == {"train"}
    assert set(m["subject"]) == {"P001", "P002"}
    for folder, label in FOLDERS.items():
        rows = m[m["sequence"] == f"P001/{folder}"]
        assert sorted(rows["path"].str[-8:]) == ["002.jpeg", "003.jpeg", "004.jpeg"]
        assert set(rows["label"]) == {label}
    dark = load_dataset("oulu:lighting=Dark,frames=1", tmp_path)
    assert len(dark) == 12 and dark.manifest["path"].str.endswith("003.jpeg").all()


def test_unknown_expression_folder(tmp_path):
    make_oulu(tmp_path)
    write_image(tmp_path / "OriginalImg/VL/Strong/P003/Contempt/000.jpeg")
    with pytest.raises(DatasetError, match=r"P003/Contempt: unknown class folder"):
        load_dataset("oulu", tmp_path)


def test_missing_tree(tmp_path):
    with pytest.raises(DatasetError, match=r"OriginalImg/VL/Strong"):
        load_dataset("oulu", tmp_path)
