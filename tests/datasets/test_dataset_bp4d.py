import math

import pytest
from click.testing import CliRunner
from datasets_fixtures import BP4D_AUS, make_bp4d, write_text

from fer_bench.datasets import DatasetError, load_dataset


def occ(default=0, **codes):
    """One AU_OCC line's codes in BP4D_AUS order: ``default`` except e.g. au12=1."""
    return [codes.get(f"au{au}", default) for au in BP4D_AUS]


def nan_or(value):
    return "nan" if isinstance(value, float) and math.isnan(value) else value


# F001_T1: frames 100-103. AU 24 is never coded (9 throughout): it gets no column.
LINES = [occ(au24=9), occ(au12=1, au6=1, au24=9), occ(au12=9, au24=9), occ(au1=1, au24=9)]
AU12_LEVELS = [0, 3, 9, 5]       # frame 103: intensity E although occurrence says 0


def test_occurrence_and_intensity_columns(tmp_path):
    make_bp4d(tmp_path / "BP4D", {"F001_T1": LINES, "M002_T8": [occ(au24=9)]},
              {"F001_T1": {12: AU12_LEVELS}, "M002_T8": {12: [1]}})
    ds = load_dataset("bp4d:stride=1", tmp_path)
    m = ds.manifest.set_index("id")
    assert ds.classes == () and not ds.official_val and len(m) == 5
    assert set(m["label"]) == {""} and set(m["split"]) == {"train"}
    assert sorted(c for c in m.columns if c.startswith("au_")) == sorted(
        [f"au_{au}_present" for au in BP4D_AUS if au != 24] + ["au_12"])
    assert m["au_12_present"].map(nan_or).tolist() == [0.0, 1.0, "nan", 0.0, 0.0]
    assert m["au_12"].map(nan_or).tolist() == pytest.approx([0.0, 0.6, "nan", 1.0, 0.2])
    assert m.at["F001_T1_0101", "au_6_present"] == 1.0 and m.at["F001_T1_0103", "au_1_present"] == 1
    row = m.loc["F001_T1_0102"]
    assert (row["subject"], row["sequence"], row["task"], row["frame"]) == ("F001", "F001_T1",
                                                                           "T1", 102)
    assert row["path"] == "Sequences/F001/T1/0102.jpg"
    assert m.at["M002_T8_0100", "subject"] == "M002"
    assert ds.face_crop["method"] == "haar" and ds.info["intensity_aus"] == [12]


def test_default_stride_and_uncoded_frames(tmp_path):
    lines = [occ() for _ in range(11)]
    lines[5] = occ(default=9)                   # frame 105: coded for nothing
    make_bp4d(tmp_path, {"F003_T2": lines})
    ds = load_dataset("bp4d", tmp_path)
    assert ds.manifest["frame"].tolist() == [100, 110]        # 100, 105 (dropped), 110
    assert ds.info["dropped"] == {"not coded": 1}
    assert "au_12" not in ds.manifest.columns            # no AU_INT/: occurrence only


def test_other_folders_and_unpadded_frame_names(tmp_path):
    make_bp4d(tmp_path, {"F001_T1": LINES[:2]}, frames_folder="2DFrames",
              coding="AUCoding/AUCoding", name=lambda frame: f"{frame}.jpg")
    ds = load_dataset("bp4d:stride=1", tmp_path)
    assert ds.manifest["path"].tolist() == ["2DFrames/F001/T1/100.jpg", "2DFrames/F001/T1/101.jpg"]
    assert tuple(ds.read_image(0).shape) == (3, 32, 32)


def test_bad_lines_name_file_and_line(tmp_path):
    make_bp4d(tmp_path, {"F001_T1": LINES}, {"F001_T1": {12: AU12_LEVELS}})
    occ_file = tmp_path / "AUCoding/AU_OCC/F001_T1.csv"
    text = occ_file.read_text().splitlines()
    write_text(occ_file, "\n".join(text[:3] + [text[3].replace(",9,", ",2,", 1)] + text[4:]))
    with pytest.raises(DatasetError) as e:
        load_dataset("bp4d", tmp_path)
    assert "\n" not in str(e.value)
    assert "F001_T1.csv:4: malformed line; expected a whole frame number, then 0, 1 or 9" in str(
        e.value)
    ds = load_dataset("bp4d:stride=1", tmp_path, on_error="skip")
    assert ds.info["skipped"] == {"malformed line": 1} and len(ds) == 3

    write_text(tmp_path / "AUCoding/AU_INT/AU12/F001_T1_AU12.csv", "100,0\n101,6\n")
    with pytest.raises(DatasetError, match=r"F001_T1_AU12.csv:2: unknown AU code; expected an "
                                           r"intensity 0-5 or 9 \(not coded\), found '6'"):
        load_dataset("bp4d", tmp_path, on_error="raise")
    write_text(tmp_path / "AUCoding/AU_INT/AU12/F001_T1_AU12.csv", "100,0\n")
    write_text(occ_file, "frame,AU1,two\n100,0,0\n")
    with pytest.raises(DatasetError, match=r"F001_T1.csv:1: malformed header"):
        load_dataset("bp4d", tmp_path)


def test_missing_folders_files_and_images(tmp_path):
    (tmp_path / "Sequences").mkdir()
    with pytest.raises(DatasetError, match=r"(?s)AUCoding.*expected layout:.*AU_OCC/F001_T1.csv"):
        load_dataset("bp4d", tmp_path)
    make_bp4d(tmp_path, {"F001_T1": LINES, "F002_T1": LINES}, {"F001_T1": {12: AU12_LEVELS}})
    with pytest.raises(DatasetError, match=r"AU12/F002_T1_AU12.csv: missing intensity file"):
        load_dataset("bp4d", tmp_path)
    ds = load_dataset("bp4d:stride=1", tmp_path, on_error="skip")
    f002 = ds.manifest[ds.manifest["subject"] == "F002"]
    assert len(f002) == 4 and f002["au_12"].isna().all()      # not coded, never 0
    (tmp_path / "Sequences/F001/T1/0102.jpg").unlink()
    with pytest.raises(DatasetError, match=r"F001_T1.csv:4: frame image missing; expected an "
                                           r"image numbered 102"):
        load_dataset("bp4d:stride=1", tmp_path, on_error="raise")


def test_info_documents_the_layout():
    from fer_bench.cli import main

    out = CliRunner().invoke(main, ["datasets", "info", "bp4d"]).output
    assert "AUCoding/AU_OCC/F001_T1.csv" in out and "AU_INT/AU06/F001_T1_AU06.csv" in out
    assert "au_N_present = 0.0 / 1.0" in out and "9 -> NaN (not coded)" in out
