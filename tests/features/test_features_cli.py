"""``fer-bench extract`` and ``fer-bench cache ls | verify | clear``."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from features_support import TinyEncoder, png_dataset, write_images

import fer_bench.datasets.registry as registry
from fer_bench.cli import main
from fer_bench.features.store import FeatureStore

ENCODER = "features_support:tiny_encoder"


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    write_images(tmp_path / "img", 12)
    ds = png_dataset(tmp_path / "img")
    monkeypatch.setattr(registry, "load_dataset", lambda spec, root=None: ds)
    return ds


def _run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input)
    return result


def _extract(cache, *more):
    return _run("extract", "--encoder", ENCODER, "--dataset", "tiny-pngs", "--cache-dir",
                str(cache), "--workers", "0", "--batch-size", "4", "--device", "cpu", *more)


def test_extract_then_hit_without_loading_weights(tmp_path, dataset):
    first = _extract(tmp_path)
    assert first.exit_code == 0, first.output
    assert "tiny-pngs/train: 9 x 8  extracted" in first.output
    assert "tiny-pngs/test: 3 x 8  extracted" in first.output
    assert "encoder weights loaded: yes" in first.output
    second = _extract(tmp_path)
    assert second.exit_code == 0, second.output
    assert second.output.count("cached") == 2 and "encoder weights loaded: no" in second.output
    store = FeatureStore(tmp_path / "features")
    assert store.lookup(TinyEncoder().info, dataset.subset("test")) is not None


def test_extract_one_split_and_cache_dir_from_environment(tmp_path, dataset, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "env"))
    result = _run("extract", "--encoder", ENCODER, "--dataset", "tiny-pngs", "--split",
                  "test", "--workers", "0", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "tiny-pngs/test" in result.output and "tiny-pngs/train" not in result.output
    store = FeatureStore(tmp_path / "env" / "features")
    assert store.lookup(TinyEncoder().info, dataset.subset("test")) is not None
    assert store.lookup(TinyEncoder().info, dataset.subset("train")) is None


def test_extract_reports_unknown_encoder_cleanly(tmp_path, dataset):
    result = _run("extract", "--encoder", "no-such-encoder", "--dataset", "tiny-pngs",
                  "--cache-dir", str(tmp_path))
    assert result.exit_code == 2 and "unknown encoder 'no-such-encoder'" in result.output


def test_cache_ls_verify_and_clear(tmp_path, dataset):
    assert _run("cache", "ls", "--cache-dir", str(tmp_path)).output.startswith("no cached")
    assert _extract(tmp_path).exit_code == 0
    listing = _run("cache", "ls", "--cache-dir", str(tmp_path)).output.splitlines()
    assert listing[0].split()[:4] == ["key", "encoder", "dataset", "splits"]
    rows = sorted(line.split()[1:5] for line in listing[1:])
    assert rows == [["tiny@1", "tiny-pngs", "test", "3"], ["tiny@1", "tiny-pngs", "train", "9"]]

    ok = _run("cache", "verify", "--cache-dir", str(tmp_path))
    assert ok.exit_code == 0 and "2 of 2 entries valid" in ok.output
    store = FeatureStore(tmp_path / "features")
    bad = store.lookup(TinyEncoder().info, dataset.subset("train"))
    X = np.array(bad.X)
    X[0, 0] = np.inf
    np.save(bad.path / "features.npy", X)
    report = _run("cache", "verify", "--cache-dir", str(tmp_path))
    assert report.exit_code == 1 and f"BAD {bad.key[:12]}" in report.output
    assert "non-finite" in report.output and "1 of 2 entries valid" in report.output
    fixed = _run("cache", "verify", "--fix", "--cache-dir", str(tmp_path))
    assert fixed.exit_code == 0 and "(removed)" in fixed.output
    assert "1 of 1 entries valid" in _run("cache", "verify", "--cache-dir", str(tmp_path)).output

    kept = _run("cache", "clear", "--encoder", "other", "--yes", "--cache-dir", str(tmp_path))
    assert "removed 0 entries" in kept.output
    aborted = _run("cache", "clear", "--cache-dir", str(tmp_path), input="n\n")
    assert aborted.exit_code == 1 and len(_listed(tmp_path)) == 1
    cleared = _run("cache", "clear", "--dataset", "tiny-pngs", "--cache-dir", str(tmp_path),
                   input="y\n")
    assert cleared.exit_code == 0 and "removed 1 entries" in cleared.output
    assert _listed(tmp_path) == []


def _listed(cache):
    from fer_bench.features.catalogue import stored_items
    return stored_items(FeatureStore(cache / "features"))


def test_extract_generated_faces_with_a_builtin_encoder(tmp_path):
    args = ["extract", "--encoder", "pixels", "--dataset", "synth-wild:n=24,size=32",
            "--cache-dir", str(tmp_path), "--workers", "0", "--device", "cpu"]
    first = _run(*args)
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if line.startswith("synth-wild/")]
    assert lines and all(" x 576  extracted" in line for line in lines)
    assert sum(int(line.split()[1]) for line in lines) == 24
    second = _run(*args)
    assert second.output.count("  cached  ") == len(lines)
    assert "encoder weights loaded: no" in second.output


def test_extract_a_folder_spec_with_options_and_again_after_an_image_is_replaced(tmp_path):
    from datasets_fixtures import write_image

    for i, expression in enumerate(("happy", "sad", "happy", "sad")):
        write_image(tmp_path / "faces" / expression / f"S{i}_x.png", i)
    args = ["extract", "--encoder", ENCODER, "--dataset",
            f"folder:{tmp_path / 'faces'}:name=mine,subject_regex=^(S\\d)_",
            "--cache-dir", str(tmp_path / "cache"), "--workers", "0", "--device", "cpu"]
    first = _run(*args)
    assert first.exit_code == 0, first.output
    assert "mine/train: 4 x 8  extracted" in first.output
    assert "mine/train: 4 x 8  cached" in _run(*args).output
    write_image(tmp_path / "faces" / "sad" / "S1_x.png", 7)     # same name, other face
    assert "mine/train: 4 x 8  extracted" in _run(*args).output


def test_cache_ls_counts_and_clear_removes_kept_probe_fits(tmp_path):
    from fer_bench.probes.fit_store import FitStore
    from fer_bench.probes.linear import LinearProbe

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)).astype(np.float32), np.arange(60) % 3
    store = FitStore.in_cache(tmp_path)
    for key in ("aa" + "0" * 62, "bb" + "0" * 62):
        store.save(key, LinearProbe(Cs=(1.0,)).fit(X[:40], y[:40], 3, X_val=X[40:],
                                                   y_val=y[40:]))
    listing = _run("cache", "ls", "--cache-dir", str(tmp_path)).output
    assert listing.startswith("no cached features")
    assert "fitted probes: 2 (" in listing and str(tmp_path / "probe-fits") in listing
    refused = _run("cache", "clear", "--fits", "--encoder", "x", "--cache-dir", str(tmp_path))
    assert refused.exit_code == 2 and "--fits removes every kept fit" in refused.output
    aborted = _run("cache", "clear", "--fits", "--cache-dir", str(tmp_path), input="n\n")
    assert aborted.exit_code == 1 and len(store.entries()) == 2
    cleared = _run("cache", "clear", "--fits", "--yes", "--cache-dir", str(tmp_path))
    assert cleared.exit_code == 0 and "removed 2 probe fits" in cleared.output
    assert store.entries() == []
    assert "fitted probes" not in _run("cache", "ls", "--cache-dir", str(tmp_path)).output
