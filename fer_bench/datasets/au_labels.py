"""Action-unit labels in manifests: column names, the FACS intensity scale, and reading
the per-frame code files of AU datasets line by line (so errors name file:line).

The conventions (docs/datasets.md, "Action units and continuous labels"):

- ``au_<N>`` (N = FACS AU number, no zero padding): intensity on [0, 1]; FACS codes 0-5
  map as code/5 (0 absent, A trace 0.2, B 0.4, C 0.6, D 0.8, E maximum 1.0), which falls
  in the generator's grade bands (:mod:`fer_bench.synth.facs`, B from 0.25).
- ``au_<N>_present``: occurrence 1.0 / 0.0, written only where a dataset states
  occurrence without an intensity; elsewhere occurrence is ``au_<N> >= 0.25`` (B or above).
- NaN wherever a row is not coded for an AU: 0 claims "absent".
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from fer_bench.datasets.label_files import label_lines
from fer_bench.datasets.targets import FACS_SCALE, action_units
from fer_bench.datasets.policy import BadData

FACS_MAX = int(FACS_SCALE)

# FACS intensity codes -> au_<N>, as cards print them.
FACS_CODES = {0: "au_N = 0.0 (absent)", 1: "au_N = 0.2 (A, trace)", 2: "au_N = 0.4 (B, slight)",
              3: "au_N = 0.6 (C, marked)", 4: "au_N = 0.8 (D, severe)",
              5: "au_N = 1.0 (E, maximum)"}


def au_column(au: int) -> str:
    return f"au_{au}"


def present_column(au: int) -> str:
    return f"au_{au}_present"


def facs_intensity(code: int) -> float:
    """A FACS intensity code 0-5 on the canonical [0, 1] scale."""
    return code / FACS_MAX


def coded_aus(row: pd.Series) -> list[int] | None:
    """AU numbers present in a manifest row (by the protocols' own occurrence rule,
    :func:`fer_bench.datasets.targets.action_units`), e.g. for a preview caption; None
    when the row carries no AU columns."""
    labels = action_units(row.to_frame().T.reset_index(drop=True))
    if labels is None:
        return None
    return [au for au, present in zip(labels.aus, labels.occurrence[0]) if present == 1]


def integer(text: str) -> int | None:
    """An integer written as ``3``, ``3.0`` or ``3.0000000e+00``; None otherwise."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def with_au_columns(rows: list[dict], intensity: list[dict[int, float]],
                    present: list[dict[int, float]] | None = None,
                    aus: Iterable[int] = ()) -> pd.DataFrame:
    """``rows`` as a frame plus one ``au_<N>`` column per AU that any row codes (and every
    AU of ``aus``), then the ``au_<N>_present`` columns, each sorted by AU number. An AU a
    row does not code is NaN in that row."""
    frame = pd.DataFrame(rows)
    blocks = [_block(intensity, sorted(set(aus).union(*intensity)), au_column)]
    if present:
        blocks.append(_block(present, sorted(set().union(*present)), present_column))
    return pd.concat([frame, *blocks], axis=1)


def _block(values: list[dict[int, float]], numbers: list[int], name) -> pd.DataFrame:
    table = np.full((len(values), len(numbers)), np.nan)
    index = {au: j for j, au in enumerate(numbers)}
    for i, coded in enumerate(values):
        for au, value in coded.items():
            table[i, index[au]] = value
    return pd.DataFrame(table, columns=[name(au) for au in numbers])


def read_frame_codes(path: Path, bad: BadData, codes: Iterable[int],
                     expected: str) -> dict[int, tuple[int, str]]:
    """``frame,code`` lines (DISFA, BP4D intensity files) -> {frame: (code, "file:line")}.

    ``codes`` are the valid codes, ``expected`` says what they mean in messages. A line
    whose frame or code is not an integer, a code outside ``codes`` or a frame listed
    twice goes to ``bad``."""
    valid, out = set(codes), {}
    for where, (frame_text, code_text) in label_lines(path, bad, 2, sep=","):
        frame, code = integer(frame_text), integer(code_text)
        if frame is None or frame < 0:
            bad("malformed line", where, f"'frame,code' with a whole frame number, found "
                f"{frame_text!r}")
        elif code not in valid:
            bad("unknown AU code", where, f"{expected}, found {code_text!r}")
        elif frame in out:
            bad("duplicate frame", where, f"each frame once; frame {frame} is already at "
                f"{out[frame][1]}")
        else:
            out[frame] = (code, where)
    return out
