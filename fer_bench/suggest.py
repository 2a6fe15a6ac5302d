"""``did you mean ...?``: the closest valid name to a mistyped one, for error messages."""
from __future__ import annotations

import difflib
from collections.abc import Iterable

# 0.5 lets two-letter names match one letter off (Cz -> Cs); difflib's default 0.6 would not.
CUTOFF = 0.5


def did_you_mean(value: object, choices: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``value``, else ``""``."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1,
                                      cutoff=CUTOFF)
    return f" (did you mean {close[0]!r}?)" if close else ""
