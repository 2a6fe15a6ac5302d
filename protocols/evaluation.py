"""Evaluating a probe on a dataset's parts: what every protocol that probes shares.

Protocols name a probe (``linear``, ``knn``, or any class registered with
:func:`fer_bench.probes.base.register_probe`); this module builds it from the protocol's
config (:meth:`fer_bench.probes.base.Probe.from_options`), fits it on the parts of
:mod:`fer_bench.protocols.data_parts` and turns its predictions into an
:class:`~fer_bench.protocols.scoring.Evaluation`:

- :func:`probe_evaluation`: fit on a dataset's train (and validation) part, score another
  part (``linear``, ``knn``, ``cross-dataset``, ``unseen-expression``). A probe that tunes
  on validation data is fitted once per seed when validation is carved (once when the
  dataset has an official one); any other probe once. A probe that tunes on validation
  data is fitted once for the same inputs (:func:`fit_probe`): ``cross-dataset`` scores
  the source fit ``linear`` made on the same rows, and with a fit store a later run gets
  it from disk.
- :func:`few_shot_evaluation`: fit on seeded class-balanced supports drawn from a bank
  (``few-shot``, the few-shot probes of ``unseen-expression``).
- :func:`new_probe`, :func:`fit_sizes` and :func:`record_hyperparameters` for protocols
  that fit on parts of their own (``subject-folds``).
"""
from __future__ import annotations

from typing import Any

from fer_bench.metrics import classification_metrics
from fer_bench.probes.base import DEFAULT_VAL_FRACTION, Probe
from fer_bench.probes.fit_store import arrays_digest, fit_key
from fer_bench.probes.registry import UnknownProbe, probe_class, probe_names
from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext
from fer_bench.protocols.data_parts import DataParts, FitSplits, fit_splits, seeds_for_fit
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.records.schema import SCORE_METRICS
from fer_bench.splits import few_shot_support

# Few-shot names of probes whose registered name differs: a support has no validation
# split, so few-shot's "linear" is the linear probe fitted on the support alone.
FEW_SHOT_PROBES = {"linear": "support-linear"}


def check_probe(name: str, what: str) -> None:
    """Refuse a probe name that no registered probe has (``what``: the config option)."""
    try:
        probe_class(name)
    except UnknownProbe as e:
        raise ProtocolError(f"{what} must be one of {tuple(probe_names())}, got {name!r} "
                            f"({e})") from None


def few_shot_probe(name: str) -> str:
    """The registered probe behind a few-shot probe name."""
    return FEW_SHOT_PROBES.get(name, name)


def new_probe(ctx: RunContext, name: str, options: Any) -> Probe:
    """An unfitted probe ``name``, its options from ``options`` (a config or a mapping),
    on the run's device when it has a ``device`` option."""
    cls = probe_class(name)
    device = {"device": ctx.device} if "device" in cls.option_names() else {}
    return cls.from_options(options, **device)


def val_fraction(probe: Probe) -> float:
    """The share of training rows carved as validation for ``probe`` when a dataset has
    no validation split of its own."""
    return getattr(probe, "val_fraction", DEFAULT_VAL_FRACTION)


def fit_probe(ctx: RunContext, name: str, options: Any, parts: DataParts,
              seed: int) -> tuple[FitSplits | None, Probe]:
    """``probe`` fitted on ``parts``: on train and validation (official, else carved with
    ``seed``) when it tunes on validation data, else on train alone (the FitSplits are
    then None).

    A probe that tunes on validation data (a regularisation sweep: the expensive fits) is
    fitted once for the same inputs: the fitted probe is kept in ``ctx.memo`` under its
    class, every option, the seed and the digests of the exact arrays it learns from, so
    another protocol fitting it on the same rows (``cross-dataset``'s source fit is
    ``linear``'s) gets that probe instead of a refit (shared read-only); with a
    ``ctx.fit_store`` (:mod:`fer_bench.probes.fit_store`) it is also kept on disk for
    later runs. Fits are deterministic, so a reused probe is the one a refit would make."""
    probe = new_probe(ctx, name, options)
    n_classes = len(parts.train.classes)
    if not probe.uses_validation:
        return None, probe.fit(parts.train.X, parts.train.y, n_classes, seed=seed)
    fit = fit_splits(parts, seed, val_fraction(probe))
    key = fit_key(probe, n_classes, seed,
                  arrays_digest(fit.train.X, fit.train.y, fit.val.X, fit.val.y))
    if key not in ctx.memo:
        kept = None if ctx.fit_store is None else ctx.fit_store.load(key, probe)
        if kept is None:
            kept = probe.fit(fit.train.X, fit.train.y, n_classes, X_val=fit.val.X,
                             y_val=fit.val.y, seed=seed)
            if ctx.fit_store is not None:
                ctx.fit_store.save(key, kept)
        ctx.memo[key] = kept
    return fit, ctx.memo[key]


def fit_sizes(fit: FitSplits | None, train: LabelledSplit) -> dict[str, int]:
    """Rows a fit learnt from (and tuned on), for a run's details."""
    if fit is None:
        return {"n_train": len(train)}
    return {"n_train": len(fit.train), "n_val": len(fit.val)}


def record_hyperparameters(cls: type[Probe], per_run: list[dict]) -> dict[str, Any]:
    """A record's hyper-parameters from its runs': those chosen on validation data listed
    run by run, the others (the same in every run) once."""
    fixed = {n: v for n, v in per_run[0].items() if n not in cls.selected}
    return {**fixed, **{n: [h[n] for h in per_run] for n in cls.selected}}


def variant_details(probe: Probe, scored: LabelledSplit) -> dict[str, Any]:
    """The probe's logged variants (e.g. every k of a kNN probe) scored on ``scored``."""
    variants = probe.variant_predictions(scored.X)
    if not variants or not probe.variants_key:
        return {}
    n_classes = len(scored.classes)
    scores = {}
    for name, (y_pred, settings) in variants.items():
        m = classification_metrics(scored.y, y_pred, n_classes)
        scores[name] = {**settings, **{metric: m[metric] for metric in SCORE_METRICS}}
    return {probe.variants_key: scores}


def probe_evaluation(ctx: RunContext, task, roles: dict[str, str], parts: DataParts,
                     scored: LabelledSplit, probe: str, options: Any,
                     fits: dict | None = None) -> Evaluation:
    """Fit probe ``probe`` (options from ``options``) on ``parts``, once per seed that
    changes the fit, and predict ``scored``; ``fits`` caches fits by seed for reuse
    across scored sets (a cross-dataset source scored on several targets)."""
    cls = probe_class(probe)
    fits = {} if fits is None else fits
    seeds = seeds_for_fit(ctx, parts) if cls.uses_validation else ctx.seeds[:1]
    runs, summaries, used, first = [], [], None, None
    for seed in seeds:
        if seed not in fits:
            fits[seed] = fit_probe(ctx, probe, options, parts, seed)
        fit, fitted = fits[seed]
        details = fitted.fit_details()
        if fit is not None:
            details = {**fit_sizes(fit, parts.train), **details}
        runs.append(SeedRun(seed, fitted.predict(scored.X), fitted.hyperparameters(), details))
        summaries.append(fitted.fit_summary())
        if first is None:
            used, first = fit, fitted
    details = {"test_origin": parts.test_origin}
    if used is None:
        fitted_parts = [parts.train, scored]
        sizes = {"train": len(parts.train), "test": len(scored)}
    else:
        fitted_parts = [used.train, used.val, scored]
        sizes = {"train": len(used.train), "val": len(used.val), "test": len(scored)}
        details["val_origin"] = used.val_origin
    details.update(cls.summarize(summaries))
    details.update(variant_details(first, scored))
    return Evaluation(
        target=task.target, roles=roles, class_set=parts.train.classes, scored=scored,
        parts=fitted_parts, dropped=parts.dropped, runs=runs, sample_sizes=sizes,
        hyperparameters=record_hyperparameters(cls, [r.hyperparameters for r in runs]),
        details=details)


def few_shot_runs(ctx: RunContext, bank: LabelledSplit, queries: LabelledSplit, shots: int,
                  probe: str, draws: int, draw_seed: int,
                  options: Any) -> tuple[list[SeedRun], list]:
    """One :class:`SeedRun` per draw (and the draws): a probe fitted on a support of
    ``shots`` rows per class drawn from ``bank`` (draw ``d`` also seeds the fit),
    predicting ``queries``."""
    name = few_shot_probe(probe)
    n_classes = len(bank.classes)
    runs, supports = [], []
    for d in range(draws):
        draw = few_shot_support(bank.y, shots, n_classes, draw_seed, d)
        support = bank.take(draw.index, "support")
        fitted = new_probe(ctx, name, options).fit(support.X, support.y, n_classes, seed=d)
        details = {**fitted.fit_details(), "support_size": len(support)}
        runs.append(SeedRun(d, fitted.predict(queries.X), fitted.hyperparameters(), details))
        supports.append(draw)
    return runs, supports


def few_shot_evaluation(ctx: RunContext, task, roles: dict[str, str], bank: LabelledSplit,
                        queries: LabelledSplit, shots: int, probe: str, draws: int,
                        draw_seed: int, options: Any, dropped: dict) -> Evaluation:
    """Few-shot probe ``probe`` over ``draws`` supports of ``shots`` rows per class; the
    record lists every draw's hyper-parameters and the rows of every support."""
    runs, supports = few_shot_runs(ctx, bank, queries, shots, probe, draws, draw_seed, options)
    first = bank.take(supports[0].index, "support")
    short = {bank.classes[c]: n for c, n in supports[0].short.items()}
    return Evaluation(
        target=task.target, roles=roles, class_set=bank.classes, scored=queries,
        parts=[first, queries], dropped=dropped, runs=runs,
        sample_sizes={"train": len(first), "test": len(queries)},
        hyperparameters={name: [r.hyperparameters[name] for r in runs]
                         for name in runs[0].hyperparameters},
        details={"shots": shots, "probe": probe, "draws": draws, "draw_seed": draw_seed,
                 "bank_size": len(bank), "short_classes": short,
                 "support_ids": [bank.ids[d.index].tolist() for d in supports]})
