"""What `fer-bench datasets info NAME` prints: a card written next to each adapter.

The registry knows how to load a dataset; the card says what a user must hold on disk,
how its codes map to canonical names, how splits are made and under what terms the
data may be used, without touching any file. Each adapter gives its card when it
registers (:func:`fer_bench.datasets.entry.register_dataset`); look one up by any spec
with :func:`fer_bench.datasets.registry.card_for`.
"""
from __future__ import annotations

from dataclasses import dataclass, field



@dataclass(frozen=True)
class DatasetCard:
    layout: str                         # expected files and folders, as a small tree
    label_codes: dict                   # the dataset's own code -> canonical name
    splits: str                         # where train / val / test come from
    terms: str                          # licence or terms of use, in one line
    face_crop: str = "none: images are aligned faces already"
    options: dict[str, str] = field(default_factory=dict)   # option -> what it does
    notes: str = ""


def documented_options(card: DatasetCard | None) -> tuple[str, ...]:
    """The options a card documents (``a/b`` entries split), for suggestions."""
    if card is None:
        return ()
    return tuple(k.strip() for key in card.options for k in key.split("/") if k.strip())


def render_card(entry) -> str:
    """The text `datasets info` prints for a registry entry (a ``DatasetEntry``)."""
    card = entry.card
    lines = [f"{entry.name}: {entry.description}"]
    if entry.default_folder:
        lines.append(f"default folder: <data-root>/{entry.default_folder}")
    if card is None:
        return "\n".join(lines)
    lines += ["", "expected layout:", _indent(card.layout), "", "label codes -> canonical:"]
    width = max(len(str(code)) for code in card.label_codes)
    lines += [f"  {code!s:>{width}} -> {canon}" for code, canon in card.label_codes.items()]
    lines += ["", f"splits: {card.splits}", f"face crop: {card.face_crop}"]
    if card.options:
        form = f"{entry.name}:PATH:key=value,..." if entry.takes_path else "NAME:key=value,..."
        lines += ["", f"options ({form}):"]
        lines += [f"  {k}: {v}" for k, v in card.options.items()]
    if card.notes:
        lines += ["", card.notes]
    lines += ["", f"terms: {card.terms}"]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.strip("\n").splitlines())
