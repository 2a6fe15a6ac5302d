"""One registry and one spec grammar for encoders, datasets and protocols."""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

from fer_bench import plugins
from fer_bench.plugins import (Registry, Spec, SpecError, UnknownName, coerce,
                               declared_options, parse_spec, typed_options)


@pytest.mark.parametrize("text, expected", [
    ("pixels", Spec("pixels", "pixels")),
    ("crs-cont@cpu-ferplus-48", Spec("crs-cont@cpu-ferplus-48", "crs-cont", "cpu-ferplus-48")),
    ("crs-cont@r1:input_size=96", Spec("crs-cont@r1:input_size=96", "crs-cont", "r1", None,
                                       {"input_size": "96"})),
    ("synth-wild:n=200,seed=3", Spec("synth-wild:n=200,seed=3", "synth-wild", None, None,
                                     {"n": "200", "seed": "3"})),
    # a value may hold ',' and ':' unless ',key=' follows
    ("x:regex=^(?:S)(\\d{2,3})_,a=b", Spec("x:regex=^(?:S)(\\d{2,3})_,a=b", "x", None, None,
                                          {"regex": "^(?:S)(\\d{2,3})_", "a": "b"})),
    ("cross-dataset:probe=knn,select-metric=accuracy",
     Spec("cross-dataset:probe=knn,select-metric=accuracy", "cross-dataset", None, None,
          {"probe": "knn", "select_metric": "accuracy"})),
])
def test_the_grammar(text, expected):
    assert parse_spec(text) == expected


@pytest.mark.parametrize("text, path, options", [
    ("folder:/data/faces", "/data/faces", {}),
    ("folder:/data/faces:name=mine", "/data/faces", {"name": "mine"}),
    ("folder:C:\\data\\faces:name=mine", "C:\\data\\faces", {"name": "mine"}),
])
def test_path_taking_specs(text, path, options):
    spec = parse_spec(text, takes_path=True)
    assert (spec.name, spec.path, spec.options) == ("folder", path, options)


@pytest.mark.parametrize("text, match", [
    ("", "no name"),
    ("x@", "expected a revision after '@'"),
    ("x:", "expected key=value options after x:"),
    ("x:novalue", "expected key=value options after the name, got 'novalue'"),
    ("x:a=1,a=2", "option a given twice"),
])
def test_bad_specs(text, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(text)


def test_folder_needs_a_path():
    with pytest.raises(SpecError, match="expected folder:PATH"):
        parse_spec("folder:", takes_path=True)


@pytest.mark.parametrize("text, default, value", [
    ("true", False, True), ("OFF", True, False), ("yes", False, True), ("0", True, False),
    ("7", 1, 7), ("0.5", 1.0, 0.5), ("7", 1.0, 7.0), ("abc", "x", "abc"),
    ("0.1/1/10", (1.0,), (0.1, 1.0, 10.0)), ("a/b", (), ("a", "b")),
    ("3", None, 3), ("0.5", None, 0.5), ("cpu-ferplus-48", None, "cpu-ferplus-48"),
])
def test_coerce_types_text_by_the_default(text, default, value):
    out = coerce(text, default)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("text, hint, value", [
    ("happiness/sadness", "tuple[str, ...] | None", ("happiness", "sadness")),
    ("1/2", "tuple[int, ...] | None", (1, 2)),
    ("0.5", "float | None", 0.5),
])
def test_a_default_of_none_is_typed_by_the_annotation(text, hint, value):
    out = coerce(text, None, hint=hint)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("text, default", [("maybe", False), ("x", 1), ("1/x", (1,))])
def test_coerce_refuses_what_the_type_cannot_hold(text, default):
    with pytest.raises(SpecError, match="bad value"):
        coerce(text, default)


@dataclass(frozen=True)
class ToyConfig:
    k: int = 20
    probe: str = "linear"
    Cs: tuple[float, ...] = (0.1, 1.0)
    strict: bool = False


def test_options_are_typed_by_a_dataclass_or_a_signature():
    assert declared_options(ToyConfig) == {"k": 20, "probe": "linear", "Cs": (0.1, 1.0),
                                           "strict": False}

    def factory(weights=None, device="cpu", size=48, *, name: str = "x"):
        return None
    assert declared_options(factory) == {"weights": None, "device": "cpu", "size": 48,
                                         "name": "x"}
    spec = parse_spec("toy:k=10,Cs=1/2,strict=true")
    assert typed_options(spec, declared_options(ToyConfig), "protocol") == {
        "k": 10, "Cs": (1.0, 2.0), "strict": True}
    with pytest.raises(SpecError, match=r"protocol 'toy' has no option 'kk' \(did you mean "
                                        r"'k'\?\); options: Cs, k, probe, strict"):
        typed_options(parse_spec("toy:kk=1"), declared_options(ToyConfig), "protocol")
    with pytest.raises(SpecError, match="has no option 'device'"):
        typed_options(parse_spec("toy:device=cuda"), declared_options(factory), "encoder",
                      reserved=("device",))


def test_the_registry_refuses_a_second_entry_and_suggests_names(monkeypatch):
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])
    reg: Registry[object] = Registry("widget")
    a, b = object(), object()
    reg.register("alpha", a)
    reg.register("alpha", a)                      # the same entry again: fine
    with pytest.raises(ValueError, match="widget 'alpha' is registered twice"):
        reg.register("alpha", b)
    with pytest.raises(ValueError, match="belong to the spec grammar"):
        reg.register("a:b", b)
    with pytest.raises(UnknownName, match=r"unknown widget 'alpah' \(did you mean 'alpha'\?\); "
                                          r"known: alpha"):
        reg.get("alpah")
    assert reg.get("alpha") is a and reg.names() == ["alpha"] and "alpha" in reg


def test_entry_points_answer_after_the_built_ins(monkeypatch):
    ep = EntryPoint(name="theirs", value="fer_bench.plugins:Registry", group="g")
    clash = EntryPoint(name="mine", value="fer_bench.plugins:Spec", group="g")
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group: [ep, clash] if group == "g" else [])
    reg: Registry[object] = Registry("widget", group="g")
    mine = object()
    reg.register("mine", mine)
    assert reg.names() == ["mine", "theirs"]
    assert reg.get("theirs") is Registry and reg.get("mine") is mine


def test_encoders_datasets_and_protocols_share_the_grammar_and_its_errors():
    from fer_bench.datasets.base import DatasetSpecError
    from fer_bench.datasets.registry import dataset_entry, split_spec
    from fer_bench.encoder_registry import EncoderNotFound, spec_options
    from fer_bench.protocols.base import ProtocolSpecError, protocol_from_spec

    assert spec_options("pixels:size=32") == {"size": 32}
    assert split_spec("synth-wild:n=200")[1].options == {"n": "200"}
    assert protocol_from_spec("knn:k=10").config.k == 10
    for error in (DatasetSpecError, EncoderNotFound, ProtocolSpecError):
        assert issubclass(error, SpecError)
    with pytest.raises(DatasetSpecError, match="datasets have no revisions"):
        split_spec("synth-wild@v2")
    with pytest.raises(ProtocolSpecError, match="protocols have no revisions"):
        protocol_from_spec("knn@v2")
    with pytest.raises(DatasetSpecError, match=r"unknown dataset 'synth-wilf' \(did you mean "
                                               r"'synth-wild'\?\)"):
        dataset_entry("synth-wilf")
    with pytest.raises(ProtocolSpecError, match=r"protocol 'knn' has no option 'kk'"):
        protocol_from_spec("knn:kk=10")
    assert protocol_from_spec("linear:Cs=0.1/1").config.Cs == (0.1, 1.0)


def test_every_dataset_has_its_card_in_its_entry():
    from fer_bench.datasets.entry import DATASETS
    entries = DATASETS.registered()
    assert {"ferplus", "rafdb", "folder", "synth-wild"} <= set(entries)
    for name, entry in entries.items():
        assert entry.name == name
        assert (entry.card is None) == entry.generated, name
