import pytest
from datasets_fixtures import write_image

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.datasets.label_maps import CLASSES

FOLDERS = {
    "Neutral": "neutral", "Happy": "happiness", "Sad": "sadness", "Fearful": "fear",
    "Angry": "anger", "Surprised": "surprise", "Disgusted": "disgust",
    "HappilySurprised": "happily surprised", "HappilyDisgusted": "happily disgusted",
    "SadlyFearful": "sadly fearful", "SadlyAngry": "sadly angry",
    "SadlySurprised": "sadly surprised", "SadlyDisgusted": "sadly disgusted",
    "FearfullyAngry": "fearfully angry", "FearfullySurprised": "fearfully surprised",
    "FearfullyDisgusted": "fearfully disgusted", "AngrilySurprised": "angrily surprised",
    "AngrilyDisgusted": "angrily disgusted", "DisgustedlySurprised": "disgustedly surprised",
    "Appalled": "appalled", "Hatred": "hatred", "Awed": "awed"}


def test_22_categories_and_subjects(tmp_path):
    for c, folder in enumerate(FOLDERS):
        for subject in ("001", "002"):
            write_image(tmp_path / "CFEE" / folder / f"{subject}_{c:02d}.jpg", c)
    ds = load_dataset("cfee", tmp_path)
    assert len(FOLDERS) == 22 and ds.classes == CLASSES["cfee"] and len(ds) == 44
    for folder, label in FOLDERS.items():
        in_folder = ds.manifest["path"].str.startswith(folder + "/")
        assert set(ds.manifest.loc[in_folder, "label"]) == {label}
    assert set(ds.manifest["subject"]) == {"001", "002"}
    assert ds.face_crop["method"] == "haar"


def test_spelling_variants_and_subject_regex(tmp_path):
    write_image(tmp_path / "happily_surprised" / "subj07-a.jpg")
    write_image(tmp_path / "sadly angry" / "subj08-b.jpg")
    ds = load_dataset("cfee", tmp_path, subject_regex=r"subj(\d+)")
    assert dict(zip(ds.manifest["label"], ds.manifest["subject"])) == {
        "happily surprised": "07", "sadly angry": "08"}


def test_category_outside_cfee(tmp_path):
    write_image(tmp_path / "Contempt" / "001_a.jpg")
    with pytest.raises(DatasetError, match=r"Contempt: unknown class folder"):
        load_dataset("cfee", tmp_path)
