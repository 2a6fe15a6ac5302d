"""Finding encoders by name: the built-in zoo, other packages, and users' own modules.

Three ways in, tried in this order:
1. ``@register_encoder("name")`` on a factory inside ``fer_bench.encoders``;
2. the entry-point group ``fer_bench.encoders`` of any installed package
   (``[project.entry-points."fer_bench.encoders"] my-enc = "my_pkg.enc:make"``);
3. ``pkg.module:factory`` given directly on the command line, imported with the current
   working directory on the import path (as ``python -m`` has it), so the form works from
   the folder that holds ``pkg`` without installing it.
A factory is ``factory(weights=None, device="cpu", **options) -> Encoder`` and must be
cheap: weights load on the first ``embed``.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points

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
        return _factory_from_module(spec)
    from fer_bench.suggest import did_you_mean
    names = encoder_names()
    raise EncoderNotFound(f"unknown encoder {spec!r}{did_you_mean(spec, names)}; built-in and "
                          f"installed: {', '.join(names)}; or give pkg.module:factory")


def _cwd_on_path() -> None:
    """Put the current working directory first on the import path, as ``python -m`` and
    ``python -c`` do (a console script gets its own folder there instead)."""
    cwd = os.getcwd()
    if not any(os.path.abspath(p or os.curdir) == cwd for p in sys.path):
        sys.path.insert(0, cwd)
        importlib.invalidate_caches()


def _factory_from_module(spec: str) -> Factory:
    """The factory of ``pkg.module:factory``; a failure says how to fix it, in one line."""
    from fer_bench.suggest import did_you_mean

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or not all(p.isidentifier() for p in module_name.split(".")):
        raise EncoderNotFound(f"--encoder {spec}: expected pkg.module:factory (a dotted module "
                              "path, a colon, a function name)")
    _cwd_on_path()
    top = module_name.split(".")[0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing and missing != top and module_name.startswith(missing):
            parent = sys.modules.get(missing.rpartition(".")[0])
            raise EncoderNotFound(
                f"--encoder {spec}: cannot import module {module_name!r}: "
                f"{missing.rpartition('.')[0]} ({getattr(parent, '__file__', None) or '?'}) "
                f"has no module {missing.rpartition('.')[2]!r}; check the module path") from None
        if missing == top:
            where = os.getcwd()
            raise EncoderNotFound(
                f"--encoder {spec}: cannot import module {module_name!r}: no {missing!r} "
                f"in {where} or the installed packages; run fer-bench from the folder that "
                f"holds {top}/ (or {top}.py), add that folder to PYTHONPATH, or pip install "
                f"-e the project that contains {top}") from None
        raise EncoderNotFound(
            f"--encoder {spec}: cannot import module {module_name!r}: it imports "
            f"{missing or e}, which is not installed in this environment "
            f"({sys.executable}); install the package that provides it") from None
    except Exception as e:   # a bug in the user's module: one line, where and what
        raise EncoderNotFound(f"--encoder {spec}: importing {module_name!r} raised "
                              f"{type(e).__name__}: {_first_line(e)}; fix the module (run "
                              f"`python -c 'import {module_name}'` for the traceback)") from None
    factory = getattr(module, attr, None)
    if factory is None:
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise EncoderNotFound(f"--encoder {spec}: module {module_name!r} "
                              f"({getattr(module, '__file__', '?')}) has no {attr!r}"
                              f"{did_you_mean(attr, names)}; it defines "
                              f"{', '.join(names[:12]) or 'no functions'}")
    if not callable(factory):
        raise EncoderNotFound(f"--encoder {spec}: {module_name}.{attr} is a "
                              f"{type(factory).__name__}, not a factory function")
    return factory


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.msg} ({error.filename}, line {error.lineno})"
    return text.splitlines()[0] if text else type(error).__name__


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
