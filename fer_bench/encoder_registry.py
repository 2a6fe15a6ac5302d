"""Finding encoders by name: the built-in zoo, other packages, and users' own modules.

Three ways in, tried in this order:
1. ``@register_encoder("name")`` on a factory inside ``fer_bench.encoders``;
2. the entry-point group ``fer_bench.encoders`` of any installed package
   (``[project.entry-points."fer_bench.encoders"] my-enc = "my_pkg.enc:make"``);
3. ``pkg.module:factory`` given directly on the command line.
A factory is ``factory(weights=None, device="cpu", **options) -> Encoder`` and must be
cheap: weights load on the first ``embed``.
"""
from __future__ import annotations

import importlib
import pkgutil
import warnings
from importlib.metadata import entry_points
from collections.abc import Callable

from fer_bench.encoder import Encoder

Factory = Callable[..., Encoder]
_BUILTIN: dict[str, Factory] = {}
ENTRY_POINT_GROUP = "fer_bench.encoders"


class EncoderNotFound(LookupError):
    pass


def register_encoder(name: str):
    """Decorator for a factory inside ``fer_bench.encoders``: ``@register_encoder("my-enc")``."""
    def wrap(factory: Factory) -> Factory:
        previous = _BUILTIN.get(name)
        if previous is not None and _qualified(previous) != _qualified(factory):
            raise ValueError(f"encoder name {name!r} is registered twice: by "
                             f"{_qualified(previous)} and by {_qualified(factory)}")
        _BUILTIN[name] = factory
        return factory
    return wrap


def _qualified(factory: Factory) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"


def _load_builtins() -> None:
    """Import every module of the zoo once, so their decorators run."""
    import fer_bench.encoders as pkg
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
        except ImportError as e:
            # One zoo module whose optional dependency is missing must not hide the rest.
            warnings.warn(f"encoder module fer_bench.encoders.{mod.name} not loaded: {e}",
                          stacklevel=2)


def _entry_point_factories() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def encoder_names() -> list[str]:
    _load_builtins()
    return sorted(set(_BUILTIN) | set(_entry_point_factories()))


def resolve_factory(spec: str) -> Factory:
    _load_builtins()
    if spec in _BUILTIN:
        return _BUILTIN[spec]
    eps = _entry_point_factories()
    if spec in eps:
        return eps[spec].load()
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise EncoderNotFound(f"--encoder {spec}: cannot import module {module_name!r} ({e})")
        if not hasattr(module, attr):
            raise EncoderNotFound(f"--encoder {spec}: module {module_name!r} has no {attr!r}")
        return getattr(module, attr)
    from fer_bench.suggest import did_you_mean
    names = encoder_names()
    raise EncoderNotFound(f"unknown encoder {spec!r}{did_you_mean(spec, names)}; built-in and "
                          f"installed: {', '.join(names)}; or give pkg.module:factory")


def get_encoder(spec: str, weights: str | None = None, device: str = "cpu", **options) -> Encoder:
    """Build (cheaply: no weights loaded yet) the encoder named by ``spec``."""
    factory = resolve_factory(spec)
    enc = factory(weights=weights, device=device, **options)
    if not isinstance(enc, Encoder):
        raise TypeError(f"encoder factory {spec!r} returned {type(enc).__name__}, "
                        "expected a fer_bench.encoder.Encoder")
    return enc


def parse_encoder_options(pairs: list[str] | tuple[str, ...]) -> dict[str, object]:
    """``["revision=cpu-ferplus-48", "input_size=96"]`` -> factory keyword options (ints
    and floats become numbers; everything else stays a string)."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"encoder option {pair!r}: expected KEY=VALUE")
        options[key.strip().replace("-", "_")] = _number_or_text(value.strip())
    return options


def _number_or_text(value: str) -> object:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value
