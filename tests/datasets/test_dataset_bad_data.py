"""Bad input across adapters: clear errors naming the file, or counted skips."""
import pytest
from datasets_fixtures import make_rafdb, write_image

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.datasets.policy import BadData
from fer_bench.datasets.validation import check_images


def test_on_error_must_be_raise_or_skip():
    with pytest.raises(DatasetError, match="on_error"):
        BadData("x", "ignore")


def test_skip_records_counts_and_a_few_messages():
    bad = BadData("x", "skip")
    for i in range(15):
        bad("unknown label code", f"labels.txt:{i + 1}", "a code in [1, 2]")
    assert bad.record()["skipped"] == {"unknown label code": 15}
    assert len(bad.record()["skipped_examples"]) == 10
    assert bad.record()["skipped_examples"][0] == ("x: labels.txt:1: unknown label code; "
                                                   "expected a code in [1, 2]")


def test_listed_image_missing_names_line_and_path(tmp_path):
    make_rafdb(tmp_path, "basic",
               [("train_00001.jpg", 1), ("train_00002.jpg", 2), ("test_0001.jpg", 3)])
    (tmp_path / "basic/Image/aligned/train_00002_aligned.jpg").unlink()
    with pytest.raises(DatasetError, match=r"list_patition_label.txt:2: listed image missing; "
                                           r"expected an image file at .*train_00002_aligned.jpg"):
        load_dataset("rafdb", tmp_path)
    ds = load_dataset("rafdb", tmp_path, on_error="skip")
    assert ds.manifest["id"].tolist() == ["train_00001", "test_0001"]
    assert ds.info["skipped"] == {"listed image missing": 1}


def test_duplicate_ids_name_both_lines(tmp_path):
    make_rafdb(tmp_path, "basic",
               [("train_00001.jpg", 1), ("test_0001.jpg", 3), ("train_00001.jpg", 4)])
    with pytest.raises(DatasetError,
                       match=r"list_patition_label.txt:3: duplicate id.*already listed "
                                           r"at .*list_patition_label.txt:1"):
        load_dataset("rafdb", tmp_path)
    ds = load_dataset("rafdb", tmp_path, on_error="skip")
    assert ds.manifest["label"].tolist() == ["surprise", "disgust"]     # the first listing wins


def test_corrupt_and_truncated_images_are_found_by_decoding(tmp_path):
    make_rafdb(tmp_path, "basic",
               [("train_00001.jpg", 1), ("train_00002.jpg", 2), ("test_0001.jpg", 3)])
    aligned = tmp_path / "basic/Image/aligned"
    (aligned / "train_00002_aligned.jpg").write_bytes(b"this is not a jpeg")
    data = (aligned / "test_0001_aligned.jpg").read_bytes()
    (aligned / "test_0001_aligned.jpg").write_bytes(data[: len(data) // 3])
    ds = load_dataset("rafdb", tmp_path)            # cheap load: no decoding
    assert len(ds) == 3
    failures = check_images(ds)
    assert sorted(failures["id"]) == ["test_0001", "train_00002"]
    assert failures["error"].str.contains("cannot decode image").all()


def test_unknown_option_is_an_error(tmp_path):
    write_image(tmp_path / "KA.AN1.39.tiff")
    with pytest.raises(DatasetError, match=r"unknown options \['colour'\]"):
        load_dataset("jaffe:colour=rgb", tmp_path)
    with pytest.raises(DatasetError, match="face_crop='mtcnn'"):
        load_dataset("jaffe:face_crop=mtcnn", tmp_path)


def test_missing_data_root_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("FER_BENCH_DATA", raising=False)
    with pytest.raises(DatasetError, match="FER_BENCH_DATA"):
        load_dataset("ferplus")
