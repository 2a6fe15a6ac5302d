"""``fer-bench encoders list`` informs without loading weights; ``--encoder
pkg.module:factory`` works from the folder that holds ``pkg`` and says how to fix a
failed import in one line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from fer_bench.cli import main
from fer_bench.encoder import Encoder
from fer_bench.encoder_registry import EncoderNotFound, encoder_names, resolve_factory

FACTORY = textwrap.dedent('''
    import torch
    from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing

    class Mean(Encoder):
        def build(self):
            return torch.nn.Identity()

        def forward_features(self, model, x):
            return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], 1)

    def make(weights=None, device="cpu"):
        info = EncoderInfo("grey-stats", "v1", 2, Preprocessing(
            input_size=16, channels="grey", mean=(0.5,), std=(0.5,)), "stats")
        return Mean(info, device)
''')


@pytest.fixture
def no_weights_loaded(monkeypatch):
    def refuse(self):
        raise AssertionError(f"{self.info.name} weights were loaded")
    monkeypatch.setattr(Encoder, "model", property(refuse))


def test_list_shows_what_each_encoder_is(no_weights_loaded):
    result = CliRunner().invoke(main, ["encoders", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "revision", "dim", "input", "pre-trained", "on",
                                "weights", "licence"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(encoder_names())
    assert rows["pixels"].split()[1:6] == ["grey24", "576", "24px", "grey", "-"]
    assert "not needed" in rows["pixels"] and "BSD-2-Clause" in rows["pixels"]
    assert "shipped" in rows["crs-cont"] and "ferplus" in rows["crs-cont"]
    assert "fer2013-images" in rows["pyemotion"] and "MIT" in rows["pyemotion"]


def test_list_json_has_every_field_and_the_weights_state(no_weights_loaded, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path))      # nothing fetched here
    result = CliRunner().invoke(main, ["encoders", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == set(encoder_names())
    pixels = rows["pixels"]
    assert (pixels["revision"], pixels["embed_dim"], pixels["input_size"]) == ("grey24", 576, 24)
    assert pixels["weights"] == "not needed" and pixels["source"] == "built-in"
    crs = rows["crs-cont"]
    assert crs["weights"] == "shipped" and crs["embed_dim"] == 512
    assert "ferplus/train" in crs["pretrained_on"] and crs["pretrain_classes"]
    pyemotion = rows["pyemotion"]
    assert pyemotion["weights"] == "to fetch"
    assert "fer-bench encoders fetch pyemotion" in pyemotion["note"]
    # once the file is in the cache, it is present (found, not read)
    weights = tmp_path / "weights" / "pyemotion" / "main_model.pkl"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not read")
    again = {r["name"]: r for r in json.loads(CliRunner().invoke(
        main, ["encoders", "list", "--json"]).output)}
    assert again["pyemotion"]["weights"] == "present"


def test_list_names_only():
    result = CliRunner().invoke(main, ["encoders", "list", "--names"])
    assert result.output.split() == encoder_names()


def make_package(root: Path, name: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    (root / name / "enc.py").write_text(FACTORY)
    (root / name / "needs_dep.py").write_text("import surely_not_installed_dep\n")


def test_module_factory_is_found_from_the_working_directory(tmp_path, monkeypatch):
    make_package(tmp_path, "fb_user_pkg_a")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.chdir(tmp_path)
    factory = resolve_factory("fb_user_pkg_a.enc:make")
    assert factory().info.name == "grey-stats"


def test_module_factory_errors_say_how_to_fix_them(tmp_path, monkeypatch):
    make_package(tmp_path, "fb_user_pkg_b")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.chdir(tmp_path / "fb_user_pkg_b")             # not the folder that holds it
    with pytest.raises(EncoderNotFound, match=r"run fer-bench from the folder that holds "
                                              r"fb_user_pkg_b/.*PYTHONPATH.*pip install -e"):
        resolve_factory("fb_user_pkg_b.enc:make")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EncoderNotFound, match=r"has no 'mak' \(did you mean 'make'\?\)"):
        resolve_factory("fb_user_pkg_b.enc:mak")
    with pytest.raises(EncoderNotFound, match=r"fb_user_pkg_b .* has no module 'nope'"):
        resolve_factory("fb_user_pkg_b.nope:make")
    with pytest.raises(EncoderNotFound, match=r"imports surely_not_installed_dep, which is "
                                              r"not installed"):
        resolve_factory("fb_user_pkg_b.needs_dep:make")
    with pytest.raises(EncoderNotFound, match="expected pkg.module:factory"):
        resolve_factory("fb_user_pkg_b/enc.py:make")


def test_the_console_script_runs_a_module_factory_from_the_current_folder(tmp_path):
    """The installed ``fer-bench`` script puts its own folder on sys.path, not the current
    one; ``--encoder pkg.module:factory`` must still work from the folder holding pkg."""
    script = Path(sys.executable).with_name("fer-bench")
    if not script.exists():
        pytest.skip("the fer-bench console script is not installed next to this python")
    make_package(tmp_path, "fb_user_pkg_c")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    run = [str(script), "run", "--encoder", "fb_user_pkg_c.enc:make", "--protocol", "knn",
           "--dataset", "synth-wild:n=100,size=32", "--results-dir", "records", "--device",
           "cpu", "--quiet", "--format", "json"]
    proc = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {r["encoder"] for r in rows} == {"grey-stats"}
    proc = subprocess.run(run, cwd=tmp_path / "fb_user_pkg_c", capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), proc.stderr
    assert "run fer-bench from the folder that holds fb_user_pkg_c/" in lines[0]
