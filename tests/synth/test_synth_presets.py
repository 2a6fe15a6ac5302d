"""Generated presets: labels that follow the FACS codings, identity-disjoint splits,
class imbalance, CK+-style sequences, the on-disk cache and its round trip."""
from __future__ import annotations

import functools
import hashlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from fer_bench.datasets.base import DatasetError
from fer_bench.datasets.registry import load_dataset
from fer_bench.synth import generate as generate_mod
from fer_bench.synth.expressions import DEFINING_FLOOR, PROTOTYPES
from fer_bench.synth.plan import plan_preset
from fer_bench.synth.preset_config import LAB, PRESETS, WILD
from fer_bench.vocabulary import BASIC, COMPOUND, RAF_COMPOUND, coarse_group


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    return tmp_path


@functools.cache
def _meta(preset: str, n: int, seed: int = 0) -> pd.DataFrame:
    """Planned manifest fields (no rendering); cached, so callers must not modify it."""
    return pd.DataFrame([s.meta for s in plan_preset(PRESETS[preset], n, seed)])


def test_every_smile_has_au12_and_every_expression_its_defining_au():
    df = _meta("synth-wild", 2000)
    happy = df[df.label == "happiness"]
    assert len(happy) > 300
    # the defining AU keeps DEFINING_FLOOR of the intensity, less at most 30 % asymmetry
    assert (happy.au_12 >= 0.7 * DEFINING_FLOOR * happy.intensity).all()
    assert happy.intensity.min() >= WILD.intensity[0]
    for label, group in df[df.label != "neutral"].groupby("label"):
        core = PROTOTYPES[label].core
        defining = max(core, key=core.get)
        assert (group[f"au_{defining}"] > 0.05).all(), label
    assert (df.coarse == df.label.map(coarse_group)).all()


def test_contempt_rows_are_coded_unilateral():
    df = _meta("synth-wild", 2000)
    contempt = df[df.label == "contempt"]
    assert len(contempt) > 10
    assert contempt.facs.str.contains(r"(?:^|\+)[RL]14").all()


def test_wild_class_imbalance_follows_raf_db_ferplus():
    counts = _meta("synth-wild", 2000).label.value_counts()
    assert set(counts.index) == set(BASIC)
    assert counts["happiness"] > counts["sadness"] > counts["fear"]
    assert counts["neutral"] > 5 * counts["contempt"]
    assert counts.sum() == 2000


def test_compound_covers_raf_db_and_du_et_al():
    df = _meta("synth-compound", 300)
    assert set(RAF_COMPOUND) | {"appalled", "hatred", "awed"} <= set(df.label)
    assert set(df.label) <= set(COMPOUND)
    assert df.label.value_counts().max() - df.label.value_counts().min() <= 1


@pytest.mark.parametrize("preset", ["synth-wild", "synth-compound"])
def test_splits_are_identity_disjoint(preset):
    df = _meta(preset, 600)
    subjects = {s: set(df.subject[df.split == s]) for s in ("train", "val", "test")}
    assert all(subjects.values())
    assert not (subjects["train"] & subjects["test"]) and not (subjects["train"] & subjects["val"])
    assert not (subjects["val"] & subjects["test"])


def test_lab_sequences_ramp_from_neutral_to_apex():
    df = _meta("synth-lab", 56)
    assert len(df) == 56 and df.subject.nunique() == 2 and (df.split == "train").all()
    for _, seq in df.groupby("sequence"):
        assert list(seq.frame) == [0, 1, 2, 3]
        assert seq.label.iloc[0] == "neutral" and seq.label.iloc[1] == ""
        assert seq.label.iloc[2] == seq.label.iloc[3] != "neutral"
        assert list(seq.intensity) == sorted(seq.intensity)
    assert set(df.label) - {""} == set(BASIC)
    assert df.intensity.max() >= LAB.intensity[0]


def test_planning_is_deterministic_and_prefix_stable():
    a, b = _meta("synth-wild", 200, seed=5), _meta("synth-wild", 200, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(_meta("synth-wild", 200, seed=6))


def _digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.glob("images/*.png")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_manifest_round_trip_and_cache_reuse(cache, monkeypatch):
    ds = load_dataset("synth-wild:n=24,seed=2,size=48")
    assert len(ds) == 24 and ds.image_family == "synth-wild"
    assert ds.pixel_identity() == {"generator": "fer-bench-synth",
                                   "generator_version": generate_mod.GENERATOR_VERSION,
                                   "preset": "synth-wild", "seed": 2, "n": 24, "size": 48}
    folder = cache / "synth" / f"synth-wild-v{generate_mod.GENERATOR_VERSION}-s2-n24-48px"
    assert (folder / "DONE").is_file() and len(list(folder.glob("images/*.png"))) == 24
    assert tuple(ds.read_image(0).shape) == (3, 48, 48)

    def must_not_run(*args, **kwargs):
        raise AssertionError("regenerated although the cache was complete")
    monkeypatch.setattr(generate_mod, "generate", must_not_run)
    again = load_dataset("synth-wild", n=24, seed=2, size=48)
    pd.testing.assert_frame_equal(ds.manifest, again.manifest)
    assert ds.manifest_digest() == again.manifest_digest()
    assert pd.api.types.is_float_dtype(ds.manifest.au_12)
    assert pd.api.types.is_string_dtype(ds.manifest.subject)
    planned = _meta("synth-wild", 24, seed=2)
    for column in ("label", "split", "subject", "facs", "au_12", "yaw"):
        assert list(ds.manifest[column]) == list(planned[column]), column


def test_lab_round_trip_keeps_unlabelled_frames_and_grey_pngs(cache):
    ds = load_dataset("synth-lab:n=28,size=40")
    assert (ds.manifest.label == "").sum() == 7
    assert tuple(ds.read_image(0).shape) == (1, 40, 40)
    assert not ds.official_val and len(ds.labelled()) == 21


def test_new_generator_version_regenerates(cache, monkeypatch):
    first = load_dataset("synth-compound:n=8,size=32")
    monkeypatch.setattr(generate_mod, "GENERATOR_VERSION", generate_mod.GENERATOR_VERSION + 1)
    second = load_dataset("synth-compound:n=8,size=32")
    assert first.root != second.root and (second.root / "DONE").is_file()
    assert first.manifest_digest() != second.manifest_digest()


def test_parallel_generation_writes_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(generate_mod, "_IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(generate_mod, "_CHUNK", 3)
    generate_mod.generate("synth-wild", 8, 1, 40, tmp_path / "serial", workers=1)
    generate_mod.generate("synth-wild", 8, 1, 40, tmp_path / "parallel", workers=2)
    assert _digest(tmp_path / "serial") == _digest(tmp_path / "parallel")
    assert (tmp_path / "serial" / "manifest.csv").read_bytes() == \
        (tmp_path / "parallel" / "manifest.csv").read_bytes()


def test_failed_generation_leaves_no_folder(cache, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(generate_mod, "write_images", boom)
    with pytest.raises(RuntimeError):
        load_dataset("synth-wild:n=4,size=32")
    assert [p.name for p in (cache / "synth").iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.parametrize("spec", ["synth-wild:n=abc", "synth-wild:size=8", "synth-lab:n=0"])
def test_bad_options_are_refused_clearly(cache, spec):
    with pytest.raises(DatasetError, match="synth-"):
        load_dataset(spec)


def test_au_columns_match_facs_codes():
    df = _meta("synth-compound", 30)
    for _, row in df.iterrows():
        coded = {int(p.lstrip("RL")[:-1]) for p in row.facs.split("+") if p}
        active = {int(c[3:]) for c in df.columns if c.startswith("au_") and row[c] >= 0.1}
        assert coded == active
    assert np.isfinite(df[[c for c in df.columns if c.startswith("au_")]].to_numpy()).all()


def test_concurrent_callers_generate_once(cache, monkeypatch):
    calls = []
    real = generate_mod.generate

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(generate_mod, "generate", counted)
    with ThreadPoolExecutor(2) as pool:
        folders = list(pool.map(lambda _: generate_mod.ensure_generated("synth-wild", 6, 0, 32),
                                range(2)))
    assert folders[0] == folders[1] and (folders[0] / "DONE").is_file()
    assert len(calls) == 1
    assert not [p for p in (cache / "synth").iterdir() if p.name.startswith(".")]
