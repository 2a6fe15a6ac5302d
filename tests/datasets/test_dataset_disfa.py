import numpy as np
import pytest
from click.testing import CliRunner
from datasets_fixtures import DISFA_AUS, make_disfa, video_frame, write_text

from fer_bench.datasets import DatasetError, load_dataset


def au12_ramp(subject, au, frame):
    """AU 12 codes 0,1,2,3,4,5,0,... over frames 1, 2, ...; every other AU absent."""
    return (frame - 1) % 6 if au == 12 else 0


def test_every_frame_with_its_intensities(tmp_path):
    make_disfa(tmp_path / "DISFA", {"SN001": 12, "SN002": 7}, au12_ramp)
    ds = load_dataset("disfa:stride=1", tmp_path)
    m = ds.manifest
    assert len(m) == 12 + 7 and ds.classes == () and not ds.official_val
    assert set(m["label"]) == {""} and set(m["split"]) == {"train"}
    assert m["subject"].tolist() == ["SN001"] * 12 + ["SN002"] * 7
    assert [c for c in m.columns if c.startswith("au_")] == [f"au_{n}" for n in DISFA_AUS]
    row = m.set_index("id").loc["SN001_0004"]          # DISFA frame 4 = video frame 3
    assert row["path"] == "Videos_LeftCamera/LeftVideoSN001_comp.avi#3" and row["frame"] == 3
    assert row["au_12"] == pytest.approx(0.6) and row["au_1"] == 0.0     # code 3 -> 3/5
    assert m.loc[m["subject"] == "SN001", "au_12"].tolist() == pytest.approx(
        [0, .2, .4, .6, .8, 1.0, 0, .2, .4, .6, .8, 1.0])
    assert ds.face_crop["method"] == "haar" and ds.info["camera"] == "left"


def test_frames_decode_to_what_was_written(tmp_path):
    make_disfa(tmp_path, {"SN001": 20})
    ds = load_dataset("disfa:stride=1", tmp_path)
    # Backwards, forwards in steps and in a jump: every read lands on its own frame.
    for row in [19, 3, 4, 5, 9, 0, 17, 2]:
        image = ds.read_image(row)
        assert str(image.dtype) == "torch.uint8" and tuple(image.shape) == (3, 48, 64)
        want = video_frame(row).transpose(2, 0, 1).astype(int)
        assert np.abs(image.numpy().astype(int) - want).max() <= 4, row   # codec error
    assert set(ds.pixel_files()) == {str(tmp_path / "Videos_LeftCamera/LeftVideoSN001_comp.avi")}


def test_default_stride_takes_every_fifth_frame(tmp_path):
    make_disfa(tmp_path, {"SN001": 12}, au12_ramp)
    m = load_dataset("disfa", tmp_path).manifest
    assert m["id"].tolist() == ["SN001_0001", "SN001_0006", "SN001_0011"]
    assert m["frame"].tolist() == [0, 5, 10] and m["au_12"].tolist() == pytest.approx([0, 1, .8])


def test_uncoded_frames_are_nan_not_zero(tmp_path):
    # AU 4's file leaves out frames 2-3: not coded there, while coded 0 means absent.
    make_disfa(tmp_path, {"SN001": 4},
               lambda s, au, f: None if au == 4 and f in (2, 3) else 0)
    m = load_dataset("disfa:stride=1", tmp_path).manifest
    assert m["au_4"].isna().tolist() == [False, True, True, False]
    assert (m["au_1"] == 0.0).all() and not m[[f"au_{n}" for n in DISFA_AUS if n != 4]].isna().any(
        axis=None)


def test_right_camera_in_other_folder_and_letter_case(tmp_path):
    make_disfa(tmp_path, {"SN003": 3}, camera="right", video_folder="Video_RightCamera")
    (tmp_path / "Video_RightCamera/rightVideoSN003_comp.avi").rename(
        tmp_path / "Video_RightCamera/RightVideoSN003_Comp.avi")
    ds = load_dataset("disfa:camera=right,stride=1", tmp_path)
    assert ds.manifest["path"].tolist() == [f"Video_RightCamera/RightVideoSN003_Comp.avi#{i}"
                                           for i in range(3)]
    with pytest.raises(DatasetError, match="Videos_LeftCamera"):
        load_dataset("disfa", tmp_path)


def test_bad_line_names_file_and_line(tmp_path):
    make_disfa(tmp_path, {"SN001": 5})
    write_text(tmp_path / "ActionUnit_Labels/SN001/SN001_au9.txt", "1,0\n2,0\n3,7\n4,0\n5,0\n")
    with pytest.raises(DatasetError) as e:
        load_dataset("disfa", tmp_path)
    message = str(e.value)
    assert "\n" not in message and "SN001_au9.txt:3: unknown AU code" in message
    assert "expected an intensity 0-5, found '7'" in message
    write_text(tmp_path / "ActionUnit_Labels/SN001/SN001_au9.txt", "1,0\n2 0\n")
    with pytest.raises(DatasetError, match=r"SN001_au9.txt:2: malformed line; expected 2 fields"):
        load_dataset("disfa", tmp_path)
    ds = load_dataset("disfa:stride=1", tmp_path, on_error="skip")
    assert ds.info["skipped"] == {"malformed line": 1} and len(ds) == 5
    assert ds.manifest["au_9"].isna().tolist() == [False, True, True, True, True]


def test_frame_beyond_the_video(tmp_path):
    make_disfa(tmp_path, {"SN001": 4})
    write_text(tmp_path / "ActionUnit_Labels/SN001/SN001_au1.txt", "1,0\n2,0\n3,0\n4,0\n5,2\n")
    with pytest.raises(DatasetError, match=r"SN001_au1.txt:5: frame beyond the video; expected "
                                           r"frame numbers 1..4"):
        load_dataset("disfa:stride=1", tmp_path)


def test_missing_folders_and_videos_show_the_layout(tmp_path):
    (tmp_path / "Videos_LeftCamera").mkdir()
    with pytest.raises(DatasetError, match=r"(?s)ActionUnit_Labels.*expected layout:.*SN001_au1"):
        load_dataset("disfa", tmp_path)
    make_disfa(tmp_path, {"SN001": 3, "SN002": 3})
    (tmp_path / "Videos_LeftCamera/LeftVideoSN002_comp.avi").unlink()
    with pytest.raises(DatasetError, match=r"LeftVideoSN002_comp.avi: missing video"):
        load_dataset("disfa", tmp_path)
    assert set(load_dataset("disfa", tmp_path, on_error="skip").manifest["subject"]) == {"SN001"}


def test_options_are_checked():
    with pytest.raises(DatasetError, match="stride"):
        load_dataset("disfa:stride=0", "/nonexistent")
    with pytest.raises(DatasetError, match="camera"):
        load_dataset("disfa:camera=centre", "/nonexistent")


def test_info_documents_the_layout():
    from fer_bench.cli import main

    out = CliRunner().invoke(main, ["datasets", "info", "disfa"]).output
    assert "ActionUnit_Labels/SN001/SN001_au1.txt" in out and "LeftVideoSN001_comp.avi" in out
    assert "au_N = 0.4 (B, slight)" in out and "stride" in out and "terms:" in out


def test_prepare_and_preview_without_expression_classes(tmp_path):
    from PIL import Image

    from fer_bench.datasets.preview import preview_grid
    from fer_bench.datasets.report import prepare

    make_disfa(tmp_path, {"SN001": 12}, au12_ramp)
    report = prepare("disfa:stride=1,face_crop=none", tmp_path)
    assert "disfa: 12 images, 1 subjects, classes none (no expression labels)" in report.render()
    out = preview_grid(report.dataset, tmp_path / "sheet.png", n=4, cols=4)
    assert Image.open(out).size[0] == 4 * 112
