"""The three ways an encoder gets a name: decorator, entry point, pkg.module:factory."""
from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from fer_bench import encoder_registry as registry
from fer_bench import plugins
from fer_bench.encoder import Encoder
from fer_bench.encoder_registry import (ENTRY_POINT_GROUP, EncoderNotFound, encoder_names,
                                        get_encoder, parse_encoder_options, register_encoder)
from fer_bench.encoders.template import make_encoder as template_factory

TEMPLATE = "fer_bench.encoders.template:make_encoder"


@pytest.fixture
def isolated(monkeypatch):
    """A private copy of the built-in table, and no installed entry points."""
    registry.ENCODERS.scan()
    monkeypatch.setattr(registry.ENCODERS, "_entries", dict(registry.ENCODERS._entries))
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])


def test_builtins_are_registered():
    assert {"random-resnet18", "pixels", "crs-cont"} <= set(encoder_names())
    assert "template-example" not in encoder_names()  # the template stays unregistered


def test_decorator_registers_a_factory(isolated):
    @register_encoder("my-test-encoder")
    def make(weights=None, device="cpu", **options):
        return template_factory(weights, device)

    assert "my-test-encoder" in encoder_names()
    enc = get_encoder("my-test-encoder")
    assert isinstance(enc, Encoder) and not enc.loaded


def test_spec_options_are_typed_by_the_factorys_defaults():
    enc = get_encoder("pixels:size=8")
    assert enc.info.embed_dim == 64 and enc.info.revision == "grey8"
    assert registry.spec_options("crs-cont@cpu-ferplus-48") == {"revision": "cpu-ferplus-48"}
    assert registry.spec_options("pixels:size=8") == {"size": 8}
    assert registry.spec_options(f"{TEMPLATE}") == {}


@pytest.mark.parametrize("spec, match", [
    ("pixels:sise=8", r"encoder 'pixels' has no option 'sise' \(did you mean 'size'\?\); "
                      r"options: .*size"),
    ("pixels:size=big", r"option size: bad value 'big'"),
    ("pixels@v2", r"pixels has no revisions \(drop '@v2'\)"),
    ("pixels:device=cuda", r"has no option 'device'"),           # the run sets it
    ("crs-cont@x:revision=y", "give the revision once"),
    ("crs-cont@", "expected a revision after '@'"),
    ("pixels:", "expected key=value options"),
])
def test_bad_encoder_specs_name_the_mistake(spec, match):
    with pytest.raises(plugins.SpecError, match=match):
        registry.spec_options(spec)


def test_a_spec_option_and_a_keyword_must_agree():
    with pytest.raises(plugins.SpecError, match="sets size=8 but size=16 was given too"):
        get_encoder("pixels:size=8", size=16)
    assert get_encoder("pixels:size=8", size=8).info.embed_dim == 64


def test_one_name_for_two_factories_is_an_error(isolated):
    register_encoder("twice")(template_factory)
    register_encoder("twice")(template_factory)  # same factory again (module reload): fine

    def other(weights=None, device="cpu"):
        return template_factory()

    with pytest.raises(ValueError, match="'twice' is registered twice"):
        register_encoder("twice")(other)


def test_module_colon_factory():
    enc = get_encoder(TEMPLATE, device="cpu")
    assert enc.info.name == "template-example" and not enc.loaded


def test_entry_point_of_another_package(isolated, monkeypatch):
    ep = EntryPoint(name="their-encoder", value=TEMPLATE, group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group: [ep] if group == ENTRY_POINT_GROUP else [])
    assert "their-encoder" in encoder_names()
    assert get_encoder("their-encoder").info.name == "template-example"


def test_builtin_wins_over_an_entry_point_of_the_same_name(isolated, monkeypatch):
    ep = EntryPoint(name="pixels", value=TEMPLATE, group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [ep])
    assert get_encoder("pixels").info.name == "pixels"


def test_unknown_name_lists_what_exists():
    with pytest.raises(EncoderNotFound, match=r"unknown encoder 'no-such'.*pixels.*"
                                              r"random-resnet18.*pkg\.module:factory"):
        get_encoder("no-such")


@pytest.mark.parametrize("spec, match", [
    ("no_such_module_xyz:make", "cannot import module 'no_such_module_xyz'"),
    ("fer_bench.encoders.template:nothing", "has no 'nothing'"),
])
def test_bad_module_specs(spec, match):
    with pytest.raises(EncoderNotFound, match=match):
        get_encoder(spec)


def test_factory_must_return_an_encoder():
    with pytest.raises(TypeError, match="returned dict"):
        get_encoder(f"{__name__}:not_an_encoder")


def not_an_encoder(weights=None, device="cpu"):
    return {}


def test_options_reach_the_factory():
    enc = get_encoder("pixels", **parse_encoder_options("pixels", ["size=8"]))
    assert enc.info.embed_dim == 64 and enc.info.revision == "grey8"


def test_parse_encoder_options_types_them_by_the_factory():
    assert parse_encoder_options("crs-cont", ["revision=cpu-ferplus-48"]) == {
        "revision": "cpu-ferplus-48"}
    assert parse_encoder_options("pixels", ["size=8"]) == {"size": 8}
    with pytest.raises(plugins.SpecError, match="expected key=value"):
        parse_encoder_options("pixels", ["size"])
    with pytest.raises(plugins.SpecError, match="has no option 'sise'"):
        parse_encoder_options("pixels", ["sise=8"])
    with pytest.raises(plugins.SpecError, match="given twice"):
        parse_encoder_options("pixels", ["size=8", "size=9"])
