"""The environment stamped into every record: versions and the source revision."""
import subprocess
from pathlib import Path

from fer_bench.records import environment
from fer_bench.records.environment import describe_environment, source_revision

REPO = Path(__file__).resolve().parents[2]


def test_environment_lists_installed_score_changing_packages():
    env = describe_environment("cpu")
    assert env["device"] == "cpu"
    for package in ("torch", "numpy", "scikit-learn", "fer-bench"):
        assert env["packages"][package]
    # Optional packages are recorded only when installed, never as None.
    assert all(v for v in env["packages"].values())


def test_source_revision_is_the_checkout_head():
    if not (REPO / ".git").exists():
        assert source_revision() is None
        return
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    assert source_revision().split("+")[0] == head
    assert describe_environment("cpu")["fer_bench_revision"] == source_revision()


def test_no_git_means_no_revision(monkeypatch):
    environment.source_revision.cache_clear()
    monkeypatch.setattr(environment.subprocess, "run",
                        lambda *a, **k: (_ for _ in ()).throw(FileNotFoundError("git")))
    try:
        assert environment.source_revision() is None
        assert "fer_bench_revision" not in environment.describe_environment("cpu")
    finally:
        environment.source_revision.cache_clear()
