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

Specs follow the grammar of every plug-in (:mod:`fer_bench.plugins`):
``crs-cont@cpu-ferplus-48`` passes ``revision="cpu-ferplus-48"``, ``pixels:size=32``
passes ``size=32`` typed after the factory's own default, and
``my_pkg.enc:make:width=2`` does the same for a user's module. An option the factory
does not take is refused before anything is built.
"""
from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable

from fer_bench.encoder import Encoder
from fer_bench.plugins import (
    Registry,
    Spec,
    SpecError,
    UnknownName,
    declared_options,
    declared_types,
    parse_options,
    parse_spec,
    spec_name,
    typed_options,
)

Factory = Callable[..., Encoder]
ENTRY_POINT_GROUP = "fer_bench.encoders"
ENCODERS: Registry[Factory] = Registry(
    "encoder", "fer_bench.encoders", ENTRY_POINT_GROUP,
    same=lambda a, b: _qualified(a) == _qualified(b))   # a re-imported module is no clash
# Factory parameters the run sets itself, never a spec option.
_RUN_SET = ("weights", "device")


class EncoderNotFound(UnknownName):
    pass


def register_encoder(name: str):
    """Decorator for a factory inside ``fer_bench.encoders``: ``@register_encoder("my-enc")``."""
    return ENCODERS.decorator(name)


def _qualified(factory: Factory) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"


def encoder_names() -> list[str]:
    return ENCODERS.names()


def entry_point_names() -> set[str]:
    """Names that installed packages (entry points) provide."""
    return set(ENCODERS.entry_points())


def split_encoder_spec(spec: str) -> tuple[Factory, Spec]:
    """The factory of ``spec`` and its parsed form: ``NAME[@REVISION][:key=value,...]``
    for a registered or installed encoder, ``pkg.module:factory[:key=value,...]`` for a
    user's own module."""
    name = spec_name(spec)
    if name in ENCODERS:
        return ENCODERS.get(name), parse_spec(spec, "encoder")
    if ":" in spec:
        module_part, _, rest = spec.partition(":")
        attr, _, options = rest.partition(":")
        path = f"{module_part}:{attr}"
        parsed = Spec(spec, path, None, None, parse_options(options, spec, "encoder")
                      if options else {})
        return _factory_from_module(path), parsed
    err = ENCODERS.unknown(name, "; or give pkg.module:factory")
    raise EncoderNotFound(str(err))


def resolve_factory(spec: str) -> Factory:
    """The factory a spec names (its revision and options are not checked here)."""
    return split_encoder_spec(spec)[0]


def spec_options(spec: str) -> dict[str, object]:
    """The factory keyword options a spec sets, typed by the factory's own defaults:
    ``crs-cont@cpu-ferplus-48`` -> {"revision": "cpu-ferplus-48"}."""
    factory, parsed = split_encoder_spec(spec)
    declared = declared_options(factory)
    if parsed.revision is not None:
        if "revision" not in declared:
            raise SpecError(f"encoder spec {spec!r}: {parsed.name} has no revisions "
                            f"(drop '@{parsed.revision}')")
        if "revision" in parsed.options:
            raise SpecError(f"encoder spec {spec!r}: give the revision once (@REVISION)")
    options = _typed(factory, Spec(spec, parsed.name, None, None, parsed.options))
    if parsed.revision is not None:
        options["revision"] = parsed.revision
    return options


def _typed(factory: Factory, spec: Spec) -> dict[str, object]:
    """``spec.options`` typed by the factory's keyword defaults; a factory that takes
    ``**options`` also gets the keys it does not declare, as numbers or text."""
    declared = declared_options(factory)
    if _takes_any_keyword(factory):
        declared = {**{k: None for k in spec.options if k not in _RUN_SET}, **declared}
    return typed_options(spec, declared, "encoder", _RUN_SET, hints=declared_types(factory))


def _takes_any_keyword(factory: Factory) -> bool:
    return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values())


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
    """Build (cheaply: no weights loaded yet) the encoder named by ``spec``; ``options``
    add to the spec's own (the same key in both must have the same value)."""
    factory = resolve_factory(spec)
    from_spec = spec_options(spec)
    for key, value in from_spec.items():
        if key in options and options[key] != value:
            raise SpecError(f"encoder spec {spec!r} sets {key}={value} but {key}="
                            f"{options[key]} was given too")
    enc = factory(weights=weights, device=device, **{**options, **from_spec})
    if not isinstance(enc, Encoder):
        raise TypeError(f"encoder factory {spec!r} returned {type(enc).__name__}, "
                        "expected a fer_bench.encoder.Encoder")
    return enc


def parse_encoder_options(spec: str, pairs: list[str] | tuple[str, ...]) -> dict[str, object]:
    """``-o KEY=VALUE`` options for the encoder of ``spec``, in the spec grammar's words
    and typed the same way: ``("revision=cpu-ferplus-48", "input-size=96")``."""
    factory, parsed = split_encoder_spec(spec)
    text: dict[str, str] = {}
    for pair in pairs:
        for key, value in parse_options(pair, pair, "encoder").items():
            if key in text:
                raise SpecError(f"encoder option {key} given twice")
            text[key] = value
    return _typed(factory, Spec(spec, parsed.name, None, None, text))
