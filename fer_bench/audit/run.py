"""``audit_datasets``: exact and near-duplicate images within and across the splits of
datasets, and across datasets; the whole pipeline, cached.

1. Every image's 24x24 grey thumbnail (``pixels``) and encoder features (``--encoder``)
   come from the feature store; file digests from the digest index.
2. Candidates (:mod:`fer_bench.audit.search`): each image's nearest neighbours by
   thumbnail correlation, hash distance and encoder cosine, plus byte-identical files.
3. Each candidate pair is measured and named by its stage (:mod:`fer_bench.audit.pairs`).

The result holds every pair at or above the report floor; :attr:`AuditResult.duplicates`
those a stage calls duplicates, and :func:`fer_bench.audit.report.near_duplicate_test_items`
the test items to drop for a clean score.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fer_bench.audit.cache import AuditCache
from fer_bench.audit.items import (canonical_key, dataset_identity, encoder_identity,
                                   gather_items, split_sizes)
from fer_bench.audit.pairs import measure_pairs
from fer_bench.audit.search import hash_pairs, inner_product_pairs, same_bytes_pairs
from fer_bench.audit.settings import THUMBNAIL_ENCODER, AuditSettings
from fer_bench.audit.thumbnails import correlation_vectors, perceptual_hash, square
from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.encoder import Encoder
from fer_bench.features.store import FeatureStore
from fer_bench.probes.normalize import l2_normalize


@dataclass
class AuditResult:
    pairs: pd.DataFrame            # every pair at or above the report floor (pairs.COLUMNS)
    sizes: pd.DataFrame            # dataset, split, n
    settings: AuditSettings
    key: str
    cached: bool                   # read from the audit cache
    facts: dict = field(default_factory=dict)   # encoders, candidate counts, timings

    @property
    def duplicates(self) -> pd.DataFrame:
        """The pairs some stage calls duplicates."""
        return self.pairs[self.pairs["stage"] != ""].reset_index(drop=True)


def named_datasets(datasets: Mapping[str, Dataset] | Sequence[Dataset]) -> dict[str, Dataset]:
    """Name -> dataset; a sequence is named by ``Dataset.name``, which must not repeat."""
    if isinstance(datasets, Mapping):
        return dict(datasets)
    named: dict[str, Dataset] = {}
    for ds in datasets:
        if ds.name in named:
            raise DatasetError(f"two datasets are named {ds.name!r}: pass a mapping "
                               "name -> dataset to audit both")
        named[ds.name] = ds
    return named


def audit_key(datasets: Mapping[str, Dataset], thumbnailer: Encoder, encoder: Encoder,
              settings: AuditSettings) -> str:
    return canonical_key({"settings": settings.identity(),
                          "thumbnails": encoder_identity(thumbnailer.info),
                          "encoder": encoder_identity(encoder.info),
                          "datasets": [dataset_identity(n, d) for n, d in datasets.items()]})


def audit_datasets(datasets: Mapping[str, Dataset] | Sequence[Dataset],
                   settings: AuditSettings | None = None, *,
                   cache_dir: str | Path | None = None, device: str = "cpu",
                   progress: bool = False, note: Callable[[str], None] | None = None
                   ) -> AuditResult:
    """Audit ``datasets`` (a mapping name -> dataset, or datasets named by their
    ``name``), reading a finished audit of the same data and settings from the cache."""
    from fer_bench.encoder_registry import get_encoder

    settings = settings or AuditSettings()
    datasets = named_datasets(datasets)
    say = note or (lambda _text: None)
    thumbnailer = get_encoder(THUMBNAIL_ENCODER, device=device)
    encoder = get_encoder(settings.encoder, device=device)
    cache = AuditCache.in_cache(cache_dir)
    key = audit_key(datasets, thumbnailer, encoder, settings)
    sizes = split_sizes(datasets)
    found = cache.read(key)
    if found is None:
        with cache.locked(key):
            found = cache.read(key)     # another process may have finished it meanwhile
            if found is None:
                store = FeatureStore.in_cache(cache_dir)
                pairs, facts = _compute(datasets, thumbnailer, encoder, store, settings,
                                        progress, say)
                cache.write(key, pairs, facts)
                return AuditResult(pairs, sizes, settings, key, False, facts)
    pairs, meta = found
    say(f"audit read from the cache (key {key[:12]})")
    return AuditResult(pairs, sizes, settings, key, True, meta)


def _compute(datasets: dict[str, Dataset], thumbnailer: Encoder, encoder: Encoder,
             store: FeatureStore, settings: AuditSettings, progress: bool,
             say: Callable[[str], None]) -> tuple[pd.DataFrame, dict]:
    t0 = time.perf_counter()
    say(f"features: {thumbnailer.info.name}@{thumbnailer.info.revision} thumbnails and "
        f"{encoder.info.name}@{encoder.info.revision} (feature store)")
    items = gather_items(datasets, thumbnailer, encoder, store, progress)
    t1 = time.perf_counter()
    squares = square(items.thumbnails)
    vectors = correlation_vectors(items.thumbnails)
    codes = perceptual_hash(squares)
    unit = l2_normalize(items.features)
    k = settings.neighbours
    groups = (items.table["dataset"] + "/" + items.table["split"]).tolist()
    say(f"searching {k} neighbours of each of {len(items.table):,} images")
    candidates = {"thumbnail": inner_product_pairs(vectors, k),
                  "hash": hash_pairs(codes, k),
                  "encoder": inner_product_pairs(unit, k),
                  "bytes": same_bytes_pairs(items.digests, items.files, groups)}
    t2 = time.perf_counter()
    say(f"measuring {sum(len(p) for p in candidates.values()):,} candidate pairs")
    pairs = measure_pairs(items, candidates, correlation_vectors=vectors, squares=squares,
                          codes=codes, unit_features=unit, settings=settings)
    t3 = time.perf_counter()
    facts = {"encoder": f"{encoder.info.name}@{encoder.info.revision}",
             "thumbnails": f"{thumbnailer.info.name}@{thumbnailer.info.revision}",
             "images": len(items.table),
             "candidates": {name: len(p) for name, p in candidates.items()},
             "seconds": {"features": round(t1 - t0, 1), "search": round(t2 - t1, 1),
                         "measure": round(t3 - t2, 1)}}
    return pairs, facts
