import pytest

from datasets_fixtures import write_image, write_text
from fer_bench.datasets import DatasetError, load_dataset


def test_synonyms_subject_regex_and_canonical_order(tmp_path):
    for folder in ("angry", "Happy", "surprised", "fearful", "disgusted", "sad", "neutral"):
        write_image(tmp_path / folder / f"S01_{folder}.png")
        write_image(tmp_path / folder / "deeper" / f"S02_{folder}.jpg")
    write_text(tmp_path / "Happy" / "notes.txt", "ignored")
    ds = load_dataset(f"folder:{tmp_path}", subject_regex=r"^(S\d+)_")
    assert ds.classes == ("neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger")
    assert len(ds) == 14 and set(ds.manifest["split"]) == {"train"} and not ds.official_val
    labels = dict(zip(ds.manifest["path"], ds.manifest["label"]))
    assert labels["angry/S01_angry.png"] == "anger" and labels["Happy/deeper/S02_Happy.jpg"] == "happiness"
    assert set(ds.manifest["subject"]) == {"S01", "S02"} and ds.face_crop is None


def test_split_folders(tmp_path):
    for split in ("train", "val", "test"):
        for folder in ("happy", "sad"):
            write_image(tmp_path / split / folder / f"{split}_{folder}.png")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.official_val and sorted(ds.splits) == ["test", "train", "val"]
    assert set(ds.subset("val").manifest["label"]) == {"happiness", "sadness"}


def test_named_subject_group_and_missing_subject(tmp_path):
    write_image(tmp_path / "happy" / "x_id=a7_1.png")
    write_image(tmp_path / "happy" / "nosubject.png")
    with pytest.raises(DatasetError, match=r"nosubject.png: no subject in file name"):
        load_dataset(f"folder:{tmp_path}", subject_regex=r"id=(?P<subject>\w\d)")
    ds = load_dataset(f"folder:{tmp_path}", subject_regex=r"id=(?P<subject>\w\d)", on_error="skip")
    assert ds.manifest["subject"].tolist() == ["a7"]


def test_unknown_class_and_haar_option(tmp_path):
    write_image(tmp_path / "happy" / "a.png")
    write_image(tmp_path / "bored" / "b.png")
    with pytest.raises(DatasetError, match=r"bored: unknown class folder"):
        load_dataset(f"folder:{tmp_path}")
    ds = load_dataset(f"folder:{tmp_path}", on_error="skip", face_crop="haar", no_face="error")
    assert ds.face_crop["no_face"] == "error" and len(ds) == 1


def test_missing_root(tmp_path):
    with pytest.raises(DatasetError, match="missing folder"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
