"""Upgrading record dicts written under older schema versions to the current one.

Each step ``MIGRATIONS[v]`` turns a version-``v`` dict into a version-``v + 1`` dict; a
loader applies them in order, so a file written years ago still loads. A step only
renames and restructures; it never invents a measurement (fields an old record did not
have are left empty, and marked "unknown" where a string is required).

Schema history (version 0 was a pre-release layout no release wrote; it is refused):
- 1: the layout of :class:`fer_bench.records.schema.ResultRecord` without the data
  digests below.
- 2: every dataset entry adds ``content_digest`` (the images' bytes) and
  ``labels_digest`` (labels, splits, subjects, class set); migrated records get
  "unknown", which the runner treats as stale.
- 3: ``flags.overlap`` lists pre-training overlaps side by side (source: the rows the
  probe was fitted on; target: the rows it scored), with what matched and the splits;
  migrated records get None (not recorded), and readers derive the sides from the
  datasets' roles (:func:`fer_bench.records.overlap.record_overlaps`). Their scores and
  staleness are untouched.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fer_bench.records.schema import SCHEMA_VERSION

UNKNOWN = "unknown"     # a field an older record did not have


class RecordSchemaError(ValueError):
    """A record file that cannot be read as any known schema version."""


class NewerSchemaError(RecordSchemaError):
    """A record written by a newer fer-bench (``version`` > ``current``): readable by
    that version only, and never to be replaced by this one's recomputation unless asked."""

    def __init__(self, message: str, version: int, current: int = SCHEMA_VERSION):
        super().__init__(message)
        self.version, self.current = version, current


def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    datasets = [{**d, "content_digest": UNKNOWN, "labels_digest": UNKNOWN}
                for d in old["datasets"]]
    return {**old, "schema_version": 2, "datasets": datasets}


def _v2_to_v3(old: dict[str, Any]) -> dict[str, Any]:
    return {**old, "schema_version": 3, "flags": {**(old.get("flags") or {}), "overlap": None}}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2,
                                                                     2: _v2_to_v3}


def migrate(data: dict[str, Any], source: str = "<record>") -> dict[str, Any]:
    """Return ``data`` upgraded to the current schema version (a no-op when current)."""
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise RecordSchemaError(f"{source}: no integer 'schema_version'; not a fer-bench record")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(f"{source}: schema_version {version} is newer than this "
                               f"fer-bench reads ({SCHEMA_VERSION}); upgrade fer-bench", version)
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise RecordSchemaError(f"{source}: unknown schema_version {version}")
        try:
            data = MIGRATIONS[version](data)
        except KeyError as e:
            raise RecordSchemaError(f"{source}: schema_version {version} record lacks "
                                    f"field {e}") from None
        version = data["schema_version"]
    return data
