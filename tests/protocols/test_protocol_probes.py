"""Protocols find probes by name: a probe class registered anywhere is usable by every
protocol that takes a probe option, with no change to the protocols."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

from fer_bench.probes.base import Probe, register_probe, unregister_probe
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import get_protocol, protocol_from_spec
from fer_bench.protocols.context import ProtocolError, RunContext
from fer_bench.vocabulary import BASIC, BASIC7

NAME = "test-nearest-mean"


@dataclass
class NearestMean(Probe):
    """Each row goes to the class whose mean training row is the closest in angle."""
    name: ClassVar[str] = NAME
    fit_dependent: ClassVar[tuple[str, ...]] = ("n_means",)
    shrink: float = 0.0            # pulls every mean toward the overall mean

    def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0):
        X = l2_normalize(X)
        means = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
        present = np.unique(y)
        for c in present:
            means[c] = X[y == c].mean(axis=0)
        means[present] += self.shrink * (X.mean(axis=0) - means[present])
        self.means, self.present = l2_normalize(means), present
        return self

    def scores(self, X):
        scores = l2_normalize(X) @ self.means.T
        absent = np.setdiff1d(np.arange(len(self.means)), self.present)
        scores[:, absent] = -np.inf
        return scores

    def hyperparameters(self):
        return {"shrink": self.shrink, "n_means": len(self.present)}


@pytest.fixture
def nearest_mean():
    register_probe(NearestMean)
    yield NearestMean
    unregister_probe(NAME)


@pytest.fixture
def ctx():
    datasets = {
        "seven": blob_dataset("seven", BASIC7, {"train": 8, "val": 2, "test": 3}),
        "eight": blob_dataset("eight", BASIC, {"train": 8, "test": 3}, official_val=False,
                              seed=1),
        "lab": blob_dataset("lab", BASIC7, {"train": 10}, official_val=False, subjects=10),
    }
    return RunContext(NeverBuilt(), ArrayStore(), load=datasets.__getitem__, seeds=(0, 1))


def test_an_unregistered_probe_name_is_refused_by_every_protocol():
    for protocol, options in (("cross-dataset", {"probe": NAME}),
                              ("subject-folds", {"probe": NAME}),
                              ("few-shot", {"probes": (NAME,)}),
                              ("unseen-expression", {"probes": (NAME,)})):
        with pytest.raises(ProtocolError, match=NAME):
            get_protocol(protocol, **options)


def test_a_registered_probe_runs_in_cross_dataset_by_name(nearest_mean, ctx):
    protocol = protocol_from_spec(f"cross-dataset:probe={NAME}")
    task = protocol.tasks(["eight", "seven"])[1]          # eight -> seven, 7 shared classes
    record, predictions = protocol.run_task(ctx, task)
    train = ctx.split("eight", "train", BASIC7)
    test = ctx.split("seven", "test", BASIC7)
    expected = NearestMean().fit(train.X, train.y, 7).predict(test.X)
    assert predictions["y_pred"].tolist() == np.asarray(BASIC7)[expected].tolist()
    # deterministic without validation: one run, the settings once, no validation part
    assert [e["seed"] for e in record.per_seed] == [0]
    assert record.hyperparameters == {"shrink": 0.0, "n_means": 7}
    assert record.details["sample_sizes"] == {"train": 56, "test": 21}
    assert record.details["probe"] == NAME and record.config["probe"] == NAME


def test_a_registered_probe_runs_in_subject_folds_few_shot_and_unseen_expression(
        nearest_mean, ctx):
    folds = get_protocol("subject-folds", probe=NAME, folds=5)
    record, _ = folds.run_task(ctx, folds.tasks(["lab"])[0])
    assert record.hyperparameters == {"shrink": 0.0}
    assert [f["n_means"] for f in record.per_seed[0]["details"]["folds"]] == [7] * 5

    few = get_protocol("few-shot", probes=(NAME,), shots=(2,), draws=2, n_boot=10)
    (task,) = few.tasks(["seven"])
    record, _ = few.run_task(ctx, task)
    assert task.target == f"seven@2shot-{NAME}"
    assert record.hyperparameters == {"shrink": [0.0, 0.0], "n_means": [7, 7]}
    assert [e["details"]["support_size"] for e in record.per_seed] == [14, 14]

    unseen = get_protocol("unseen-expression", probes=(NAME, f"few-shot-{NAME}"),
                          scopes=("unseen",), n_boot=10)
    targets = [t.target for t in unseen.tasks(["seven"])]
    assert targets == [f"seven@unseen-{NAME}", f"seven@unseen-few-shot-{NAME}"]
    for task in unseen.tasks(["seven"]):      # NeverBuilt saw no expression: all unseen
        record, _ = unseen.run_task(ctx, task)
        assert record.details["probe"] == task.probe
