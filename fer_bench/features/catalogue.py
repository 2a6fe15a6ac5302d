"""What a feature store holds: listing, verifying and clearing entries (``fer-bench cache``)."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from filelock import Timeout

from fer_bench.features.entry import META, InvalidEntry, read_entry
from fer_bench.features.shards import PLAN
from fer_bench.features.store import FeatureStore

_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredItem:
    key: str
    path: Path
    status: str          # "entry" (finished) or "partial" (resumable extraction)
    info: dict           # meta.json of an entry, plan.json of a partial; {} if unreadable
    size_bytes: int

    @property
    def encoder(self) -> str:
        if self.status == "partial":
            return f"{self.info.get('encoder', '?')}@{self.info.get('revision', '?')}"
        enc = self.info.get("encoder", {})
        return f"{enc.get('name', '?')}@{enc.get('revision', '?')}"

    @property
    def encoder_name(self) -> str:
        return self.encoder.rsplit("@", 1)[0]

    @property
    def dataset(self) -> str:
        ds = self.info.get("dataset", "?")
        return ds.get("name", "?") if isinstance(ds, dict) else ds

    @property
    def splits(self) -> str:
        ds = self.info.get("dataset")
        splits = ds.get("splits") if isinstance(ds, dict) else self.info.get("splits")
        return "+".join(splits) if splits else "?"


def stored_items(store: FeatureStore) -> list[StoredItem]:
    items = []
    if not store.root.is_dir():
        return items
    for prefix in sorted(p for p in store.root.iterdir() if p.is_dir()):
        for path in sorted(prefix.iterdir()):
            name, status, info_file = path.name, "entry", META
            if name.endswith(".partial"):
                name, status, info_file = name[: -len(".partial")], "partial", PLAN
            if not (path.is_dir() and _KEY.fullmatch(name)):
                continue
            try:
                info = json.loads((path / info_file).read_text())
            except (OSError, ValueError):
                info = {}
            size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
            items.append(StoredItem(name, path, status, info, size))
    return items


def verify_items(store: FeatureStore, fix: bool = False) -> list[tuple[StoredItem, str]]:
    """Every finished entry that fails validation, with the reason; ``fix`` removes them
    (except one whose key another process is writing right now)."""
    bad = []
    for item in stored_items(store):
        if item.status != "entry":
            continue
        try:
            read_entry(item.path)
        except InvalidEntry as e:
            bad.append((item, str(e)))
            if fix:
                _remove(store, item)
    return bad


def clear_items(store: FeatureStore, encoder: str | None = None,
                dataset: str | None = None) -> tuple[list[StoredItem], list[StoredItem]]:
    """Remove entries and partial extractions matching the filters (None = any).
    Returns (removed, busy): busy ones are being written by another process, left alone."""
    removed, busy = [], []
    for item in stored_items(store):
        if encoder is not None and item.encoder_name != encoder:
            continue
        if dataset is not None and item.dataset != dataset:
            continue
        (removed if _remove(store, item) else busy).append(item)
    return removed, busy


def _remove(store: FeatureStore, item: StoredItem) -> bool:
    try:
        with store.locked(item.key, wait=False):
            shutil.rmtree(item.path, ignore_errors=True)
    except Timeout:
        return False
    return True
