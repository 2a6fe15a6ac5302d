"""The linear probe's two C searches side by side on the reference leaderboard's own cases.

    FER_BENCH_DATA=<data root with ferplus/> nice -n 10 .venv/bin/python \\
        scripts/bench_probe_search.py            # the cheap cases
    ... scripts/bench_probe_search.py --all      # + the other reference encoders (hog
                                                 #   and lbp on FERPlus: long)
    ... scripts/bench_probe_search.py --case pixels:synth-lab --case crs-cont:ferplus

For each (encoder, dataset) case it reads the committed ``linear`` record
(``results/records/<encoder>/<revision>/linear-v<version>/<dataset>.json``), checks that
its config is the ``linear`` protocol's resolved config and that the feature store holds
every entry the record names (``FeatureStore.entry``; a case without them is listed as
skipped: this script never extracts), then builds the protocol's own parts for seed 0
(:func:`fer_bench.protocols.data_parts.dataset_parts` over the dataset's declared classes,
and :func:`fer_bench.protocols.evaluation.fit_probe`, which carves validation or takes
the official one exactly as the protocol does) and fits the ``linear`` probe twice, with
``search="full"`` (the protocol's probe, which must reproduce the record's seed-0 C and
test score: the ``record`` column says so) and with ``search="coarse-fine"``.

Prints per case: the chosen C of each search, its validation score, the test mean class
accuracy, the number of fits (C values evaluated plus the refit) and of L-BFGS iterations
over all of them (a cost that does not move with the load), the wall and CPU seconds of
each probe fit and their ratios; then every case whose choice differs, judged against the
tolerance (chosen C identical, or one half-decade apart with test scores within 0.5
points), the totals and their ratios, and the load average before and after. The
machine may be shared (e.g. with a training job): the ratios are the figures to read,
CPU time moves less with the load than wall time, and absolute times move with it. Not a
test.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

DATASETS = ("synth-wild", "synth-lab", "synth-compound", "ferplus")
# The default cases: seconds to a few minutes per search (facemesh is 1,421-d, the others
# 512-576-d).
CHEAP = [(e, d) for e in ("pixels", "random-resnet18", "crs-cont", "facemesh")
         for d in DATASETS]
# --all adds every other reference encoder: the narrow learnt ones (cheap too) and the
# wide hand-crafted ones (hog 1,764-d, lbp 2,891-d: minutes per fit sequence on FERPlus).
EXPENSIVE = [(e, d) for e in ("mini-xception", "pyemotion", "hog", "lbp") for d in DATASETS]
TOLERANCE_POINTS = 0.5  # test mean class accuracy, in points, for a half-decade apart


class NotCached(LookupError):
    """A feature entry the benchmark needs is not in the store."""


class CachedFeatures:
    """The feature store seen read-only: ``get`` answers from the cache or refuses."""

    def __init__(self, store):
        self.store = store

    def get(self, encoder, dataset, **_options):
        found = self.store.lookup(encoder.info, dataset)
        if found is None:
            raise NotCached(f"{encoder.info.name} features of {dataset.name} are not cached")
        return found


def encoder_from_record(record: dict):
    """An encoder with the record's metadata whose weights never load (cache hits only)."""
    from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing

    meta = dict(record["encoder"])
    meta["preprocessing"] = Preprocessing(**meta["preprocessing"])

    class Recorded(Encoder):
        def build(self):
            raise NotCached("this benchmark reads cached features only")

    return Recorded(EncoderInfo(**meta))


def find_record(records: Path, encoder: str, dataset: str, version: int) -> Path | None:
    found = sorted(records.glob(f"{encoder}/*/linear-v{version}/{dataset}.json"))
    return found[0] if found else None


def run_case(encoder: str, dataset: str, args, protocol, store, load) -> dict:
    from fer_bench.metrics import classification_metrics
    from fer_bench.protocols.context import RunContext
    from fer_bench.protocols.data_parts import dataset_parts
    from fer_bench.protocols.evaluation import fit_probe

    path = find_record(args.records, encoder, dataset, protocol.version)
    if path is None:
        return {"skip": f"no linear-v{protocol.version} record"}
    record = json.loads(path.read_text())
    if record["config"] != protocol.resolved_config():
        return {"skip": "record config differs from the protocol's resolved config"}
    missing = [k[:12] for k in record["feature_keys"] if store.entry(k) is None]
    if missing:
        return {"skip": f"features not cached ({len(missing)} of "
                        f"{len(record['feature_keys'])} entries: {', '.join(missing)})"}
    ctx = RunContext(encoder_from_record(record), CachedFeatures(store), load=load,
                     seeds=(0,), progress=False)
    config = protocol.config
    classes = tuple(config.classes or ctx.dataset(dataset).classes)
    parts = dataset_parts(ctx, dataset, classes, config.holdout_fraction)
    test = parts.test
    keys = {parts.train.feature_key, test.feature_key}
    if parts.val is not None:
        keys.add(parts.val.feature_key)
    keys = {k for joined in keys for k in joined.split("+")}
    if keys != set(record["feature_keys"]):
        return {"skip": "the features read are not the record's"}
    out = {"dim": test.X.shape[1], "record_C": record["per_seed"][0]["hyperparameters"]["C"],
           "record_test": record["per_seed"][0]["metrics"]["mean_class_accuracy"]}
    for search in ("full", "coarse-fine"):
        options = {**asdict(config), "search": search}
        started, cpu = time.perf_counter(), time.process_time()
        fit, probe = fit_probe(ctx, "linear", options, parts, seed=0)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        result = probe.result
        pred = probe.predict(test.X)
        scores = classification_metrics(test.y, pred, len(classes))
        out[search] = {"C": result.best_C, "val": max(result.val_curve.values()),
                       "val_at_C": result.val_curve[result.best_C],
                       "test": scores["mean_class_accuracy"], "fits": result.n_fits,
                       "iterations": sum(e["n_iter"] for e in result.path),
                       "Cs": sorted(result.val_curve), "seconds": seconds, "cpu": cpu}
        out["sizes"] = (len(fit.train), len(fit.val), len(test))
    return out


def half_decades(a: float, b: float) -> int:
    return round(2 * abs(math.log10(b / a)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true",
                        help="also the other reference encoders (mini-xception, pyemotion and the "
                             "expensive hog and lbp)")
    parser.add_argument("--case", action="append", default=[], metavar="ENCODER:DATASET",
                        help="only these cases (repeatable)")
    parser.add_argument("--records", type=Path, default=Path("results/records"))
    parser.add_argument("--cache-dir", default=None, help="default: fer-bench's cache")
    parser.add_argument("--data-root", default=None, help="default: $FER_BENCH_DATA")
    args = parser.parse_args(argv)

    from fer_bench.features.store import FeatureStore
    from fer_bench.paths import data_root
    from fer_bench.protocols.base import get_protocol
    from fer_bench.runner import DatasetCache

    if args.case:
        cases = [tuple(c.split(":", 1)) for c in args.case]
    else:
        cases = CHEAP + (EXPENSIVE if args.all else [])
    protocol = get_protocol("linear")
    store = FeatureStore.in_cache(args.cache_dir)
    load = DatasetCache(data_root(args.data_root))
    import torch
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"torch threads {torch.get_num_threads()}; feature store {store.root}")
    header = (f"{'case':30s} {'dim':>5s} {'train/val/test':>17s} | {'C full':>8s} "
              f"{'C c-f':>8s} | {'val full':>8s} {'val c-f':>8s} | {'test full':>9s} "
              f"{'test c-f':>8s} | {'fits':>5s} {'L-BFGS its':>11s} | {'s full':>7s} {'s c-f':>7s} "
              f"{'ratio':>5s} | {'cpu full':>8s} {'cpu c-f':>7s} {'ratio':>5s} | record")
    print(header)
    rows, skipped = [], []
    for encoder, dataset in cases:
        name = f"{encoder}:{dataset}"
        try:
            out = run_case(encoder, dataset, args, protocol, store, load)
        except NotCached as e:
            out = {"skip": str(e)}
        if "skip" in out:
            skipped.append((name, out["skip"]))
            print(f"{name:30s} skipped: {out['skip']}", flush=True)
            continue
        full, cf = out["full"], out["coarse-fine"]
        same_record = (math.isclose(full["C"], out["record_C"])
                       and math.isclose(full["test"], out["record_test"]))
        ratio = cf["seconds"] / full["seconds"]
        check = ("same" if same_record else
                 f"DIFFERS (C {out['record_C']:g}, test {100 * out['record_test']:.2f})")
        rows.append((name, out))
        print(f"{name:30s} {out['dim']:5d} {'/'.join(map(str, out['sizes'])):>17s} | "
              f"{full['C']:8.3g} {cf['C']:8.3g} | {full['val_at_C']:8.4f} "
              f"{cf['val_at_C']:8.4f} | {100 * full['test']:9.2f} {100 * cf['test']:8.2f} | "
              f"{full['fits']:2d}/{cf['fits']:2d} {full['iterations']:5d}/{cf['iterations']:5d} | "
              f"{full['seconds']:7.1f} "
              f"{cf['seconds']:7.1f} {ratio:5.2f} | {full['cpu']:8.1f} {cf['cpu']:7.1f} "
              f"{cf['cpu'] / full['cpu']:5.2f} | "
              f"{check}",
              flush=True)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not rows:
        return 1
    print(f"\ntolerance: chosen C identical, or one half-decade apart with test mean class "
          f"accuracy within {TOLERANCE_POINTS} points")
    identical = [n for n, o in rows if o["full"]["C"] == o["coarse-fine"]["C"]]
    print(f"chosen C identical in {len(identical)} of {len(rows)} cases")
    for name, o in rows:
        full, cf = o["full"], o["coarse-fine"]
        if full["C"] == cf["C"]:
            if full["test"] != cf["test"]:
                print(f"  {name}: same C, test {100 * full['test']:.2f} vs "
                      f"{100 * cf['test']:.2f} (refits from different warm starts)")
            continue
        steps = half_decades(full["C"], cf["C"])
        gap = 100 * abs(full["test"] - cf["test"])
        within = steps <= 1 and gap <= TOLERANCE_POINTS
        print(f"  {name}: C {full['C']:g} vs {cf['C']:g} ({steps} half-decade(s)), test "
              f"{100 * full['test']:.2f} vs {100 * cf['test']:.2f} ({gap:.2f} points): "
              f"{'within' if within else 'OUTSIDE'} the tolerance; full evaluated "
              f"{len(full['Cs'])} Cs, coarse-fine {len(cf['Cs'])}")
    total_full = sum(o["full"]["seconds"] for _, o in rows)
    total_cf = sum(o["coarse-fine"]["seconds"] for _, o in rows)
    fits_full = sum(o["full"]["fits"] for _, o in rows)
    fits_cf = sum(o["coarse-fine"]["fits"] for _, o in rows)
    ratios = sorted(o["coarse-fine"]["seconds"] / o["full"]["seconds"] for _, o in rows)
    cpu_full = sum(o["full"]["cpu"] for _, o in rows)
    cpu_cf = sum(o["coarse-fine"]["cpu"] for _, o in rows)
    its_full = sum(o["full"]["iterations"] for _, o in rows)
    its_cf = sum(o["coarse-fine"]["iterations"] for _, o in rows)
    print(f"fits: full {fits_full}, coarse-fine {fits_cf} ({fits_cf / fits_full:.2f}); L-BFGS "
          f"iterations: full {its_full}, coarse-fine {its_cf} ({its_cf / its_full:.2f})")
    print(f"seconds: full {total_full:.1f}, coarse-fine {total_cf:.1f}, ratio "
          f"{total_cf / total_full:.2f} (per case: {' '.join(f'{r:.2f}' for r in ratios)})")
    print(f"CPU seconds: full {cpu_full:.1f}, coarse-fine {cpu_cf:.1f}, ratio "
          f"{cpu_cf / cpu_full:.2f}")
    if skipped:
        print(f"skipped {len(skipped)}: " + "; ".join(f"{n} ({why})" for n, why in skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
