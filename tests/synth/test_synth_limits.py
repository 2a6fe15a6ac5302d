"""Generated presets have an upper bound on their size (a typo such as n=100000000 must
not fill memory and disk), which FER_BENCH_ALLOW_LARGE=1 lifts; an interrupted or killed
generation leaves no temporary folder behind."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from fer_bench.datasets.adapters import generated as dataset_mod
from fer_bench.datasets.base import DatasetError
from fer_bench.datasets.registry import load_dataset
from fer_bench.synth import generate as generate_mod


class Reached(Exception):
    """Raised instead of generating: the size check let the request through."""


@pytest.fixture
def no_generation(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    monkeypatch.delenv("FER_BENCH_ALLOW_LARGE", raising=False)

    def refuse(*args, **kwargs):
        raise Reached(args)
    monkeypatch.setattr(dataset_mod, "ensure_generated", refuse)
    monkeypatch.setattr(generate_mod, "ensure_generated", refuse)


@pytest.mark.parametrize("spec", ["synth-wild:n=100000000", "synth-lab:n=100001",
                                  "synth-compound:n=20000,size=1024"])
def test_sizes_beyond_the_limit_are_refused_with_the_limit_and_the_way_out(no_generation, spec):
    with pytest.raises(DatasetError, match=r"limit.*FER_BENCH_ALLOW_LARGE=1"):
        load_dataset(spec)


@pytest.mark.parametrize("spec", ["synth-wild:seed=-1", "synth-wild:workers=-2"])
def test_negative_seed_or_workers_are_refused_before_generating(no_generation, spec):
    with pytest.raises(DatasetError, match="seed >= 0"):
        load_dataset(spec)


def test_the_limit_can_be_lifted(no_generation, monkeypatch):
    monkeypatch.setenv("FER_BENCH_ALLOW_LARGE", "1")
    with pytest.raises(Reached):
        load_dataset("synth-wild:n=100001,size=32")


def test_sizes_within_the_limit_pass(no_generation):
    with pytest.raises(Reached):
        load_dataset("synth-wild:n=100000,size=112")


def test_a_leftover_temporary_folder_of_a_killed_generation_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))
    name = generate_mod.folder_name("synth-wild", 0, 4, 32)
    leftover = tmp_path / "synth" / f".{name}.k1ll3d"
    (leftover / "images").mkdir(parents=True)
    (leftover / "images" / "000000.png").write_bytes(b"half")
    other = tmp_path / "synth" / ".synth-wild-v1-s0-n9-32px.other"   # another config's
    other.mkdir()
    folder = generate_mod.ensure_generated("synth-wild", 4, 0, 32)
    assert (folder / "DONE").is_file()
    assert not leftover.exists() and other.exists()


def test_sigterm_during_generation_removes_the_temporary_folder(tmp_path):
    script = textwrap.dedent("""
        import os, signal
        from fer_bench.synth import generate as g

        def interrupted(specs, folder, size, workers, one_channel=False):
            (folder / "images").mkdir(parents=True, exist_ok=True)
            (folder / "images" / "000000.png").write_bytes(b"partial")
            os.kill(os.getpid(), signal.SIGTERM)
            raise AssertionError("SIGTERM did not stop generation")

        g.write_images = interrupted
        g.ensure_generated("synth-wild", 4, 0, 32)
    """)
    env = {**os.environ, "FER_BENCH_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "SIGTERM did not stop" not in done.stderr
    left = [p.name for p in (tmp_path / "synth").iterdir() if not p.name.endswith(".lock")]
    assert left == []
