"""The probe interface: what a protocol asks of a probe, whichever it is.

A probe is a dataclass whose fields are its options (C grid, k, temperature, ...) and
one registered class per name. It is fitted on training features (with validation
features when it tunes something on them, and a seed), then predicts rows and reports
the hyper-parameters it used, which a record keeps::

    @register_probe
    @dataclass
    class MyProbe(Probe):
        name: ClassVar[str] = "my-probe"
        shrink: float = 0.1                           # an option; protocols may set it
        def fit(self, X, y, n_classes, *, X_val=None, y_val=None, seed=0): ...; return self
        def scores(self, X): ...                      # (N, n_classes), higher = likelier
        def hyperparameters(self): return {"shrink": self.shrink}

A protocol builds a probe by name from its own config (:meth:`Probe.from_options` takes
the config fields whose names are the probe's options) and never needs a branch per
probe: :mod:`fer_bench.probes.registry` finds the class, and the protocol-side
:mod:`fer_bench.protocols.evaluation` fits it on a dataset's parts and scores it.

Probes see arrays only (no datasets, records or protocols). Labels are class ids in
``[0, n_classes)``; a class with no training row is never predicted.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any, ClassVar

import numpy as np

from fer_bench.plugins import Registry

# Share of the training rows a probe that tunes on validation data carves for it when
# it is given none (a seeded stratified part, fer_bench.splits.stratified_val_split).
DEFAULT_VAL_FRACTION = 0.1


class Probe(ABC):
    """A classifier on frozen features. Subclasses are dataclasses (fields = options)."""

    name: ClassVar[str]
    # Whether fit() tunes on validation rows (given, or else carved from the training rows
    # with ``val_fraction`` and the seed). A probe that does not is deterministic given its
    # training rows: protocols fit it once, not once per seed.
    uses_validation: ClassVar[bool] = False
    # Hyper-parameters chosen on validation data: a record lists them per seed.
    selected: ClassVar[tuple[str, ...]] = ()
    # Hyper-parameters whose value depends on the training rows (chosen on them, or clamped
    # to their number): a record of several fits (folds) lists them per fit.
    fit_dependent: ClassVar[tuple[str, ...]] = ()
    # Details key of the predictions logged by variant_predictions() (e.g. kNN's "by_k").
    variants_key: ClassVar[str | None] = None

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        if not is_dataclass(cls):
            raise TypeError(f"probe {cls.__name__} must be a dataclass (its fields are its "
                            "options)")
        return tuple(f.name for f in fields(cls) if f.init)

    @classmethod
    def from_options(cls, options: Any = None, **overrides: Any) -> Probe:
        """A probe whose options are taken from ``options`` (a protocol config, or a
        mapping) where it has a field of the same name, then from ``overrides``; the
        others keep the probe's defaults."""
        names = cls.option_names()
        unknown = set(overrides) - set(names)
        if unknown:
            raise TypeError(f"probe {cls.name!r} has no option(s) {sorted(unknown)}; "
                            f"options: {sorted(names)}")
        if options is None:
            found = {}
        elif isinstance(options, Mapping):
            found = {n: options[n] for n in names if n in options}
        else:
            found = {n: getattr(options, n) for n in names if hasattr(options, n)}
        return cls(**{**found, **overrides})

    @abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int, *,
            X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
            seed: int = 0) -> Probe:
        """Fit on ``X`` (N, D) and labels ``y``; ``X_val``/``y_val`` are validation rows
        for what the probe tunes (ignored by probes that tune nothing), ``seed`` decides
        anything drawn at random. Returns the probe itself."""

    @abstractmethod
    def scores(self, X: np.ndarray) -> np.ndarray:
        """Class scores (N, n_classes) of rows ``X``: higher is likelier."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class ids (N,) of rows ``X``."""
        return self.scores(X).argmax(axis=1)

    @abstractmethod
    def hyperparameters(self) -> dict[str, Any]:
        """The hyper-parameters this fit used, chosen or set, JSON-ready (a record's
        ``hyperparameters``)."""

    def fit_details(self) -> dict[str, Any]:
        """How the hyper-parameters were chosen (a validation curve, ...), JSON-ready."""
        return {}

    def fit_summary(self) -> dict[str, Any]:
        """A few facts about this fit worth a line per fold or seed (e.g. a choice at
        an end of the grid), JSON-ready."""
        return {}

    @classmethod
    def summarize(cls, summaries: list[dict[str, Any]]) -> dict[str, Any]:
        """What a record's details say about all its fits, from their fit_summary()."""
        return {}

    def variant_predictions(self, X: np.ndarray) -> dict[str, tuple[np.ndarray, dict]]:
        """Predictions of other settings (name -> (class ids, their settings)), logged for
        reading, never for choosing; recorded under ``variants_key``."""
        return {}

    def share_pool(self, X: np.ndarray) -> Any:
        """What fits on subsets of the rows ``X`` can share, for a protocol that fits this
        probe many times on parts of one pool (the folds of ``subject-folds``): computed
        once, then handed to each fit's probe by :meth:`use_pool`. None: nothing."""
        return None

    def use_pool(self, shared: Any) -> Probe:
        """Fit with what :meth:`share_pool` computed for a pool holding every row this
        probe will be fitted on; returns self."""
        return self

    def fitted_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """What a fitted probe needs to predict and to report its fit, as arrays and
        JSON-ready metadata (:mod:`fer_bench.probes.fit_store` keeps it on disk, so a
        later run on the same arrays skips the fit); None: this probe cannot be kept."""
        return None

    def restore_fitted_state(self, arrays: dict[str, np.ndarray],
                             meta: dict[str, Any]) -> Probe:
        """This probe as the fit :meth:`fitted_state` described; returns self."""
        raise NotImplementedError(f"probe {self.name!r} keeps no fitted state")

    def _require_fitted(self, attribute: str) -> Any:
        value = getattr(self, attribute, None)
        if value is None:
            raise RuntimeError(f"probe {self.name!r} is not fitted; call fit() first")
        return value


# Probes by name: the built-ins are found by a scan of this package, other packages'
# through the entry-point group of the same name (fer_bench.probes.registry looks up).
PROBES: Registry[type[Probe]] = Registry("probe", "fer_bench.probes", "fer_bench.probes")


def register_probe(cls: type[Probe]) -> type[Probe]:
    """Class decorator adding a probe to the registry under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"probe {cls.__name__} needs a name")
    cls.option_names()  # a dataclass, or refused here
    return PROBES.register(name, cls)


def unregister_probe(name: str) -> None:
    """Remove a probe from the registry (tests that register a toy probe)."""
    PROBES.unregister(name)
