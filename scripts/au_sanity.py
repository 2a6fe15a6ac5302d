"""Upper bounds of the action-unit and continuous-target protocols on the generated presets.

The renderer knows every face's exact AU intensities, expression intensity and head pose;
a probe whose "features" are those parameters themselves must score near the top, or
the protocol (splits, probe, threshold, metrics) is wrong. This script runs ``au``,
``expression-intensity`` and ``head-pose`` with such an oracle, per preset, and prints
the headline scores with their intervals beside what an encoder would need to beat:

    python scripts/au_sanity.py [--presets synth-lab synth-wild synth-compound]

The oracle's features are the manifest's ``au_*`` columns, ``intensity`` and
``yaw``/``pitch``/``roll`` plus a little noise (so no two rows are identical), never
written to the feature cache and never a record: it checks the protocol, not an encoder.
"""
from __future__ import annotations

import argparse
from types import SimpleNamespace

import numpy as np

from fer_bench.datasets import load_dataset
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing
from fer_bench.protocols.base import Task, get_protocol
from fer_bench.protocols.context import RunContext

ORACLE_COLUMNS = ("intensity", "yaw", "pitch", "roll")


class RendererOracle(Encoder):
    """Metadata only: the store below serves the renderer's parameters as features."""

    def __init__(self):
        super().__init__(EncoderInfo("renderer-oracle", "exact", 1, Preprocessing(), "manifest"))

    def build(self):
        raise AssertionError("the oracle has no network")


class ParameterStore:
    """Features = the manifest's AU, intensity and pose columns (standardised) + noise."""

    def get(self, encoder, dataset, **options):
        table = dataset.manifest
        columns = [c for c in table.columns if c.startswith("au_") and "_present" not in c]
        columns += [c for c in ORACLE_COLUMNS if c in table.columns]
        X = table[columns].to_numpy(np.float64)
        X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
        X += 0.01 * np.random.default_rng(0).standard_normal(X.shape)
        ids = table["id"].astype(str).to_numpy()
        return SimpleNamespace(ids=ids, X=X.astype(np.float32), key="oracle", meta={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+",
                        default=["synth-lab", "synth-wild", "synth-compound"])
    args = parser.parse_args()
    print(f"{'preset':15} {'protocol':21} {'headline':>9}  interval        second")
    for preset in args.presets:
        dataset = load_dataset(preset)
        ctx = RunContext(RendererOracle(), ParameterStore(),
                         load=lambda spec, dataset=dataset: dataset, progress=False)
        for protocol, second in (("au", "mean_icc"),
                                 ("expression-intensity", "mean_pearson_r"),
                                 ("head-pose", "mean_pearson_r")):
            record, _ = get_protocol(protocol).run_task(ctx, Task(protocol, (preset,), preset))
            head = record.headline
            lo, hi = head.interval
            extra = record.metrics[second].mean
            print(f"{preset:15} {protocol:21} {head.mean:9.3f}  [{lo:.3f}, {hi:.3f}]  "
                  f"{second} {extra:.3f}  ({record.headline_metric}, "
                  f"{len(record.class_set)} targets)")


if __name__ == "__main__":
    main()
