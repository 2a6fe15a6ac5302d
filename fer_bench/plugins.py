"""Plug-ins: one registry and one spec grammar for encoders, datasets and protocols.

Every plug-in kind (encoder, dataset, protocol) has one :class:`Registry`: names are
registered by decorators in the kind's own package (found by a lazy scan of that
package the first time a name is looked up) or by the entry points of installed
packages; a second, different registration of a name is refused; a look-up of an unknown
name says which names exist and which one was probably meant.

The command line names a plug-in with one grammar, :func:`parse_spec`::

    NAME[@REVISION][:key=value[,key=value...]]      crs-cont@cpu-ferplus-48
                                                    synth-wild:n=2000,seed=3
                                                    cross-dataset:probe=knn,k=10
    NAME:PATH[:key=value,...]    (path-taking)      folder:/data/faces:name=mine

Options are split at each ',' that starts the next ``key=``, so a value may hold ','
and ':' but not ``,key=``. A path ends at its first ':' after an optional Windows drive.
Option values arrive as text and are typed by the plug-in's own declaration (a config
dataclass's fields, a factory's keyword defaults) with :func:`coerce`: the same text
means the same value for every kind (``true``/``false``, numbers, ``/``-separated
sequences).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from fer_bench.suggest import did_you_mean

T = TypeVar("T")

_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_NEXT_OPTION = re.compile(r",(?=\s*[A-Za-z_][\w-]*\s*=)")
_KEY = re.compile(r"[A-Za-z_][\w-]*")
_NAME = re.compile(r"[A-Za-z0-9][\w.+-]*")
GRAMMAR = "NAME[@REVISION][:key=value,...] (or NAME:PATH[:key=value,...] for a folder)"
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class SpecError(ValueError):
    """A spec that breaks the grammar, names nothing registered, or sets an option the
    plug-in does not have or to a value it cannot take: a mistake on the command line."""


class UnknownName(SpecError, LookupError):
    """A name no registry entry, entry point or other form answers to."""


# -- the grammar ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """One parsed spec; ``options`` hold text until :func:`coerce` types them."""
    text: str
    name: str
    revision: str | None = None
    path: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def has_options(self) -> bool:
        return bool(self.options) or self.revision is not None


def parse_spec(text: str, kind: str = "plug-in", takes_path: bool = False) -> Spec:
    """Split ``text`` into name, revision, path (when ``takes_path``) and options."""
    head, colon, rest = text.partition(":")
    name, at, revision = head.partition("@")
    name = name.strip()
    if not name:
        raise SpecError(f"{kind} spec {text!r}: no name ({GRAMMAR})")
    if at and not revision.strip():
        raise SpecError(f"{kind} spec {text!r}: expected a revision after '@' ({GRAMMAR})")
    path = None
    if takes_path:
        drive = 2 if _DRIVE.match(rest) else 0
        end = rest.find(":", drive)
        path, rest = (rest, "") if end < 0 else (rest[:end], rest[end + 1:])
        if not path:
            raise SpecError(f"{kind} spec {text!r}: expected {name}:PATH ({GRAMMAR})")
        if end >= 0 and not rest:
            raise SpecError(f"{kind} spec {text!r}: expected key=value options after "
                            f"{name}:PATH: ({GRAMMAR})")
    elif colon and not rest:
        raise SpecError(f"{kind} spec {text!r}: expected key=value options after "
                        f"{head}: ({GRAMMAR})")
    options = parse_options(rest, text, kind) if rest else {}
    return Spec(text, name, revision.strip() or None, path, options)


def spec_name(text: str) -> str:
    """The plug-in name a spec starts with: ``crs-cont@r1:size=8`` -> ``crs-cont``."""
    return text.split(":", 1)[0].split("@", 1)[0].strip()


def parse_options(text: str, spec: str, kind: str = "plug-in") -> dict[str, str]:
    """``key=value,key=value`` -> {key: value} (keys with '-' spelt with '_')."""
    options: dict[str, str] = {}
    for item in _NEXT_OPTION.split(text):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise SpecError(f"{kind} spec {spec!r}: expected key=value options after the "
                            f"name, got {item!r} ({GRAMMAR})")
        key = key.replace("-", "_")
        if key in options:
            raise SpecError(f"{kind} spec {spec!r}: option {key} given twice")
        options[key] = value.strip()
    return options


# -- typing option values -------------------------------------------------------------------
def coerce(text: str, default: Any, where: str = "option", hint: str = "") -> Any:
    """The value of an option's ``text``, typed after the option's ``default``: bool
    (true/false, yes/no, on/off, 1/0), int, float, str, a ``/``-separated tuple (of the
    default's element type). A default of None is typed by the declared annotation
    ``hint`` when it names a tuple (``tuple[str, ...] | None``), else numbers stay
    numbers and text text."""
    if default is None and hint.replace(" ", "").startswith(("tuple[", "Tuple[")):
        element = {"int": 0, "float": 0.0, "bool": False}.get(
            hint.replace(" ", "")[6:].split(",")[0].split("]")[0], "")
        default = (element,)
    try:
        return _convert(text, default)
    except ValueError as e:
        raise SpecError(f"{where}: bad value {text!r} ({e})") from None
    except TypeError:
        raise SpecError(f"{where}: cannot be set from text (its default is {default!r})"
                        ) from None


def _convert(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        low = text.strip().lower()
        if low not in TRUE + FALSE:
            raise ValueError("expected true or false")
        return low in TRUE
    if isinstance(default, (int, float)):
        return type(default)(text)
    if isinstance(default, str):
        return text
    if isinstance(default, tuple):
        element = default[0] if default else ""
        return tuple(_convert(v, element) for v in text.split("/") if v)
    if default is None:
        return number_or_text(text)
    raise TypeError(type(default).__name__)


def number_or_text(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def declared_types(target: Any) -> dict[str, str]:
    """{option: its annotation as text} of a dataclass or a callable ("" if none)."""
    if is_dataclass(target):
        return {f.name: f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
                for f in fields(target)}
    return {p.name: p.annotation if isinstance(p.annotation, str) else ""
            for p in inspect.signature(target).parameters.values()}


def declared_options(target: Any) -> dict[str, Any]:
    """{option: default} a plug-in declares: the fields of a dataclass (type or
    instance), else the keyword parameters of a callable (``None`` when required)."""
    if is_dataclass(target):
        return {f.name: (getattr(target, f.name) if not isinstance(target, type)
                         else _field_default(f)) for f in fields(target)}
    params = inspect.signature(target).parameters.values()
    return {p.name: (None if p.default is inspect.Parameter.empty else p.default)
            for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _field_default(f) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def typed_options(spec: Spec, declared: Mapping[str, Any], kind: str,
                  reserved: tuple[str, ...] = (), hints: Mapping[str, str] | None = None
                  ) -> dict[str, Any]:
    """``spec.options`` typed by ``declared`` ({option: default}, with ``hints``
    {option: annotation} for defaults of None); an option the plug-in does not declare
    (or a ``reserved`` one, set another way) is a :class:`SpecError` naming the ones it
    has."""
    settable = {k: v for k, v in declared.items() if k not in reserved}
    typed = {}
    for key, text in spec.options.items():
        if key not in settable:
            raise SpecError(f"{kind} {spec.name!r} has no option {key!r}"
                            f"{did_you_mean(key, settable)}; options: "
                            f"{', '.join(sorted(settable)) or 'none'}")
        typed[key] = coerce(text, settable[key], f"{kind} spec {spec.text!r}: option {key}",
                            (hints or {}).get(key, ""))
    return typed


# -- the registry ---------------------------------------------------------------------------
class Registry(Generic[T]):
    """Names -> plug-ins of one kind.

    ``package``: the package whose modules register built-ins (imported lazily, all of
    them, on the first look-up; a module whose optional dependency is missing is skipped
    with a warning). ``group``: the entry-point group other installed packages use.
    """

    def __init__(self, kind: str, package: str | None = None, group: str | None = None,
                 same: Callable[[T, T], bool] | None = None):
        self.kind, self.package, self.group = kind, package, group
        self._same = same or (lambda a, b: a is b)
        self._entries: dict[str, T] = {}
        self._scanned = False

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` as ``name``; the same name for a different entry is refused."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"{self.kind} name {name!r}: use letters, digits, '-', '_', "
                             "'.' and '+' (':', '@', ',' and '=' belong to the spec grammar)")
        previous = self._entries.get(name)
        if previous is not None and not self._same(previous, entry):
            raise ValueError(f"{self.kind} {name!r} is registered twice: by "
                             f"{_origin(previous)} and by {_origin(entry)}")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests that register a toy plug-in for a while)."""
        self._entries.pop(name, None)

    def decorator(self, name: str) -> Callable[[T], T]:
        def wrap(entry: T) -> T:
            return self.register(name, entry)
        return wrap

    def scan(self) -> None:
        """Import the built-in package's modules once, so that their decorators run."""
        if self._scanned or self.package is None:
            return
        self._scanned = True
        pkg = importlib.import_module(self.package)
        for mod in pkgutil.iter_modules(pkg.__path__):
            if mod.name.startswith("_"):
                continue
            try:
                importlib.import_module(f"{self.package}.{mod.name}")
            except ImportError as e:   # one missing optional dependency hides nothing else
                warnings.warn(f"{self.kind} module {self.package}.{mod.name} not loaded: {e}",
                              stacklevel=2)

    def entry_points(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.group)} if self.group else {}

    def names(self) -> list[str]:
        self.scan()
        return sorted(set(self._entries) | set(self.entry_points()))

    def registered(self) -> Mapping[str, T]:
        """The built-in entries (after the scan), without loading entry points."""
        self.scan()
        return dict(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """The entry registered as ``name``, else the installed entry point of that name
        (loaded now: built-ins win a name clash)."""
        self.scan()
        if name in self._entries:
            return self._entries[name]
        eps = self.entry_points()
        if name in eps:
            return eps[name].load()
        raise self.unknown(name)

    def unknown(self, name: str, hint: str = "") -> UnknownName:
        known = self.names()
        return UnknownName(f"unknown {self.kind} {name!r}{did_you_mean(name, known)}; known: "
                           f"{', '.join(known)}{hint}")


def _origin(entry: Any) -> str:
    target = getattr(entry, "loader", entry)     # dataset entries wrap their loader
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
