"""What an adapter does with bad input: raise a clear error, or skip and count.

Every problem names the file (and line, where there is one) and what was expected.
``on_error="raise"`` (default) stops at the first one; ``on_error="skip"`` drops the
offending row, counts it by reason and keeps a few messages, so ``datasets prepare``
can report them and ``Dataset.info["skipped"]`` records them with the dataset.
Problems that leave nothing to read (a missing label file) always raise.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from fer_bench.datasets.base import DatasetError, DatasetSpecError

ON_ERROR = ("raise", "skip")
_EXAMPLES_KEPT = 10


class BadData:
    """Collects (or raises) the problems one adapter run finds."""

    def __init__(self, dataset: str, on_error: str = "raise"):
        if on_error not in ON_ERROR:
            raise DatasetSpecError(f"{dataset}: on_error must be one of {ON_ERROR}, got "
                                   f"{on_error!r}")
        self.dataset = dataset
        self.on_error = on_error
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

    def __call__(self, reason: str, where: str | Path, expected: str) -> None:
        """Report one bad row: ``reason`` is the short tally key, ``where`` the file
        (``path:line``), ``expected`` says what should have been there."""
        message = f"{self.dataset}: {where}: {reason}; expected {expected}"
        if self.on_error == "raise":
            raise DatasetError(message + " (pass on_error=skip to drop such rows and count them)")
        self.counts[reason] += 1
        if len(self.examples) < _EXAMPLES_KEPT:
            self.examples.append(message)

    def record(self) -> dict:
        """What goes into ``Dataset.info``: skip counts by reason plus a few messages."""
        return {"skipped": dict(self.counts), "skipped_examples": list(self.examples)}


def require_file(path: Path, dataset: str, layout: str) -> Path:
    """The file an adapter cannot do without; the error shows the layout it expected."""
    if not path.is_file():
        raise DatasetError(f"{dataset}: missing {path}; expected layout:\n{layout}")
    return path


def require_rows(n_rows: int, path: Path, dataset: str, split: str, layout: str) -> None:
    """A split's own label file (or folder) that yields no rows is an error, never a
    silently missing split."""
    if n_rows == 0:
        raise DatasetError(f"{dataset}: {path} is empty (no rows); it should list the images "
                           f"of the {split} split; expected layout:\n{layout}")


def require_dir(path: Path, dataset: str, layout: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{dataset}: missing folder {path}; expected layout:\n{layout}")
    return path


def first_existing(candidates: list[Path], dataset: str, layout: str) -> Path:
    """The first of several accepted locations (copies of a dataset nest differently)."""
    for path in candidates:
        if path.exists():
            return path
    tried = "\n  ".join(str(p) for p in candidates)
    raise DatasetError(f"{dataset}: none of these exist:\n  {tried}\nexpected layout:\n{layout}")
