"""In-memory stand-ins for protocol and record tests: datasets whose "features" are given
arrays, a store that serves them, an encoder that must never be built, a sample record."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing
from fer_bench.records import DatasetRef, Flags, MetricSummary, ResultRecord
from fer_bench.vocabulary import ALL_EXPRESSIONS


class NeverBuilt(Encoder):
    """An encoder whose weights must not be loaded (the store never misses here)."""

    def __init__(self, name="fake", pretrained_on=(), revision="r1", digest="d1", layer="none"):
        super().__init__(EncoderInfo(name, revision, len(ALL_EXPRESSIONS), Preprocessing(), layer,
                                     weights_digest=digest, pretrained_on=pretrained_on))

    def build(self):
        raise AssertionError(f"encoder {self.info.name} was built")


def blob_dataset(name, classes, sizes, *, official_val=True, extra_labels=None, seed=0,
                 image_family="", subjects=0, noise=0.05):
    """A dataset whose rows carry their features in ``info["features"]`` (separable
    classes), ``sizes`` = {split: rows per class}; ``extra_labels`` =
    {split: [labels]} adds rows outside the declared classes; with ``subjects`` > 0, row j
    of each class (and extra row j) belongs to subject ``s{j % subjects}``."""
    rng = np.random.default_rng(seed)
    # Class c sits near unit vector e_i, i = its index in the canonical vocabulary, so
    # two datasets agree on where an expression lives (cross-dataset transfer works).
    dim = len(ALL_EXPRESSIONS)
    rows = []
    for split, per_class in sizes.items():
        for c in classes:
            for j in range(per_class):
                centre = np.zeros(dim)
                centre[ALL_EXPRESSIONS.index(c)] = 1.0
                rows.append((f"{name}-{split}-{c}-{j}", c, split,
                             centre + noise * rng.standard_normal(dim), j))
        for j, label in enumerate((extra_labels or {}).get(split, [])):
            rows.append((f"{name}-{split}-x{j}", label, split, rng.standard_normal(dim), j))
    manifest = pd.DataFrame({"id": [r[0] for r in rows], "path": [r[0] for r in rows],
                             "label": [r[1] for r in rows], "split": [r[2] for r in rows],
                             "subject": [f"s{r[4] % subjects}" if subjects else ""
                                         for r in rows]})
    ds = Dataset(name, "/nonexistent", tuple(classes), manifest, image_family=image_family,
                 official_val=official_val)
    ds.info["features"] = {r[0]: np.asarray(r[3], dtype=np.float32) for r in rows}
    return ds


class ArrayStore:
    """Serves the features stored in a blob dataset's info, in manifest order."""

    def __init__(self):
        self.calls = []

    def get(self, encoder, dataset, **options):
        self.calls.append((dataset.name, tuple(sorted(set(dataset.manifest["split"])))))
        ids = dataset.manifest["id"].astype(str).to_numpy()
        X = np.stack([dataset.info["features"][i] for i in ids])
        split = "+".join(sorted(set(dataset.manifest["split"])))
        return SimpleNamespace(ids=ids, X=X, key=f"{dataset.name}:{split}", meta={})


def exploding_pixels(weights=None, device="cpu"):
    """The ``pixels`` encoder's metadata with a build() that raises: usable as
    ``--encoder protocol_fakes:exploding_pixels`` to prove weights are never loaded."""
    from fer_bench.encoder_registry import get_encoder

    class Exploding(type(get_encoder("pixels"))):
        def build(self):
            raise AssertionError("pixels weights were loaded")

    return Exploding(get_encoder("pixels").info, device)


def make_record(target="synth-wild", recall_nan=False) -> ResultRecord:
    """A hand-made record: test-selected, pre-trained on synth-wild, two seeds."""
    return ResultRecord(
        encoder={"name": "my_pkg.enc:make", "revision": "v2", "weights_digest": "abc"},
        protocol="linear", protocol_version=3, config={"Cs": [0.1, 1.0], "n_boot": 1000},
        target=target,
        datasets=[DatasetRef("synth-wild", "eval", "d" * 64, "synth-wild",
                             {"train": 90, "val": 10, "test": 30}, "c" * 64, "l" * 64)],
        class_set=["neutral", "happiness"], seeds=[0, 1],
        metrics={"mean_class_accuracy": MetricSummary(0.75, 0.05, (0.7, 0.8), (0.6, 0.9)),
                 "accuracy": MetricSummary(0.8, 0.0, (0.8, 0.8), (0.7, 0.9)),
                 "macro_f1": MetricSummary(0.7, 0.1, (0.6, 0.8), None)},
        per_seed=[{"seed": 0, "metrics": {"accuracy": 0.8}, "hyperparameters": {"C": 0.1}}],
        per_class_recall={"neutral": 0.5, "happiness": math.nan if recall_nan else 1.0},
        confusion=[[5, 5], [0, 20]],
        class_counts={"synth-wild/test": {"neutral": 10, "happiness": 20}},
        dropped_labels={"synth-wild/train": {"": 3}},
        hyperparameters={"C": [0.1, 1.0]},
        flags=Flags(test_selected=True, pretraining_overlap=("synth-wild",)),
        timings={"extract_s": 1.0, "probe_s": 2.0, "total_s": 3.0},
        environment={"python": "3.11"}, feature_keys=["k1", "k2"],
        created="2026-01-01T00:00:00+00:00")
