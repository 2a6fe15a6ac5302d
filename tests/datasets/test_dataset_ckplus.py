import numpy as np
import pytest
from datasets_fixtures import make_ckplus, write_ckplus_facs, write_text

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


# --- FACS codes -------------------------------------------------------------------------

def facs_tree(root, folder="FACS"):
    make_ckplus(root, SEQUENCES)
    # S005/001's peak is frame 6: AU 1 at C (3), AU 12 present without intensity (0),
    # AU 27 at B (2), which the renderer does not draw. S011/001 has no emotion file.
    write_ckplus_facs(root, "S005", "001", 6, [(1, 3), (12, 0), (27, 2)], folder)
    write_ckplus_facs(root, "S011", "001", 5, [(6, 4), (12, 5)], folder)
    return root


def test_facs_codes_on_the_peak_frame_only(tmp_path):
    m = load_dataset("ckplus", facs_tree(tmp_path)).manifest.set_index("id")
    peak = m.loc["S005_001_00000006"]
    assert peak["au_1"] == pytest.approx(0.6) and peak["au_27"] == pytest.approx(0.4)
    assert peak["au_2"] == 0.0 and peak["au_26"] == 0.0        # unlisted = absent
    assert np.isnan(peak["au_12"]) and peak["au_12_present"] == 1.0
    assert "au_1_present" not in m.columns                     # occurrence only where needed
    others = m.drop(index="S005_001_00000006")
    assert others.filter(like="au_").isna().all(axis=None)      # uncoded frames: NaN, never 0
    assert "S011_001_00000005" not in m.index
    assert {"au_1", "au_12", "au_25", "au_43"} <= set(m.columns)   # the renderer's AUs too


def test_facs_sequences_add_unlabelled_peak_frames(tmp_path):
    ds = load_dataset("ckplus:facs_sequences=true", facs_tree(tmp_path, "FACS_labels/FACS"))
    row = ds.manifest.set_index("id").loc["S011_001_00000005"]
    assert (row["label"], row["subject"], row["sequence"], row["frame"]) == ("", "S011",
                                                                            "S011_001", 4)
    assert row["au_6"] == pytest.approx(0.8) and row["au_12"] == 1.0 and row["au_1"] == 0.0
    assert len(ds) == 16 + 1 and len(ds.labelled()) == 16
    assert ds.info["facs"] == 2 and ds.info["facs_sequences"]


def test_without_facs_folder_no_au_columns(tmp_path):
    make_ckplus(tmp_path, SEQUENCES)
    ds = load_dataset("ckplus", tmp_path)
    assert not [c for c in ds.manifest.columns if c.startswith("au_")]
    assert ds.info["facs"] is None
    with pytest.raises(DatasetError, match=r"(?s)facs_sequences=true needs the FACS codes.*"
                                           r"expected layout:.*_facs.txt"):
        load_dataset("ckplus:facs_sequences=true", tmp_path)


def test_malformed_facs_line_names_file_and_line(tmp_path):
    facs_tree(tmp_path)
    path = tmp_path / "FACS/S005/001/S005_001_00000006_facs.txt"
    write_text(path, path.read_text() + "   1.2000000e+01   7.0000000e+00\n")
    with pytest.raises(DatasetError) as e:
        load_dataset("ckplus", tmp_path)
    assert "\n" not in str(e.value) and ("S005_001_00000006_facs.txt:4: malformed line; expected "
                                         "an AU number and its intensity 0-5") in str(e.value)


def test_info_documents_facs():
    from click.testing import CliRunner

    from fer_bench.cli import main

    out = CliRunner().invoke(main, ["datasets", "info", "ckplus"]).output
    assert "FACS/S005/001/S005_001_00000011_facs.txt" in out and "facs_sequences" in out
    assert "without it the dataset loads with no AU columns" in out
