"""Which test items a probe is scored on: all of them (as published), or only those
with no near-duplicate in the data the probe learnt from (``test_items=deduplicated``).

FER datasets leak across their own splits: FERPlus (FER2013's photos) has a training face
that is the same photo, re-encoded, cropped or shifted, for about one test face in five
(684 of 3,137; 732 with those whose partner is in val: ``fer-bench datasets audit``).
A kNN probe or a memorising encoder profits from exactly these, so the leaderboard can
show a dataset both ways: the published test split under its own name, and the
deduplicated one as the variant ``<dataset>@deduplicated`` (a column beside it in the
tables). The near-duplicates are those the audit finds between the test split and the
train and val splits (:mod:`fer_bench.audit`, its default settings and thresholds,
cached by the data's identity); the record keeps the audit's key, settings and how many
items were dropped.
"""
from __future__ import annotations

import time

import numpy as np

from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext

TEST_ITEMS = ("all", "deduplicated")
VARIANT = "deduplicated"


def check_test_items(value: str) -> None:
    if value not in TEST_ITEMS:
        raise ProtocolError(f"test_items must be one of {TEST_ITEMS}, got {value!r}")


def target_name(spec: str, test_items: str) -> str:
    """A record's target: the dataset spec, ``@deduplicated`` when scored on the clean
    subset (so both records live side by side)."""
    return spec if test_items == "all" else f"{spec}@{VARIANT}"


def scored_items(ctx: RunContext, spec: str, test: LabelledSplit,
                 test_items: str) -> tuple[LabelledSplit, dict]:
    """The test rows to score and what the record says about them."""
    if test_items == "all":
        return test, {}
    if not ctx.has_split(spec, "test"):
        raise ProtocolError(f"{spec} has no official test split: test_items=deduplicated "
                            "compares a test split with the train and val splits")
    from fer_bench.audit import AuditSettings, audit_datasets, near_duplicate_test_items

    store_root = getattr(ctx.store, "root", None)
    cache = store_root.parent if store_root is not None else None
    settings = AuditSettings()
    started = time.perf_counter()
    result = audit_datasets({spec: ctx.dataset(spec)}, settings, cache_dir=cache,
                            device=ctx.device, progress=ctx.progress)
    ctx.spent_auditing(time.perf_counter() - started)
    dropped = near_duplicate_test_items(result, spec)
    keep = np.flatnonzero([i not in dropped for i in test.ids])
    if len(keep) == 0:
        raise ProtocolError(f"{spec}: every test item has a near-duplicate in train/val")
    clean = test.take(keep, f"test-{VARIANT}")
    return clean, {"test_items": {
        "kind": VARIANT,
        "rule": "test items with no near-duplicate (any audit stage) in the train or val "
                "split, by fer-bench datasets audit",
        "audit_key": result.key, "audit_settings": settings.identity(),
        "dropped": int(len(test) - len(keep)), "scored": int(len(keep))}}
