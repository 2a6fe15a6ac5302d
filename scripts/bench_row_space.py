"""The linear probe on wide features, fitted in the row space of its rows vs in the
feature coordinates, on the reference leaderboard's own cases, in one run.

    FER_BENCH_DATA=<data root> .venv/bin/python scripts/bench_row_space.py \\
        [--case lbp:synth-lab --case lbp:synth-compound] [--shots 10] [--cache-dir DIR]

For each case (an encoder whose features are cached, a dataset of the reference) it builds
the ``linear`` protocol's parts for seed 0 exactly as ``scripts/bench_probe_search.py``
does (the committed record must name the features read) and fits the protocol's probe
(the full C sweep, validation carved or official, refit on train + validation) twice:
with the solver's default, which fits in the row space when the training rows are at most
0.8 of the dimension, and with the row space turned off. Then a few-shot support of
``--shots`` rows per class drawn from the same training rows, fitted at C = 1 (few-shot's
``linear``) both ways. The two arms alternate in order from case to case.

Prints per fit: the rows and dimension, wall and CPU seconds of each arm and their ratio,
the chosen C and the test mean class accuracy of each arm (the tolerance: the same C, and
test scores within 0.5 points), the largest difference between the two refits' weights;
then the totals and the load average before and after. Run it with nothing else on the
machine. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

CASES = ["lbp:synth-lab", "lbp:synth-compound"]


def timed(fit, *args):
    started, cpu = time.perf_counter(), time.process_time()
    out = fit(*args)
    return out, time.perf_counter() - started, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", default=[], metavar="ENCODER:DATASET")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--records", type=Path, default=Path("results/records"))
    parser.add_argument("--cache-dir", default=None, help="default: fer-bench's cache")
    parser.add_argument("--data-root", default=None, help="default: $FER_BENCH_DATA")
    args = parser.parse_args(argv)

    import bench_probe_search as search

    import fer_bench.probes.principal_axes as axes
    from fer_bench.features.store import FeatureStore
    from fer_bench.metrics import classification_metrics
    from fer_bench.paths import data_root
    from fer_bench.probes.linear import fit_logistic
    from fer_bench.probes.normalize import l2_normalize
    from fer_bench.protocols.base import get_protocol
    from fer_bench.protocols.context import RunContext
    from fer_bench.protocols.data_parts import dataset_parts
    from fer_bench.protocols.evaluation import fit_probe
    from fer_bench.runner import DatasetCache
    from fer_bench.splits import few_shot_support

    protocol = get_protocol("linear")
    store = FeatureStore.in_cache(args.cache_dir)
    load = DatasetCache(data_root(args.data_root))
    default_fraction = axes.ROW_SPACE_FRACTION
    arms = {"row space": default_fraction, "features": 0.0}
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    totals = {arm: [0.0, 0.0] for arm in arms}
    for index, case in enumerate(args.case or CASES):
        encoder, dataset = case.split(":", 1)
        path = search.find_record(args.records, encoder, dataset, protocol.version)
        if path is None:
            print(f"{case}: skipped (no record)")
            continue
        record = json.loads(path.read_text())
        ctx = RunContext(search.encoder_from_record(record), search.CachedFeatures(store),
                         load=load, seeds=(0,), progress=False)
        classes = tuple(protocol.config.classes or ctx.dataset(dataset).classes)
        try:
            parts = dataset_parts(ctx, dataset, classes, protocol.config.holdout_fraction)
        except search.NotCached as e:
            print(f"{case}: skipped ({e})")
            continue
        test = parts.test
        order = list(arms) if index % 2 == 0 else list(arms)[::-1]
        results = {}
        for arm in order:
            axes.ROW_SPACE_FRACTION = arms[arm]
            try:
                (fit, probe), seconds, cpu = timed(fit_probe, ctx, "linear",
                                                   asdict(protocol.config), parts, 0)
            finally:
                axes.ROW_SPACE_FRACTION = default_fraction
            ctx.memo.clear()  # the other arm must fit, not reuse
            score = classification_metrics(test.y, probe.predict(test.X), len(classes))
            results[arm] = (probe, seconds, cpu, score["mean_class_accuracy"])
        (a, sa, ca, ta), (b, sb, cb, tb) = results["row space"], results["features"]
        gap = np.abs(a.result.model.coef - b.result.model.coef).max()
        for arm, (_, s, c, _) in results.items():
            totals[arm][0] += s
            totals[arm][1] += c
        print(f"{case} linear: {len(fit.train)}+{len(fit.val)} rows x {test.X.shape[1]} | "
              f"s {sa:.1f} vs {sb:.1f} ({sa / sb:.2f}) | cpu {ca:.1f} vs {cb:.1f} "
              f"({ca / cb:.2f}) | C {a.result.best_C:g} vs {b.result.best_C:g} | test "
              f"{100 * ta:.2f} vs {100 * tb:.2f} | max |dW| {gap:.2e}", flush=True)
        support = few_shot_support(parts.train.y, args.shots, len(classes), 0, 0).index
        X, y = l2_normalize(parts.train.X[support]), parts.train.y[support]
        shot = {}
        for arm in order:
            axes.ROW_SPACE_FRACTION = arms[arm]
            try:
                shot[arm] = timed(fit_logistic, X, y, len(classes), 1.0)
            finally:
                axes.ROW_SPACE_FRACTION = default_fraction
        (ma, sa, ca), (mb, sb, cb) = shot["row space"], shot["features"]
        for arm, (_, s, c) in shot.items():
            totals[arm][0] += s
            totals[arm][1] += c
        pred = [m.predict(l2_normalize(test.X)) for m in (ma, mb)]
        print(f"{case} {args.shots}-shot: {len(y)} rows | s {sa:.3f} vs {sb:.3f} "
              f"({sa / sb:.3f}) | test {100 * np.mean(pred[0] == test.y):.2f} vs "
              f"{100 * np.mean(pred[1] == test.y):.2f} accuracy, "
              f"{int(np.sum(pred[0] != pred[1]))} predictions differ | max |dW| "
              f"{np.abs(ma.coef - mb.coef).max():.2e}", flush=True)
    (s_row, c_row), (s_feat, c_feat) = totals["row space"], totals["features"]
    if s_feat:
        print(f"total: row space {s_row:.1f} s ({c_row:.1f} CPU), features {s_feat:.1f} s "
              f"({c_feat:.1f} CPU): ratio {s_row / s_feat:.2f} ({c_row / c_feat:.2f} CPU)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
