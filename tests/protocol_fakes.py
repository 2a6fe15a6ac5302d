"""In-memory stand-ins for protocol tests: datasets whose "features" are given arrays,
a store that serves them, and an encoder that must never be built."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing
from fer_bench.vocabulary import ALL_EXPRESSIONS


class NeverBuilt(Encoder):
    """An encoder whose weights must not be loaded (the store never misses here)."""

    def __init__(self, name="fake", pretrained_on=(), revision="r1", digest="d1"):
        super().__init__(EncoderInfo(name, revision, len(ALL_EXPRESSIONS), Preprocessing(), "none",
                                     weights_digest=digest, pretrained_on=pretrained_on))

    def build(self):
        raise AssertionError(f"encoder {self.info.name} was built")


def blob_dataset(name, classes, sizes, *, official_val=True, extra_labels=None, seed=0,
                 image_family="", subjects=0):
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
                             centre + 0.05 * rng.standard_normal(dim), j))
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
