import pytest
from datasets_fixtures import make_ckplus

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC

# CK+ codes: 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise.
SEQUENCES = [("S005", "001", 6, "3.0000000e+00"), ("S010", "002", 5, "1.0000000e+00"),
             ("S010", "004", 7, "2.0000000e+00"), ("S011", "001", 5, None),   # unlabelled
             ("S014", "003", 4, "7.0000000e+00")]


def test_last_three_frames_labelled_first_frame_neutral(tmp_path):
    make_ckplus(tmp_path / "CK+", SEQUENCES)
    ds = load_dataset("ckplus", tmp_path)
    m = ds.manifest
    assert ds.classes == BASIC and not ds.official_val and set(m["split"]) == {"train"}
    assert len(m) == 4 * 4                       # 4 labelled sequences x (1 neutral + 3 apex)
    s5 = m[m["sequence"] == "S005_001"].set_index("id")["label"].to_dict()
    assert s5 == {"S005_001_00000001": "neutral", "S005_001_00000004": "disgust",
                  "S005_001_00000005": "disgust", "S005_001_00000006": "disgust"}
    labels = m.groupby("sequence")["label"].agg(lambda s: sorted(set(s) - {"neutral"})).to_dict()
    assert labels == {"S005_001": ["disgust"], "S010_002": ["anger"], "S010_004": ["contempt"],
                      "S014_003": ["surprise"]}
    assert set(m["subject"]) == {"S005", "S010", "S014"}
    assert m.at[0, "path"] == "cohn-kanade-images/S005/001/S005_001_00000001.png"
    assert ds.face_crop["method"] == "haar" and ds.face_crop["no_face"] == "full-image"


def test_options_without_neutral_and_crop(tmp_path):
    make_ckplus(tmp_path, SEQUENCES)
    ds = load_dataset("ckplus:neutral=false,frames=2,face_crop=none", tmp_path)
    assert ds.classes == BASIC[1:] and len(ds) == 4 * 2 and ds.face_crop is None
    assert "neutral" not in set(ds.manifest["label"])


def test_bad_code_and_short_sequence(tmp_path):
    make_ckplus(tmp_path, SEQUENCES + [("S020", "001", 5, "8.0"), ("S021", "001", 3, "1.0")])
    with pytest.raises(DatasetError, match=r"S020_001_00000005_emotion.txt:1: unknown label code"):
        load_dataset("ckplus", tmp_path)
    ds = load_dataset("ckplus", tmp_path, on_error="skip")
    assert ds.info["skipped"] == {"unknown label code": 1, "sequence too short": 1}
    assert len(ds) == 16


def test_missing_emotion_folder(tmp_path):
    (tmp_path / "cohn-kanade-images").mkdir()
    with pytest.raises(DatasetError, match="Emotion"):
        load_dataset("ckplus", tmp_path)
