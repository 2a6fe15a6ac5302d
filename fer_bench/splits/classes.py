"""Unseen and seen classes: which of a dataset's classes an encoder saw in pre-training."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fer_bench.vocabulary import canonical


@dataclass(frozen=True)
class ClassGroups:
    """A dataset's classes split by whether the encoder's pre-training labels held them
    (both in the dataset's own order)."""
    unseen: tuple[str, ...]
    seen: tuple[str, ...]


def unseen_and_seen(classes: Sequence[str], pretrain_classes: Sequence[str]) -> ClassGroups:
    """Split ``classes`` into those outside and inside ``pretrain_classes``.

    Names are compared in the canonical vocabulary (``"happy"`` is ``"happiness"``). An
    empty ``pretrain_classes`` means the encoder never saw an expression label
    (self-supervised, random or pixel floors): every class counts as unseen, so the
    unseen score of such an encoder is simply its score on the whole dataset.
    """
    try:
        pretrained = {canonical(c) for c in pretrain_classes}
        names = [canonical(c) for c in classes]
    except KeyError as e:
        raise ValueError(f"cannot compare class names: {e.args[0]}") from None
    unseen = tuple(c for c in names if c not in pretrained)
    seen = tuple(c for c in names if c in pretrained)
    return ClassGroups(unseen, seen)
