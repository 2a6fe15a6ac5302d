import re

import pytest
from datasets_fixtures import write_image, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.datasets.registry import record_name
from fer_bench.datasets.spec import parse_spec


def test_synonyms_subject_regex_and_canonical_order(tmp_path):
    for folder in ("angry", "Happy", "surprised", "fearful", "disgusted", "sad", "neutral"):
        write_image(tmp_path / folder / f"S01_{folder}.png")
        write_image(tmp_path / folder / "deeper" / f"S02_{folder}.jpg")
    write_text(tmp_path / "Happy" / "notes.txt", "ignored")
    ds = load_dataset(f"folder:{tmp_path}", subject_regex=r"^(S\d+)_")
    assert ds.classes == ("neutral", "happiness", "sadness", "surprise", "fear", "disgust", "anger")
    assert len(ds) == 14 and set(ds.manifest["split"]) == {"train"} and not ds.official_val
    labels = dict(zip(ds.manifest["path"], ds.manifest["label"]))
    assert labels["angry/S01_angry.png"] == "anger"
    assert labels["Happy/deeper/S02_Happy.jpg"] == "happiness"
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


def test_options_follow_the_path_in_the_spec(tmp_path):
    write_image(tmp_path / "happy" / "S07_a.png")
    write_image(tmp_path / "sad" / "S08_b.png")
    ds = load_dataset(rf"folder:{tmp_path}:subject_regex=^(S\d{{1,2}})_,name=lab-mine")
    assert ds.name == "lab-mine" and sorted(ds.manifest["subject"]) == ["S07", "S08"]
    crop = load_dataset(f"folder:{tmp_path}:face_crop=haar,no_face=error").face_crop
    assert crop["no_face"] == "error"
    with pytest.raises(DatasetError, match="unknown options"):
        load_dataset(f"folder:{tmp_path}:colour=blue")


def test_default_name_is_the_base_name_and_a_digest_of_the_folder(tmp_path):
    for folder in ("x y", "x_y"):
        write_image(tmp_path / folder / "happy" / "a.png")
    spaced, underscored = (load_dataset(f"folder:{tmp_path / f}").name for f in ("x y", "x_y"))
    assert re.fullmatch(r"folder-x_y-[0-9a-f]{8}", spaced)
    assert re.fullmatch(r"folder-x_y-[0-9a-f]{8}", underscored) and spaced != underscored
    assert load_dataset(f"folder:{tmp_path / 'x y'}").name == spaced            # stable
    assert record_name(f"folder:{tmp_path / 'x y'}") == spaced
    named = record_name(f"folder:{tmp_path / 'x y'}:name=mine,face_crop=haar")
    assert named == "mine:face_crop=haar"
    assert record_name("ferplus:mode=majority") == "ferplus:mode=majority"


@pytest.mark.parametrize("spec, name, path, options", [
    ("folder:/data/x", "folder", "/data/x", {}),
    ("folder:/data/x:name=y,face_crop=haar", "folder", "/data/x",
     {"name": "y", "face_crop": "haar"}),
    (r"folder:C:\data\x", "folder", r"C:\data\x", {}),
    (r"folder:C:\data\x:name=y", "folder", r"C:\data\x", {"name": "y"}),
    ("folder:D:/x:subject_regex=^(?:S)(\\d{2,3})_,name=z", "folder", "D:/x",
     {"subject_regex": "^(?:S)(\\d{2,3})_", "name": "z"}),
    ("synth-wild:n=20,seed=3", "synth-wild", None, {"n": "20", "seed": "3"}),
    ("ferplus", "ferplus", None, {}),
])
def test_spec_grammar(spec, name, path, options):
    parsed = parse_spec(spec, takes_path=spec.startswith("folder:"))
    assert (parsed.name, parsed.path, parsed.options) == (name, path, options)


@pytest.mark.parametrize("spec", ["folder:", "folder:/x:name", "synth-wild:n", "folder:/x:=3"])
def test_bad_specs_say_what_is_expected(spec):
    with pytest.raises(DatasetError, match="expected"):
        parse_spec(spec, takes_path=spec.startswith("folder:"))
