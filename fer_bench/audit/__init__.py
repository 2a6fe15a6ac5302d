"""Exact and near-duplicate images within and across the splits of datasets, and across
datasets (``fer-bench datasets audit``). :func:`audit_datasets` runs the audit (cached);
:func:`near_duplicate_test_items` names the test items to drop for a clean score."""
from fer_bench.audit.report import near_duplicate_test_items, split_pair_counts
from fer_bench.audit.run import AuditResult, audit_datasets
from fer_bench.audit.settings import AuditSettings

__all__ = ["AuditResult", "AuditSettings", "audit_datasets", "near_duplicate_test_items",
           "split_pair_counts"]
