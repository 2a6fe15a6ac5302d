"""Action-unit and continuous labels of a manifest, in fer-bench's canonical columns.

Adapters write them (docs/datasets.md, "Action units and continuous labels"):

- ``au_<N>``: intensity of FACS action unit N on the canonical [0, 1] scale (FACS codes
  0-5 as code/5: A 0.2, B 0.4, C 0.6, D 0.8, E 1.0; the generator's grades share the
  bands, B from 0.25); NaN where the row is not coded;
- ``au_<N>_present``: occurrence, 1/0, NaN where not coded, for data coded for occurrence
  without an intensity (BP4D; CK+ codes with intensity "unspecified");
- ``valence``, ``arousal`` in [-1, 1]; ``yaw``, ``pitch``, ``roll`` in degrees;
  ``intensity`` (expression intensity, [0, 1]).

An AU occurs where its ``_present`` column says so, else where its intensity is at or
above :data:`OCCURRENCE_THRESHOLD` (FACS B or above, the convention of DISFA papers).
Pure functions over tables: protocols read labels through them and never parse column
names themselves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# FACS B (slight) or above on the canonical scale: the usual occurrence rule for data
# coded only for intensity.
OCCURRENCE_THRESHOLD = 0.25
# Canonical intensity x FACS_SCALE = FACS units (0-5), the scale papers report MAE in.
FACS_SCALE = 5.0

_INTENSITY = re.compile(r"au_(\d+)")
_PRESENT = re.compile(r"au_(\d+)_present")


def au_name(au: int) -> str:
    """How records and tables name an action unit: ``AU12``."""
    return f"AU{au}"


@dataclass(frozen=True)
class ActionUnitLabels:
    """The AU labels of a table's rows: ``occurrence`` (n, A) 1/0 and ``intensity`` (n, A)
    canonical [0, 1], NaN where a row is not coded; ``intensity`` is None when no AU has
    an intensity column, and an AU without one has an all-NaN intensity column."""
    aus: tuple[int, ...]
    occurrence: np.ndarray
    intensity: np.ndarray | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(au_name(a) for a in self.aus)

    def take(self, index: np.ndarray) -> ActionUnitLabels:
        return ActionUnitLabels(self.aus, self.occurrence[index],
                                None if self.intensity is None else self.intensity[index])


def _numeric(table: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
    bad = table[column].notna() & np.isnan(values)
    if bad.any():
        raise ValueError(f"column {column!r} holds non-numbers, e.g. "
                         f"{table.loc[bad, column].iloc[0]!r}")
    return values


def action_unit_numbers(table: pd.DataFrame) -> tuple[int, ...]:
    """The AUs a table has any column for, in numeric order."""
    found = set()
    for column in table.columns:
        match = _INTENSITY.fullmatch(str(column)) or _PRESENT.fullmatch(str(column))
        if match:
            found.add(int(match[1]))
    return tuple(sorted(found))


def action_units(table: pd.DataFrame, aus: tuple[int, ...] | None = None,
                 threshold: float = OCCURRENCE_THRESHOLD) -> ActionUnitLabels | None:
    """The AU labels of ``table``'s rows (``aus``: which, default every AU it has columns
    for); None when it has no AU column at all."""
    available = action_unit_numbers(table)
    if not available:
        return None
    aus = tuple(aus) if aus is not None else available
    missing = sorted(set(aus) - set(available))
    if missing:
        raise ValueError(f"no column for AU(s) {missing}; the table codes AUs {list(available)}")
    n = len(table)
    occurrence = np.full((n, len(aus)), np.nan)
    intensity = np.full((n, len(aus)), np.nan)
    has_intensity = False
    for j, au in enumerate(aus):
        if f"au_{au}" in table.columns:
            values = _numeric(table, f"au_{au}")
            if ((values < 0) | (values > 1)).any():
                raise ValueError(f"au_{au} holds intensities outside the canonical [0, 1]")
            intensity[:, j] = values
            has_intensity = True
            occurrence[:, j] = np.where(np.isnan(values), np.nan, values >= threshold)
        if f"au_{au}_present" in table.columns:
            present = _numeric(table, f"au_{au}_present")
            if not np.isin(present[~np.isnan(present)], (0, 1)).all():
                raise ValueError(f"au_{au}_present must hold 0, 1 or nothing")
            occurrence[:, j] = np.where(np.isnan(present), occurrence[:, j], present)
    return ActionUnitLabels(aus, occurrence, intensity if has_intensity else None)


def continuous_labels(table: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """(n, T) float values of the continuous columns ``names``, NaN where not coded.
    A column the table lacks is all NaN (callers say which targets have no labels)."""
    out = np.full((len(table), len(names)), np.nan)
    for j, name in enumerate(names):
        if name in table.columns:
            out[:, j] = _numeric(table, name)
    return out
