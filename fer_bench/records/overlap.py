"""Where an encoder's pre-training data meet a record's data, side by side.

An entry of ``EncoderInfo.pretrained_on`` is ``NAME`` (every split of it) or
``NAME/SPLIT`` (that split only, e.g. ``ferplus/train``); NAME is a dataset name or an
image family (``fer2013-images``: FER2013 and FERPlus share their images, and their
splits: Training, PublicTest, PrivateTest = train, val, test). Names compare
case-insensitively.

A record's data have two sides (:data:`fer_bench.records.schema.SIDES`): the *source*,
rows the probe was fitted on (train and validation parts), and the *target*, rows it
scored. Pre-training on the source is the usual setting of a pre-trained encoder
(information); pre-training on the target means the scored faces were seen (a warning).

Records written before sides were recorded (schema < 3) hold only the datasets that
overlapped; :func:`record_overlaps` derives their sides from each dataset's role:
"eval" (fitted and scored on the same dataset) counts as both sides, "source" as the
source side, "target" as the target side, with splits unknown. For those records the
encoder's entries were bare names (every split), so the derived sides are exact.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from fer_bench.records.schema import SIDES, Overlap, ResultRecord

ROLE_SIDES = {"eval": SIDES, "source": ("source",), "target": ("target",)}
UNRECORDED = "recorded before overlap sides"


def parse_entry(entry: str) -> tuple[str, str | None]:
    """``"ferplus/train"`` -> ``("ferplus", "train")``; ``"ferplus"`` -> ``("ferplus", None)``."""
    name, slash, split = str(entry).partition("/")
    if not name or (slash and (not split or "/" in split)):
        raise ValueError(f"pre-training entry {entry!r} is not NAME or NAME/SPLIT")
    return name, split or None


def find_overlaps(pretrained_on: Iterable[str], dataset: str, names: Collection[str],
                  image_family: str,
                  sides: Mapping[str, Collection[str] | None]) -> list[Overlap]:
    """The overlaps of one dataset: ``names`` are what identifies it (its record name,
    adapter name, ...), ``sides`` maps a side to the splits of its rows there (None:
    unknown, any entry then counts). An entry overlaps a side when its NAME is one of
    ``names`` or the image family and it covers one of that side's splits."""
    names = {n.lower() for n in names if n}
    family = (image_family or "").lower()
    found = []
    for entry in pretrained_on:
        name, split = parse_entry(entry)
        key = name.lower()
        if key in names:
            matched = f"dataset {name}"
        elif key == family:
            matched = f"image family {name}"
        else:
            continue
        for side, splits in sides.items():
            if splits is None:
                covered = (split,) if split else ()
            else:
                covered = tuple(sorted(s for s in set(splits) if split is None or s == split))
                if not covered:
                    continue
            found.append(Overlap(dataset, side, matched, str(entry), covered))
    return found


def record_overlaps(record: ResultRecord) -> tuple[Overlap, ...]:
    """A record's overlaps: those it recorded, else derived from its datasets' roles
    (see the module doc)."""
    if record.flags.overlap is not None:
        return tuple(record.flags.overlap)
    refs = {d.name: d for d in record.datasets}
    pretrained_on = tuple((record.encoder or {}).get("pretrained_on") or ())
    out: list[Overlap] = []
    for name in record.flags.pretraining_overlap:
        ref = refs.get(name)
        sides = ROLE_SIDES.get(ref.role if ref else "eval", SIDES)
        try:
            found = find_overlaps(pretrained_on, name, {name, name.split(":", 1)[0]},
                                  ref.image_family if ref else "", dict.fromkeys(sides))
        except ValueError:
            found = []
        out += found or [Overlap(name, side, UNRECORDED) for side in sides]
    return tuple(out)


def overlap_labels(overlaps: Iterable[Overlap], side: str) -> tuple[str, ...]:
    """The datasets overlapping on ``side``, each with the splits when known
    (``ferplus/train``), sorted and without repeats."""
    labels: set[str] = set()
    for o in overlaps:
        if o.side != side:
            continue
        if o.splits:
            labels.update(f"{o.dataset}/{split}" for split in o.splits)
        else:
            labels.add(o.dataset)
    return tuple(sorted(labels))
