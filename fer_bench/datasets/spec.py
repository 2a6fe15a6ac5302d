"""Dataset specs: how a dataset is named on the command line and in records.

    NAME                              synth-wild, ferplus
    NAME:key=value[,key=value...]     synth-wild:n=2000,seed=3   ferplus:mode=probability
    folder:PATH                       folder:/data/my-faces      folder:C:\\data\\my-faces
    folder:PATH:key=value[,...]       folder:/data/my-faces:name=mine,subject_regex=^(S\\d+)_

The path of an adapter that takes one (``folder``) ends at its first ':' after an
optional Windows drive (``C:\\`` or ``C:/``); a folder whose path holds a ':' is reached
through a symlink. Options are split at each ',' followed by ``key=``, so a value may
hold ',' and ':' (``subject_regex=^(?:S)(\\d{2,3})_``) but not ``,key=``.

A record names a dataset without its path: ``name`` (default ``folder-<base name>-<8 hex
digits of the sha256 of the resolved path>``), then the other options in key order.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from fer_bench.datasets.base import DatasetSpecError
from fer_bench.plugins import SpecError
from fer_bench.plugins import parse_spec as plugin_spec

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
GRAMMAR = "NAME, NAME:key=value[,key=value], folder:PATH or folder:PATH:key=value[,...]"


@dataclass(frozen=True)
class DatasetSpec:
    name: str                          # the registry name
    path: str | None                   # adapters that read a folder given in the spec
    options: dict[str, str] = field(default_factory=dict)


def parse_spec(spec: str, takes_path: bool) -> DatasetSpec:
    """Split ``spec`` into name, path (when the adapter ``takes_path``) and options."""
    try:
        parsed = plugin_spec(spec, "dataset", takes_path)
    except SpecError as e:
        raise DatasetSpecError(str(e)) from None
    if parsed.revision is not None:
        raise DatasetSpecError(f"dataset spec {spec!r}: datasets have no revisions (drop "
                               f"'@{parsed.revision}'; {GRAMMAR})")
    return DatasetSpec(parsed.name, parsed.path, parsed.options)


def default_path_name(adapter: str, path: str | Path) -> str:
    """``<adapter>-<base name>-<8 hex digits>``: the base name for people, the digest of
    the resolved absolute path so that two folders never share a name (``x y`` and
    ``x_y``), and no path of the machine in any record."""
    where = Path(path).expanduser().resolve()
    base = _UNSAFE.sub("_", where.name).strip("._") or "root"
    digest = hashlib.sha256(os.path.normcase(str(where)).encode()).hexdigest()[:8]
    return f"{adapter}-{base}-{digest}"


def path_spec_record_name(parsed: DatasetSpec) -> str:
    """The name records use for a path-taking spec: ``name`` (default
    :func:`default_path_name`), then the other options in key order."""
    options = dict(parsed.options)
    name = options.pop("name", None) or default_path_name(parsed.name, parsed.path)
    rest = ",".join(f"{k}={v}" for k, v in sorted(options.items()))
    return f"{name}:{rest}" if rest else name
