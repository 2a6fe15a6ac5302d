"""What `fer-bench datasets info NAME` prints: a card written next to each adapter.

The registry knows how to load a dataset; the card says what a user must hold on disk,
how its codes map to canonical names, how splits are made and under what terms the
data may be used, without touching any file. Adapters register their cards here; look
one up by any spec with :func:`fer_bench.datasets.registry.card_for`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from fer_bench.datasets.entry import DatasetEntry


@dataclass(frozen=True)
class DatasetCard:
    layout: str                         # expected files and folders, as a small tree
    label_codes: dict                   # the dataset's own code -> canonical name
    splits: str                         # where train / val / test come from
    terms: str                          # licence or terms of use, in one line
    face_crop: str = "none: images are aligned faces already"
    options: dict[str, str] = field(default_factory=dict)   # option -> what it does
    notes: str = ""


_CARDS: dict[str, DatasetCard] = {}


def register_card(name: str, card: DatasetCard) -> DatasetCard:
    _CARDS[name] = card
    return card


def registered_card(name: str) -> DatasetCard | None:
    """The card registered under the exact name ``name`` (its adapter imported), or None."""
    return _CARDS.get(name)


def known_options(name: str) -> tuple[str, ...]:
    """The options the adapter ``name`` documents on its card (``a/b`` entries split), for
    suggestions; empty when it has no card."""
    card = _CARDS.get(name)
    if card is None:
        return ()
    return tuple(k.strip() for key in card.options for k in key.split("/") if k.strip())


def render_card(entry: DatasetEntry, card: DatasetCard | None) -> str:
    """The text `datasets info` prints for a registry entry and its card."""
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
