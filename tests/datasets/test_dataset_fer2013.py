import numpy as np
import pytest
from datasets_fixtures import face_image, fer2013_pixels, make_fer2013, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.images.decode import ImageDecodeError
from fer_bench.vocabulary import BASIC7

# FER2013's own codes: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
ROWS = [(0, "Training"), (1, "Training"), (2, "Training"), (3, "Training"), (4, "PublicTest"),
        (5, "PrivateTest"), (6, "PrivateTest")]
EXPECTED = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]


def test_rows_labels_splits_and_pixels(tmp_path):
    make_fer2013(tmp_path / "fer2013", ROWS)
    ds = load_dataset("fer2013", tmp_path)
    assert ds.classes == BASIC7 and ds.official_val and ds.image_family == "fer2013-images"
    assert ds.manifest["id"].tolist() == [f"fer{i:07d}" for i in range(7)]
    assert ds.manifest["label"].tolist() == EXPECTED
    assert ds.manifest["split"].tolist() == ["train"] * 4 + ["val", "test", "test"]
    assert ds.manifest.at[3, "path"] == "fer2013.csv#3"
    img = ds.read_image(5)
    assert img.shape == (1, 48, 48) and img.dtype.is_floating_point is False
    np.testing.assert_array_equal(img[0].numpy(), face_image(5, 48, grey=True))
    test = ds.subset("test")        # row references survive subsetting
    np.testing.assert_array_equal(test.read_image(0).numpy(), img.numpy())


def test_bad_pixels_raise_a_decode_error_naming_the_line(tmp_path):
    lines = ["emotion,pixels,Usage", f"3,{fer2013_pixels(0)},Training", "4,1 2 3,Training"]
    write_text(tmp_path / "fer2013.csv", "\n".join(lines) + "\n")
    ds = load_dataset("fer2013", tmp_path)
    ds.read_image(0)
    with pytest.raises(ImageDecodeError, match=r"fer2013.csv line 3: pixels must be 2304"):
        ds.read_image(1)


def test_unknown_code_and_usage(tmp_path):
    lines = ["emotion,pixels,Usage", "7,0,Training", "1,0,Validation", "2,0,Training"]
    write_text(tmp_path / "fer2013.csv", "\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"fer2013.csv:2: unknown label code"):
        load_dataset("fer2013", tmp_path)
    ds = load_dataset("fer2013", tmp_path, on_error="skip")
    assert ds.manifest["id"].tolist() == ["fer0000002"]
    assert ds.info["skipped"] == {"unknown label code": 1, "unknown Usage": 1}


def test_missing_csv(tmp_path):
    with pytest.raises(DatasetError, match="fer2013.csv"):
        load_dataset("fer2013", tmp_path)


def test_image_folder_form_with_original_labels(tmp_path):
    from datasets_fixtures import make_ferplus_folders

    votes = [[10] + [0] * 9]
    make_ferplus_folders(tmp_path / "ferplus", {"FER2013Train": votes * 2, "FER2013Valid": votes,
                                                "FER2013Test": votes})
    write_text(tmp_path / "ferplus" / "fer2013_original_labels.csv",
               "name,usage,emotion,match_corr,n_identical\n"
               "fer0000000.png,Training,0,0.99,1\nfer0000001.png,Training,6,0.98,2\n"
               "fer0000002.png,PublicTest,3,0.97,1\nfer0000003.png,PrivateTest,1,0.99,1\n")
    ds = load_dataset("fer2013", tmp_path)         # no fer2013.csv: the images form
    assert ds.info["form"] == "images" and ds.image_family == "fer2013-images"
    m = ds.manifest
    assert m["label"].tolist() == ["anger", "neutral", "happiness", "disgust"]
    assert m["split"].tolist() == ["train", "train", "val", "test"]
    assert m.at[2, "path"] == "ferplus/FER2013Valid/fer0000002.png"
    assert m["n_identical"].tolist() == [1, 2, 1, 1]
    assert ds.read_image(3).shape == (1, 48, 48)


def test_content_digest_follows_the_pixels_in_the_csv(tmp_path):
    csv = make_fer2013(tmp_path / "fer2013", ROWS) / "fer2013.csv"
    before = load_dataset("fer2013", tmp_path).subset("test").content_digest()
    csv.write_text(csv.read_text().replace(fer2013_pixels(6), fer2013_pixels(1)))
    assert load_dataset("fer2013", tmp_path).subset("test").content_digest() != before
