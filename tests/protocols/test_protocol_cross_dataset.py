"""``cross-dataset``: pairs, class-set intersection, dropped labels, overlap flags."""
from __future__ import annotations

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

import fer_bench.protocols.cross_dataset as cross
import fer_bench.protocols.evaluation as evaluation
from fer_bench.probes.linear import linear_probe
from fer_bench.probes.normalize import l2_normalize
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from fer_bench.records.io import pair_target
from fer_bench.vocabulary import BASIC, BASIC7

CS = (0.01, 1.0, 100.0)


@pytest.fixture
def ctx():
    datasets = {
        # 7 classes, official val
        "seven": blob_dataset("seven", BASIC7, {"train": 8, "val": 2, "test": 3}),
        # 8 classes (contempt too), no official val; its images are FER2013's
        "eight": blob_dataset("eight", BASIC, {"train": 8, "test": 3}, official_val=False,
                              seed=1, image_family="fer2013-images"),
        # only two basic classes in common with `seven`
        "tiny": blob_dataset("tiny", ("happiness", "happily surprised"), {"train": 4, "test": 2}),
    }
    return RunContext(NeverBuilt(pretrained_on=("fer2013-images",)), ArrayStore(),
                      load=datasets.__getitem__, seeds=(0, 1))


def test_tasks_are_every_ordered_pair_plus_the_diagonal():
    protocol = get_protocol("cross-dataset")
    assert [t.target for t in protocol.tasks(["a", "b"])] == [
        "a__to__a", "a__to__b", "b__to__a", "b__to__b"]
    assert [t.datasets for t in get_protocol("cross-dataset", include_diagonal=False)
            .tasks(["a", "b", "c"])] == [("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"),
                                         ("c", "a"), ("c", "b")]
    assert [t.target for t in protocol.tasks(protocol.default_datasets())] == [
        "synth-lab__to__synth-lab", "synth-lab__to__synth-wild",
        "synth-wild__to__synth-lab", "synth-wild__to__synth-wild"]
    with pytest.raises(ProtocolError, match="at least two datasets"):
        protocol.tasks(["a"])


def test_pair_class_set_is_the_intersection_and_outside_rows_are_counted(ctx):
    protocol = get_protocol("cross-dataset", Cs=CS)
    by_target = {}
    for task in protocol.tasks(["seven", "eight"]):
        record, predictions = protocol.run_task(ctx, task)
        by_target[task.target] = (record, predictions)

    forward, _ = by_target[pair_target("seven", "eight")]
    assert forward.class_set == list(BASIC7)
    assert forward.dropped_labels == {"eight/test": {"contempt": 3}}
    assert forward.details["sample_sizes"] == {"train": 56, "val": 14, "test": 21}
    assert [d.role for d in forward.datasets] == ["source", "target"]
    assert forward.details["test_origin"] == "official"

    backward, _ = by_target[pair_target("eight", "seven")]
    assert backward.class_set == list(BASIC7)
    assert backward.dropped_labels == {"eight/train": {"contempt": 8}}
    assert [r["seed"] for r in backward.per_seed] == [0, 1]  # eight carves val per seed

    diagonal, _ = by_target[pair_target("eight", "eight")]
    assert diagonal.class_set == list(BASIC)  # in-domain: the source's own classes
    assert diagonal.dropped_labels == {}
    for record, _ in by_target.values():
        assert record.flags.test_selected is False
        assert record.headline.mean == 1.0


def test_pretraining_overlap_flags_pairs_touching_the_encoders_data(ctx):
    protocol = get_protocol("cross-dataset", Cs=CS)
    flags = {t.target: protocol.run_task(ctx, t)[0].flags.pretraining_overlap
             for t in protocol.tasks(["seven", "eight"])}
    assert flags == {"seven__to__seven": (), "seven__to__eight": ("eight",),
                     "eight__to__seven": ("eight",), "eight__to__eight": ("eight",)}


def test_a_pair_sharing_fewer_than_two_classes_is_not_applicable(ctx):
    with pytest.raises(TaskNotApplicable, match="share 1 class"):
        cross.pair_classes(ctx, "seven", "tiny")
    assert cross.pair_classes(ctx, "eight", "seven") == BASIC7


def test_one_fit_per_source_and_class_set_is_shared_by_its_targets(ctx, monkeypatch):
    fits = []
    real = evaluation.fit_probe

    def counting(ctx_, name, options, parts, seed):
        fits.append((parts.spec, parts.classes, seed))
        return real(ctx_, name, options, parts, seed)

    monkeypatch.setattr(evaluation, "fit_probe", counting)
    protocol = get_protocol("cross-dataset", Cs=CS)
    results = {t.target: protocol.run_task(ctx, t) for t in protocol.tasks(["seven", "eight"])}
    # seven's own classes == the shared set, so the diagonal and seven->eight share a fit;
    # eight: one fit for its 8 classes (diagonal), one for the 7 shared, per seed (2)
    assert len(fits) == 1 + 2 * 2
    # the shared fit predicts the target exactly as a fresh probe would
    fit_rows = [ctx.split("seven", s, BASIC7) for s in ("train", "val")]
    target = ctx.split("eight", "test", BASIC7)
    fresh = linear_probe(fit_rows[0].X, fit_rows[0].y, fit_rows[1].X, fit_rows[1].y,
                         target.X, 7, Cs=CS)
    _, predictions = results[pair_target("seven", "eight")]
    assert predictions["y_pred"].tolist() == np.asarray(BASIC7)[fresh.test_pred].tolist()
    assert np.array_equal(fresh.model.predict(l2_normalize(target.X)), fresh.test_pred)


def test_knn_probe_option_uses_the_source_train_as_bank(ctx):
    protocol = get_protocol("cross-dataset", probe="knn", k=3)
    record, _ = protocol.run_task(ctx, protocol.tasks(["eight", "seven"])[1])
    assert record.target == "eight__to__seven"
    assert record.hyperparameters == {"k": 3, "k_effective": 3, "T": 0.07}
    assert record.details["sample_sizes"] == {"train": 56, "test": 21}
    assert record.config["probe"] == "knn"


def test_unknown_probe_is_refused():
    with pytest.raises(ProtocolError, match="probe must be one of"):
        get_protocol("cross-dataset", probe="svm")



def test_a_sweep_fitted_by_linear_on_the_same_rows_is_reused_not_refitted(ctx, monkeypatch):
    from fer_bench.probes.linear import LinearProbe

    calls = []
    real_fit = LinearProbe.fit

    def counting_fit(self, X, y, n_classes, **kwargs):
        calls.append((len(X), n_classes, self.Cs))
        return real_fit(self, X, y, n_classes, **kwargs)

    monkeypatch.setattr(LinearProbe, "fit", counting_fit)
    linear = get_protocol("linear", Cs=CS)
    linear_record, _ = linear.run_task(ctx, linear.tasks(["seven"])[0])
    assert len(calls) == 1  # official val: one fit
    cross = get_protocol("cross-dataset", Cs=CS)
    diagonal = next(t for t in cross.tasks(["seven", "eight"]) if t.target == "seven__to__seven")
    cross_record, _ = cross.run_task(ctx, diagonal)
    assert len(calls) == 1  # the same rows, classes, options and seed: linear's fit
    assert cross_record.per_seed[0]["hyperparameters"] == linear_record.per_seed[0][
        "hyperparameters"]
    assert cross_record.headline.mean == linear_record.headline.mean
    # Another option is a new fit (other labels or features: see the digest's test) ...
    other = get_protocol("cross-dataset", Cs=CS[:2])
    other.run_task(ctx, diagonal)
    assert len(calls) == 2 and calls[-1][2] == CS[:2]
    # ... and the reuse lasts one run: a fresh context fits again.
    fresh = RunContext(ctx.encoder, ctx.store, load=ctx.load, seeds=ctx.seeds)
    linear.run_task(fresh, linear.tasks(["seven"])[0])
    assert len(calls) == 3
