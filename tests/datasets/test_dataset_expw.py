import pytest
from datasets_fixtures import write_image, write_text

from fer_bench.datasets import DatasetError, load_dataset
from fer_bench.datasets.adapters.expw import photo_split

FER = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness", 5: "surprise",
       6: "neutral"}


def make_expw(root, lines):
    for name in {line.split()[0] for line in lines}:
        write_image(root / "origin" / name, 0, size=96)
    write_text(root / "label.lst", "\n".join(lines) + "\n")


def test_boxes_labels_and_photo_split(tmp_path):
    lines = [f"photo_{i}.jpg 0 10 20 60 70 {0.5 + i / 100:.2f} {i}" for i in range(7)]
    lines.append("photo_0.jpg 1 5 5 25 25 0.9 3")               # second face in photo_0
    make_expw(tmp_path / "ExpW", lines)
    ds = load_dataset("expw", tmp_path)
    m = ds.manifest.set_index("id")
    for i in range(7):
        assert m.at[f"photo_{i}.jpg#0", "label"] == FER[i]
    assert m.at["photo_0.jpg#1", "label"] == "happiness"
    # top left right bottom = 10 20 60 70 -> x=left 20, y=top 10, w 40, h 60
    row = ds.manifest.index[ds.manifest["id"] == "photo_0.jpg#0"][0]
    assert ds.box(row) == (20, 10, 40, 60)
    assert ds.face_crop == {"method": "box", "margin": 0.1}
    assert (m.at["photo_0.jpg#0", "split"] == m.at["photo_0.jpg#1", "split"]
            == photo_split("photo_0.jpg", 0.2))
    assert set(m["split"]) <= {"train", "test"} and not ds.official_val


def test_photo_split_fraction():
    names = [f"img_{i}.jpg" for i in range(4000)]
    share = sum(photo_split(n, 0.2) == "test" for n in names) / len(names)
    assert 0.17 < share < 0.23


def test_bad_lines(tmp_path):
    make_expw(tmp_path, ["a.jpg 0 10 20 60 70 0.9 3", "b.jpg 0 10 20 60 0.9 3",
                         "c.jpg 0 10 20 60 70 0.9 9", "d.jpg 0 70 20 60 10 0.9 1"])
    with pytest.raises(DatasetError, match=r"label.lst:2: malformed line"):
        load_dataset("expw", tmp_path)
    ds = load_dataset("expw", tmp_path, on_error="skip")
    assert len(ds) == 1
    assert ds.info["skipped"] == {"malformed line": 1, "unknown label code": 1, "empty face box": 1}
