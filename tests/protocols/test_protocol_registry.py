"""Protocol registry, configs and command-line protocol specs."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from fer_bench.probes.linear import DEFAULT_CS
from fer_bench.protocols.base import (Protocol, ScoringConfig, get_protocol, protocol_from_spec,
                                      protocol_names, register_protocol)
from fer_bench.protocols.context import ProtocolError


def test_builtin_protocols_are_registered_with_versions():
    assert {"linear", "knn", "cross-dataset"} <= set(protocol_names())
    assert all(get_protocol(n).version >= 1 for n in ("linear", "knn", "cross-dataset"))


def test_resolved_config_is_plain_json_data():
    config = get_protocol("linear").resolved_config()
    assert config["Cs"] == list(DEFAULT_CS) and config["classes"] is None
    assert config["n_boot"] == 1000 and config["alpha"] == 0.05


def test_specs_set_typed_options():
    p = protocol_from_spec("cross-dataset:probe=knn,k=10,T=0.1,include_diagonal=false")
    assert (p.config.probe, p.config.k, p.config.T, p.config.include_diagonal) == (
        "knn", 10, 0.1, False)
    p = protocol_from_spec("linear:Cs=0.1/1/10,classes=happiness/sadness")
    assert p.config.Cs == (0.1, 1.0, 10.0) and p.config.classes == ("happiness", "sadness")
    assert protocol_from_spec("knn").config == get_protocol("knn").config


@pytest.mark.parametrize("spec, message", [
    ("nope", "unknown protocol 'nope'"),
    ("knn:kk=3", r"protocol 'knn' has no option 'kk' \(did you mean 'k'\?\); options: T, "),
    ("knn:k", "expected key=value options after the name, got 'k'"),
    ("knn:k=three", "option k: bad value 'three'"),
    ("cross-dataset:include_diagonal=maybe", "expected true or false"),
    ("cross-dataset:probe=svm", "probe must be one of"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ProtocolError, match=message):
        protocol_from_spec(spec)


def test_unknown_option_and_wrong_config_type_are_refused():
    with pytest.raises(ProtocolError, match="has no option"):
        get_protocol("knn", C=1.0)
    with pytest.raises(TypeError, match="takes a KnnConfig"):
        type(get_protocol("knn"))(ScoringConfig())


def test_registration_needs_a_version_and_a_unique_name():
    @dataclass(frozen=True)
    class Cfg(ScoringConfig):
        pass

    with pytest.raises(TypeError, match="integer version"):
        @register_protocol
        class NoVersion(Protocol):
            name, Config = "no-version", Cfg

    with pytest.raises(ValueError, match="registered twice"):
        @register_protocol
        class Impostor(Protocol):
            name, version, Config = "linear", 1, Cfg
