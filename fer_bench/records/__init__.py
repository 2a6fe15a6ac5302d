"""Result records: the JSON files that protocols write and leaderboards/plots read."""
from fer_bench.records.io import (RecordScan, find_record_files, load_records, pair_target,
                                  read_predictions, read_record, record_path, scan_records,
                                  split_pair, write_record)
from fer_bench.records.migrate import RecordSchemaError
from fer_bench.records.overlap import record_overlaps
from fer_bench.records.schema import (HEADLINE_METRIC, SCHEMA_VERSION, SCORE_METRICS, SIDES,
                                      DatasetRef, Flags, MetricSummary, Overlap, RecordKey,
                                      ResultRecord)

__all__ = [
    "DatasetRef", "Flags", "HEADLINE_METRIC", "MetricSummary", "Overlap", "RecordKey",
    "RecordScan", "RecordSchemaError", "ResultRecord", "SCHEMA_VERSION", "SCORE_METRICS", "SIDES",
    "find_record_files", "load_records", "pair_target", "read_predictions", "read_record",
    "record_overlaps", "record_path", "scan_records", "split_pair", "write_record",
]
