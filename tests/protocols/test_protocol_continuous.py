"""``valence-arousal``, ``head-pose`` and ``expression-intensity``: ridge probes of
continuous manifest columns, scored by CCC."""
import pytest

from fer_bench.protocols.base import ProtocolSpecError, Task, get_protocol, protocol_from_spec
from fer_bench.protocols.context import RunContext, TaskNotApplicable
from protocol_fakes import ArrayStore, NeverBuilt
from target_fakes import au_dataset


def _run(ds, protocol, **options):
    ctx = RunContext(NeverBuilt(), ArrayStore(), load=lambda spec: ds, progress=False,
                     seeds=(0,))
    return get_protocol(protocol, n_boot=100, **options).run_task(
        ctx, Task(protocol, (ds.name,), ds.name))


def test_valence_arousal_end_to_end():
    record, predictions = _run(au_dataset(with_affect=True, signal=3.0), "valence-arousal")
    assert record.headline_metric == "mean_ccc"
    assert record.class_set == ["valence", "arousal"]
    assert record.metrics["mean_ccc"].mean > 0.8
    assert set(record.details["per_target"]["valence"]) == {"ccc", "pearson_r", "rmse"}
    assert set(predictions["target"]) == {"valence", "arousal"}


def test_no_affect_labels_is_not_applicable_with_the_reason():
    with pytest.raises(TaskNotApplicable, match="no valence/arousal labels"):
        _run(au_dataset(), "valence-arousal")


def test_any_numeric_column_can_be_a_target():
    record, _ = _run(au_dataset(signal=3.0), "head-pose", targets=("au_12",))
    assert record.class_set == ["au_12"] and record.metrics["mean_ccc"].mean > 0.8


def test_spec_grammar_and_empty_targets():
    assert protocol_from_spec("valence-arousal:targets=valence").config.targets == ("valence",)
    with pytest.raises(ProtocolSpecError):
        protocol_from_spec("head-pose:targets=")
