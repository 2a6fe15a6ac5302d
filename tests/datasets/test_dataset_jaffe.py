import pytest
from datasets_fixtures import write_image, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC7

CODES = {"AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness", "NE": "neutral",
         "SA": "sadness", "SU": "surprise"}


def test_codes_and_subjects_from_file_names(tmp_path):
    root = tmp_path / "jaffe"
    names = [f"{subj}.{code}{k}.{30 + n}.tiff" for n, (subj, code, k) in enumerate(
        [("KA", "AN", 1), ("KA", "DI", 2), ("KL", "FE", 1), ("KL", "HA", 3), ("KM", "NE", 1),
         ("KM", "SA", 2), ("YM", "SU", 1)])]
    for i, name in enumerate(names):
        write_image(root / name, i, 64, grey=True)
    write_text(root / "README_FIRST.txt", "terms")
    ds = load_dataset("jaffe", tmp_path)
    assert ds.classes == BASIC7 and len(ds) == 7 and not ds.official_val
    for name in names:
        row = ds.manifest.set_index("id").loc[name[:-5]]
        assert row["label"] == CODES[name[3:5]] and row["subject"] == name[:2]
    assert ds.read_image(0).shape == (1, 64, 64)        # TIFF through the PIL fallback
    assert ds.face_crop["method"] == "haar"


def test_unexpected_file_name(tmp_path):
    write_image(tmp_path / "KA.AN1.39.tiff")
    write_image(tmp_path / "KA.XX1.40.tiff")
    write_image(tmp_path / "scan01.tiff")
    with pytest.raises(DatasetError, match=r"KA.XX1.40.tiff: unknown label code"):
        load_dataset("jaffe", tmp_path)
    ds = load_dataset("jaffe", tmp_path, on_error="skip")
    assert len(ds) == 1
    assert ds.info["skipped"] == {"unknown label code": 1, "unexpected file name": 1}
