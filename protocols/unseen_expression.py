"""``unseen-expression``: how well frozen features separate expressions the encoder was
never taught.

Unseen classes are the dataset's classes outside the encoder's declared pre-training
label set (``EncoderInfo.pretrain_classes``, compared in the canonical vocabulary by
:func:`fer_bench.splits.unseen_and_seen`): the compound expressions of synth-compound
(or CFEE, RAF-DB compound) for any encoder trained on basic expressions, contempt in
synth-wild, FERPlus, CK+ or AffectNet-8 for one trained on the seven basic classes. An
encoder with an empty label set (self-supervised, random or pixel floors) has seen no
expression, so every class is unseen and its unseen score is its whole-dataset score.

Per dataset and probe, up to five records (target ``<dataset>@<scope>-<probe>``). Three
are keyed by what the encoder saw in pre-training, so their class sets differ between
encoders (``details["scope_kind"] == "pre-training"``):
- ``unseen``: the probe is fitted on *all* the dataset's classes (train split) and
  scored on the test rows of unseen classes only: mean class accuracy is then the mean
  recall over the unseen classes, accuracy the share of unseen rows labelled right,
  confusions with seen classes included (macro-F1 counts seen classes that were
  predicted for unseen rows as F1 = 0);
- ``seen``: the same fit, scored on the test rows of seen classes: the reference the
  unseen score is read against;
- ``unseen-only``: a probe fitted and scored on the unseen classes alone (at least two
  of them), i.e. "can the features tell the new expressions apart among themselves".

Two are keyed by the class set alone, the same task for every encoder
(``details["scope_kind"] == "class-set"``), so a column compares like with like: on
CFEE's 22 classes an encoder trained on basic labels has a 15-way ``unseen-only``
record, one without labels (pixels, random, self-supervised) none, but both have the
same 15-way ``compound-only`` and 7-way ``basic-only`` records:
- ``compound-only``: a probe fitted and scored on the dataset's compound classes alone;
- ``basic-only``: the same on its basic classes (the eight of
  :data:`fer_bench.vocabulary.BASIC`, contempt included).
A class-set record is written when the dataset has at least two classes of the set and
classes outside it; where the set is every class (synth-compound, RAF-DB compound: all
compound; synth-wild, FERPlus: all basic) it would be the whole-dataset score, which the
``linear``, ``knn`` and ``few-shot`` protocols give for every encoder alike. Whether it
applies depends on the dataset only, never on the encoder.

Probes: ``linear`` and ``knn`` exactly as the protocols of those names (C chosen on
validation data only), ``few-shot-linear`` and ``few-shot-knn`` as ``few-shot`` with
``shots`` rows per class (default 5) over ``draws`` draws; any other registered probe
(:mod:`fer_bench.probes.registry`) by its name, or ``few-shot-<name>``. A record that would have
nothing to score is not written: the runner reports it as not applicable with the reason
(no seen classes; fewer than two unseen classes; unseen-only identical to unseen
because every class is unseen; a class set with fewer than two classes, or holding every
class of the dataset).

``probes`` and ``scopes`` only choose which records are planned
(:attr:`~fer_bench.protocols.base.Protocol.plan_fields`), so records written before the
class-set scopes existed stay valid.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_bench.protocols.base import (KnnProbeOptions, LinearProbeOptions, ProbeConfig, Protocol,
                                      Task, register_protocol)
from fer_bench.protocols.context import ProtocolError, RunContext, TaskNotApplicable
from fer_bench.protocols.data_parts import dataset_parts
from fer_bench.protocols.evaluation import (check_probe, few_shot_evaluation, few_shot_probe,
                                            probe_evaluation)
from fer_bench.protocols.scoring import Evaluation
from fer_bench.splits import ClassGroups, unseen_and_seen
from fer_bench.vocabulary import BASIC, COMPOUND, canonical

PROBES = ("linear", "knn", "few-shot-linear", "few-shot-knn")
PRETRAINING_SCOPES = ("unseen", "seen", "unseen-only")    # by what the encoder saw
CLASS_SET_SCOPES = {"compound-only": ("compound", COMPOUND),   # by the classes alone
                    "basic-only": ("basic", BASIC)}
SCOPES = PRETRAINING_SCOPES + tuple(CLASS_SET_SCOPES)
FEW_SHOT = "few-shot-"   # probe prefix: the few-shot protocol's probe of that name


@dataclass(frozen=True)
class UnseenExpressionConfig(ProbeConfig, LinearProbeOptions, KnnProbeOptions):
    probes: tuple[str, ...] = PROBES
    scopes: tuple[str, ...] = SCOPES
    # the linear and kNN probes' settings come from LinearProbeOptions and KnnProbeOptions
    # (the few-shot kNN uses k and T too)
    # few-shot probes
    shots: int = 5
    draws: int = 5
    draw_seed: int = 0
    C: float = 1.0

    def __post_init__(self) -> None:
        if not self.scopes or set(self.scopes) - set(SCOPES):
            raise ProtocolError(f"unseen-expression scopes must be among {SCOPES}, "
                                f"got {self.scopes}")
        if not self.probes:
            raise ProtocolError(f"unseen-expression probes must be among {PROBES} (any "
                                f"registered probe, {FEW_SHOT}<probe> its few-shot variant)")
        for probe in self.probes:
            name = (few_shot_probe(probe.removeprefix(FEW_SHOT)) if probe.startswith(FEW_SHOT)
                    else probe)
            check_probe(name, f"unseen-expression probes ({probe!r})")


@dataclass(frozen=True)
class UnseenTask(Task):
    scope: str = "unseen"
    probe: str = "linear"


def class_groups(ctx: RunContext, spec: str) -> ClassGroups:
    info = ctx.encoder.info
    try:
        return unseen_and_seen(ctx.dataset(spec).classes, info.pretrain_classes)
    except ValueError as e:
        raise ProtocolError(f"encoder {info.name}: pretrain_classes {list(info.pretrain_classes)} "
                            f"vs {spec}: {e}") from None


def class_set(ctx: RunContext, spec: str, scope: str) -> tuple[str, ...]:
    """The dataset's classes of a class-set ``scope``, in its own order; raises
    :class:`TaskNotApplicable` when fewer than two, or every class (see the module doc)."""
    kind, members = CLASS_SET_SCOPES[scope]
    classes = tuple(ctx.dataset(spec).classes)
    try:
        chosen = tuple(c for c in classes if canonical(c) in members)
    except KeyError as e:
        raise ProtocolError(f"{spec}: cannot compare class names: {e.args[0]}") from None
    if len(chosen) < 2:
        raise TaskNotApplicable(f"{spec} has {len(chosen)} {kind} class(es) "
                                f"({list(chosen)}); a {scope} probe needs at least 2")
    if len(chosen) == len(classes):
        raise TaskNotApplicable(f"every class of {spec} is a {kind} class: {scope} would be "
                                "the whole dataset, scored for every encoder alike by the "
                                "linear, knn and few-shot protocols")
    return chosen


def check_applicable(scope: str, groups: ClassGroups, encoder: str, spec: str) -> None:
    """Raise :class:`TaskNotApplicable` when ``scope`` has nothing to score."""
    why = None
    if scope == "unseen" and not groups.unseen:
        why = f"{encoder} was pre-trained on every class of {spec}: no unseen classes"
    elif scope == "seen" and not groups.seen:
        why = f"{encoder} saw none of {spec}'s classes in pre-training: no seen classes"
    elif scope == "unseen-only" and len(groups.unseen) < 2:
        why = (f"{spec} has {len(groups.unseen)} class(es) unseen by {encoder} "
               f"({list(groups.unseen)}); an unseen-only probe needs at least 2")
    elif scope == "unseen-only" and not groups.seen:
        why = (f"every class of {spec} is unseen by {encoder}: unseen-only would repeat "
               "the unseen record")
    if why:
        raise TaskNotApplicable(why)


@register_protocol
class UnseenExpressionProtocol(Protocol):
    name = "unseen-expression"
    version = 2  # 2: the linear probe's rules of linear v2; stratified intervals
    Config = UnseenExpressionConfig
    plan_fields = ("probes", "scopes")

    def default_datasets(self) -> tuple[str, ...]:
        return ("synth-compound", "synth-wild")

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        return [UnseenTask(self.name, (spec,), f"{spec}@{scope}-{probe}", scope, probe)
                for spec in datasets for probe in self.config.probes
                for scope in self.config.scopes]

    def evaluate(self, ctx: RunContext, task: UnseenTask) -> Evaluation:
        (spec,) = task.datasets
        groups = class_groups(ctx, spec)
        cfg = self.config
        if task.scope in CLASS_SET_SCOPES:
            fit_classes = class_set(ctx, spec, task.scope)
        else:
            check_applicable(task.scope, groups, ctx.encoder.info.name, spec)
            fit_classes = groups.unseen if task.scope == "unseen-only" else tuple(
                ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, fit_classes, cfg.holdout_fraction)
        scored = parts.test
        if task.scope in ("unseen", "seen"):   # one fit over every class, rows of a group
            wanted = groups.unseen if task.scope == "unseen" else groups.seen
            ids = [fit_classes.index(c) for c in wanted]
            index = np.flatnonzero(np.isin(scored.y, ids))
            if len(index) == 0:
                raise TaskNotApplicable(f"{scored.name} has no rows of the {task.scope} "
                                        f"classes {list(wanted)}")
            scored = scored.take(index, f"{scored.split}-{task.scope}")
        ev = self._probe(ctx, task, parts, scored, fit_classes)
        ev.dropped = parts.dropped
        kind = "class-set" if task.scope in CLASS_SET_SCOPES else "pre-training"
        ev.details.update(scope=task.scope, scope_kind=kind, probe=task.probe,
                          unseen_classes=list(groups.unseen),
                          seen_classes=list(groups.seen),
                          pretrain_classes=list(ctx.encoder.info.pretrain_classes),
                          test_origin=parts.test_origin)
        return ev

    def _probe(self, ctx, task, parts, scored, fit_classes) -> Evaluation:
        cfg, spec = self.config, task.datasets[0]
        roles = {spec: "eval"}
        if task.probe.startswith(FEW_SHOT):
            # as few-shot with shots=(cfg.shots,): its fixed C (no support CV), k and T
            return few_shot_evaluation(ctx, task, roles, parts.train, scored, cfg.shots,
                                       task.probe.removeprefix(FEW_SHOT), cfg.draws,
                                       cfg.draw_seed, {"C": cfg.C, "k": cfg.k, "T": cfg.T},
                                       parts.dropped)
        # one fit per class set and seed, shared by the unseen and seen records
        fits = ctx.memo.setdefault((self.name, spec, fit_classes, cfg, task.probe), {})
        return probe_evaluation(ctx, task, roles, parts, scored, task.probe, cfg, fits)
