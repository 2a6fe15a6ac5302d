#!/usr/bin/env python
"""Compare two trees of result records: did a change move any score or any choice?

    python scripts/compare_records.py OLD_RECORDS NEW_RECORDS [--tolerance 0.5]

Pairs the records by their path under each tree (``<encoder>/<revision>/<protocol>-v<N>/
<case>.json``) and, for each pair, compares every metric's mean over seeds and each seed's
selected hyperparameters (the probe's C, alphas, ...). Prints the pairs whose headline
metric moved, with the change in points and whether it stays within the tolerance (in
points of the metric, 0.5 by default: the linear probe's own tie tolerance, below what a
validation set tells apart) and inside the old record's confidence interval; then the
pairs whose selected hyperparameters changed, the counts (identical, within tolerance,
outside), and the records found in one tree only. Exits 1 when some headline metric
moved by more than the tolerance. Not a test: a reading aid for re-runs of the reference.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load(root: Path) -> dict[str, dict]:
    return {str(p.relative_to(root)): json.loads(p.read_text())
            for p in sorted(root.glob("*/*/*/*.json"))}


def metric_means(record: dict) -> dict[str, float]:
    return {name: value["mean"] for name, value in record.get("metrics", {}).items()
            if isinstance(value, dict) and "mean" in value}


def seed_choices(record: dict) -> list:
    return [entry.get("hyperparameters") for entry in record.get("per_seed", [])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.5,
                        help="points of the headline metric (default 0.5)")
    args = parser.parse_args(argv)
    old, new = load(args.old), load(args.new)
    shared = sorted(set(old) & set(new))
    identical = within = outside = values = same_values = 0
    changed_choices = []
    for name in shared:
        a, b = old[name], new[name]
        means_a, means_b = metric_means(a), metric_means(b)
        for metric in means_a.keys() & means_b.keys():
            values += 1
            same_values += means_a[metric] == means_b[metric]
        if seed_choices(a) != seed_choices(b):
            changed_choices.append(name)
        headline = a.get("headline_metric")
        if headline not in means_a or headline not in means_b:
            continue
        before, after = means_a[headline], means_b[headline]
        if before == after:
            identical += 1
            continue
        points = 100 * (after - before)
        interval = a["metrics"][headline].get("interval") or [before, before]
        inside = interval[0] <= after <= interval[1]
        ok = abs(points) <= args.tolerance
        within += ok
        outside += not ok
        print(f"{name}: {headline} {100 * before:.2f} -> {100 * after:.2f} "
              f"({points:+.2f} points; {'within' if ok else 'OUTSIDE'} {args.tolerance}; "
              f"{'inside' if inside else 'outside'} the old 95% interval)")
    if changed_choices:
        print(f"\nselected hyperparameters changed in {len(changed_choices)} record(s):")
        for name in changed_choices:
            print(f"  {name}: {seed_choices(old[name])} -> {seed_choices(new[name])}")
    print(f"\n{len(shared)} records in both trees: headline identical in {identical}, moved "
          f"within {args.tolerance} points in {within}, outside in {outside}; "
          f"{same_values} of {values} metric means identical")
    for label, only in (("old", set(old) - set(new)), ("new", set(new) - set(old))):
        if only:
            print(f"only in the {label} tree ({len(only)}): {', '.join(sorted(only)[:10])}"
                  f"{' ...' if len(only) > 10 else ''}")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
