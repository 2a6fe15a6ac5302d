import pytest
from datasets_fixtures import make_rafdb, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.vocabulary import BASIC7, RAF_COMPOUND

# RAF-DB's own codes (datasets.md) for the basic list.
RAF = {1: "surprise", 2: "fear", 3: "disgust", 4: "happiness", 5: "sadness", 6: "anger",
       7: "neutral"}


@pytest.fixture
def raf_root(tmp_path):
    root = tmp_path / "RAF-DB"
    entries = [(f"train_{i:05d}.jpg", code) for i, code in enumerate([1, 2, 3, 4, 5, 6, 7, 4], 1)]
    entries += [(f"test_{i:04d}.jpg", code) for i, code in enumerate([7, 1, 4], 1)]
    make_rafdb(root, "basic", entries)
    make_rafdb(root, "compound", [("train_0001.jpg", 1), ("train_0002.jpg", 11),
                                  ("test_0001.jpg", 4)])
    return tmp_path


def test_basic_counts_labels_splits(raf_root):
    ds = load_dataset("rafdb", raf_root)
    m = ds.manifest.set_index("id")
    assert ds.classes == BASIC7 and len(ds) == 11
    for i, code in enumerate([1, 2, 3, 4, 5, 6, 7, 4], 1):
        assert m.at[f"train_{i:05d}", "label"] == RAF[code]
        assert m.at[f"train_{i:05d}", "split"] == "train"
    assert m.loc[["test_0001", "test_0002", "test_0003"], "label"].tolist() == \
        ["neutral", "surprise", "happiness"]
    assert (m.loc[m.index.str.startswith("test_"), "split"] == "test").all()
    assert ds.root == raf_root / "RAF-DB"     # the default folder under the data root
    assert m.at["train_00001", "path"] == "basic/Image/aligned/train_00001_aligned.jpg"
    assert ds.official_val is False and ds.face_crop is None and (m["subject"] == "").all()
    assert ds.read_image(0).dtype.is_floating_point is False


def test_compound_maps_codes_1_to_11(raf_root):
    ds = load_dataset("rafdb-compound", raf_root)
    m = ds.manifest.set_index("id")
    assert ds.classes == RAF_COMPOUND
    assert m.at["train_0001", "label"] == "happily surprised"
    assert m.at["train_0002", "label"] == "disgustedly surprised"
    assert m.at["test_0001", "label"] == "sadly angry" and m.at["test_0001", "split"] == "test"


def test_original_images_get_a_detector_crop(raf_root):
    root = raf_root / "RAF-DB" / "basic" / "Image" / "original"
    root.mkdir(parents=True)
    labels = raf_root / "RAF-DB/basic/EmoLabel/list_patition_label.txt"
    for line in labels.read_text().split("\n"):
        if line:
            (root / line.split()[0]).write_bytes(b"")
    ds = load_dataset("rafdb", raf_root, images="original", margin="0.3")
    assert ds.face_crop["method"] == "haar" and ds.face_crop["margin"] == 0.3
    assert ds.manifest.at[0, "path"] == "basic/Image/original/train_00001.jpg"


def test_missing_label_file_names_it(tmp_path):
    (tmp_path / "RAF-DB" / "basic").mkdir(parents=True)
    with pytest.raises(DatasetError, match="list_patition_label.txt"):
        load_dataset("rafdb", tmp_path)


def test_unknown_code_and_bad_prefix(raf_root):
    labels = raf_root / "RAF-DB/basic/EmoLabel/list_patition_label.txt"
    write_text(labels, labels.read_text() + "train_00009.jpg 8\nval_00001.jpg 1\n")
    with pytest.raises(DatasetError, match=r"list_patition_label.txt:12: unknown label code.*'8'"):
        load_dataset("rafdb", raf_root)
    ds = load_dataset("rafdb", raf_root, on_error="skip")
    assert len(ds) == 11
    assert ds.info["skipped"] == {"unknown label code": 1, "unknown split prefix": 1}
