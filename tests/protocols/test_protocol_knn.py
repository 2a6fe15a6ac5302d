"""``knn`` protocol: bank = train only, queries = test, headline k, every k logged."""
from __future__ import annotations

import numpy as np
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.probes.knn import knn_probe
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.vocabulary import BASIC7


def test_bank_is_train_only_and_predictions_match_a_direct_probe_call():
    ds = blob_dataset("d", BASIC7, {"train": 6, "val": 4, "test": 3},
                      extra_labels={"train": ["contempt"]})
    store = ArrayStore()
    ctx = RunContext(NeverBuilt(), store, load={"d": ds}.__getitem__)
    protocol = get_protocol("knn", k=5, ks=(1, 100))
    record, predictions = protocol.run_task(ctx, protocol.tasks(["d"])[0])

    assert {split for _, splits in store.calls for split in splits} == {"train", "test"}
    train, test = ctx.split("d", "train", BASIC7), ctx.split("d", "test", BASIC7)
    direct = knn_probe(train.X, train.y, test.X, 7, ks=(5,), T=0.07)[5]
    assert predictions["y_pred"].tolist() == np.asarray(BASIC7)[direct].tolist()
    assert record.hyperparameters == {"k": 5, "k_effective": 5, "T": 0.07}
    # every k logged; k above the bank size (42 rows) is clamped
    assert sorted(record.details["by_k"], key=int) == ["1", "5", "100"]
    assert record.details["by_k"]["100"]["k_effective"] == 42
    assert [r["seed"] for r in record.per_seed] == [0]  # deterministic: one run
    assert record.details["sample_sizes"] == {"train": 42, "test": 21}
    assert record.dropped_labels == {"d/train": {"contempt": 1}}
    assert record.headline.mean == 1.0
