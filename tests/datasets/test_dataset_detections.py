"""The detection cache of a raw dataset: a tiny JAFFE copy (generated faces pasted into
larger grey frames, so the default Haar crop has to find them) extracted by several
encoders, detected in worker processes, corrupted, changed, and prepared with --detect."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from features_support import TinyEncoder
from PIL import Image

import fer_bench.images.detections as detections_module
from fer_bench.datasets import load_dataset
from fer_bench.datasets.detections import row_detections
from fer_bench.datasets.validation import detect_rows
from fer_bench.features.store import FeatureStore
from fer_bench.images.detections import DetectionCache, decode, detect
from fer_bench.paths import cache_dir

NAMES = ["KA.AN1.39", "KA.DI2.40", "KL.FE1.41", "KL.HA3.42", "KM.NE1.43", "YM.SU1.44"]


def frame(i: int, seed: int = 3) -> np.ndarray:
    """A generated lab face (80-110 px) pasted into a plain 200x260 grey frame."""
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(len(NAMES), size=96, seed=seed, preset="synth-lab")
    rng = np.random.default_rng(i)
    side = int(rng.integers(80, 111))
    out = np.full((200, 260), 90, np.uint8)
    x, y = int(rng.integers(0, 260 - side)), int(rng.integers(0, 200 - side))
    face = Image.fromarray(faces[i].permute(1, 2, 0).numpy()).convert("L").resize((side, side))
    out[y:y + side, x:x + side] = np.asarray(face)
    return out


def write_jaffe(root, blank: str | None = None):
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(NAMES):
        pixels = np.full((200, 260), 90, np.uint8) if name == blank else frame(i)
        Image.fromarray(pixels).save(root / f"{name}.tiff")
    return root


class DetectorCalls:
    """Counts Haar face detections run in this process (workers=0)."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = detections_module.detect_face

        def counted(*args, **kwargs):
            self.n += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(detections_module, "detect_face", counted)


@pytest.fixture
def jaffe(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    write_jaffe(tmp_path / "jaffe")
    return load_dataset("jaffe", tmp_path)


def _extract(store, dataset, revision: str, workers: int = 0):
    return store.get(TinyEncoder(revision=revision), dataset, batch_size=4,
                     num_workers=workers, progress=False).X.copy()


def _cache_file(dataset):
    return DetectionCache(cache_dir(), dataset.name, dataset.face_crop).path


def test_workers_detect_once_and_the_next_encoder_runs_no_detector(jaffe, tmp_path,
                                                                   monkeypatch):
    store = FeatureStore(tmp_path / "features")
    # first encoder: detection in two DataLoader worker processes, saved by this one
    _extract(store, jaffe, "a", workers=2)
    table = json.loads(_cache_file(jaffe).read_text())["detections"]
    assert len(table) == len(NAMES)
    assert sum(entry is not None for entry in table.values()) >= 4     # measured 6/6
    calls = DetectorCalls(monkeypatch)
    _extract(store, jaffe, "b")                 # another encoder: every crop from the cache
    assert calls.n == 0
    assert row_detections(jaffe).known == table


def test_cached_detections_equal_fresh_ones_exactly(jaffe, tmp_path):
    store = FeatureStore(tmp_path / "features")
    cached_run = _extract(store, jaffe, "a")
    known = row_detections(jaffe).known
    for row in range(len(jaffe)):
        key = row_detections(jaffe).keys[row]
        assert decode(known[key]) == detect(jaffe.read_image(row), jaffe.face_crop)
    # features cut from cached detections equal those of a run that detects afresh
    _cache_file(jaffe).unlink()
    second = _extract(FeatureStore(tmp_path / "other-features"), jaffe, "a")
    assert np.array_equal(cached_run, second)
    again = _extract(FeatureStore(tmp_path / "third-features"), jaffe, "a")   # from cache
    assert np.array_equal(cached_run, again)


def test_corrupt_cache_file_is_ignored_and_rebuilt(jaffe, tmp_path, monkeypatch):
    store = FeatureStore(tmp_path / "features")
    first = _extract(store, jaffe, "a")
    path = _cache_file(jaffe)
    path.write_bytes(b'{"format": 1, "detections": {"ab\x00')
    calls = DetectorCalls(monkeypatch)
    with pytest.warns(UserWarning, match="ignored and rebuilt"):
        again = _extract(FeatureStore(tmp_path / "features-2"), jaffe, "a")
    assert calls.n == len(NAMES) and np.array_equal(first, again)
    assert len(json.loads(path.read_text())["detections"]) == len(NAMES)
    _extract(store, jaffe, "c")
    assert calls.n == len(NAMES)                 # the rebuilt file serves the next encoder


def test_an_image_whose_bytes_change_is_detected_again(jaffe, tmp_path, monkeypatch):
    store = FeatureStore(tmp_path / "features")
    _extract(store, jaffe, "a")
    Image.fromarray(frame(0, seed=11)).save(jaffe.image_path(2))   # same name, new face
    calls = DetectorCalls(monkeypatch)
    _extract(store, jaffe, "b")
    assert calls.n == 1
    table = json.loads(_cache_file(jaffe).read_text())["detections"]
    assert len(table) == len(NAMES) + 1          # the old version's entry stays, harmless


def test_detect_size_is_part_of_the_crop_spec_and_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))
    write_jaffe(tmp_path / "jaffe")
    default = load_dataset("jaffe", tmp_path)
    full = load_dataset("jaffe", tmp_path, detect_size="0")
    assert default.face_crop["detect_size"] == 640 and full.face_crop["detect_size"] == 0
    assert default.manifest_digest() != full.manifest_digest()      # so the feature key
    assert _cache_file(default) != _cache_file(full)
    # the crop settings applied after detection share one detection cache
    assert _cache_file(default) == _cache_file(load_dataset("jaffe", tmp_path, margin="0.4",
                                                            align="false"))


def test_prepare_detect_reports_the_rate_and_then_reads_the_cache(tmp_path):
    write_jaffe(tmp_path / "jaffe", blank="YM.SU1.44")
    env = {"FER_BENCH_CACHE": str(tmp_path / "cache")}
    args = ["datasets", "prepare", "jaffe", "--root", str(tmp_path), "--detect"]
    from fer_bench.cli import main

    first = CliRunner().invoke(main, args, env=env)
    assert first.exit_code == 0, first.output
    found = int(first.output.split("face detector: found ")[1].split("/")[0])
    assert 1 <= found <= 5 and f"found {found}/6" in first.output
    assert f"no face: {6 - found} image" in first.output
    assert "use the no_face=full-image fallback" in first.output
    assert "detections: 0 cached, 6 run in" in first.output
    second = CliRunner().invoke(main, args, env=env)
    assert second.exit_code == 0, second.output
    assert "detections: all 6 cached, none run" in second.output
    assert f"found {found}/6" in second.output


def test_skip_policy_detections_are_shared_with_every_crop_setting(jaffe, tmp_path,
                                                                     monkeypatch):
    Image.fromarray(np.full((200, 260), 90, np.uint8)).save(jaffe.image_path(5))
    kept = load_dataset("jaffe", tmp_path, no_face="skip")   # detects in workers, caches
    assert kept.info["skipped"]["no face"] >= 1
    calls = DetectorCalls(monkeypatch)
    every_row = load_dataset("jaffe", tmp_path)               # no_face=full-image
    summary = detect_rows(every_row, num_workers=0)
    assert calls.n == 0 and summary.detected == 0 and summary.cached == len(NAMES)
    assert (summary.outcomes != "no face").sum() == len(kept)
