"""The look every figure shares: sizes for the report page, fonts, file formats and one
colour per encoder.

- Width: a figure is at most :data:`MAX_WIDTH_IN` inches wide at :data:`DPI`, which is
  the width of the report's content column, so the page shows it at its own size and
  its text at the size it was set in (8 pt and up), not shrunk.
- Colours: :func:`encoder_colours` gives each ``encoder@revision`` of a results folder
  one colour, from the sorted list of all of them, and every figure of that folder uses
  it (bars, panel titles, tick labels, curves), so an encoder reads the same everywhere.
- Names: figures show an encoder by its name alone where no two revisions of it are
  shown (:func:`display_names`); the tables and CSVs keep ``name@revision``.
- Formats: ``png`` (the report's), ``svg`` (text kept as text) and ``pdf`` (TrueType
  fonts embedded, as publishers ask), written without a timestamp so that the same
  records give the same file.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

# matplotlib is imported where it is used, so that the command line can read FORMATS
# cheaply; the figure modules (bars, cross_dataset, ...) choose the Agg backend.
FORMATS = ("png", "svg", "pdf")
DPI = 120
MAX_WIDTH_IN = 10.3          # 1,236 px at DPI: fits the report's figure frame (1,246 px)
MAX_PANEL_COLUMNS = 4        # panels side by side in one figure, at most
RC = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 11,
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none",
    "svg.hashsalt": "fer-bench",     # ids in an svg from its content, not from a random salt
}
# Metadata that would change the bytes of a file on every run.
_NO_DATE = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}
_METRIC_LABELS = {"mean_class_accuracy": "mean class accuracy (%)", "accuracy": "accuracy (%)",
                  "macro_f1": "macro-F1 (%)", "mean_f1": "mean F1 over AUs (%)",
                  "mean_auc": "mean ROC AUC over AUs (%)", "mean_icc": "mean ICC(3,1) over AUs",
                  "mean_ccc": "mean CCC over targets", "mean_pearson_r": "mean Pearson r"}


def styled(draw: Callable) -> Callable:
    """Run a figure function under :data:`RC` without touching the caller's settings
    (a notebook that imports fer_bench keeps its own matplotlib style)."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib.pyplot as plt

        with plt.rc_context(RC):
            return draw(*args, **kwargs)
    return wrapper


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def save(fig, path: str | Path) -> Path:
    """Write ``fig`` in the format its suffix names, then close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fmt = check_format(path.suffix.lstrip(".").lower())
    with plt.rc_context(RC):
        fig.savefig(path, dpi=DPI, metadata=_NO_DATE.get(fmt))
    plt.close(fig)
    return path


def categorical_colours(values: Sequence[str]) -> dict[str, tuple]:
    """One colour per value, in the order given: tab10 for up to 10 values; beyond,
    tab20's strong shades first, then its pale ones (more than 20 repeat)."""
    import matplotlib.pyplot as plt

    if len(values) <= 10:
        return {v: plt.get_cmap("tab10")(i) for i, v in enumerate(values)}
    order = list(range(0, 20, 2)) + list(range(1, 20, 2))
    return {v: plt.get_cmap("tab20")(order[i % 20]) for i, v in enumerate(values)}


def encoder_colours(labels: Iterable[str]) -> dict[str, tuple]:
    """One colour per label (``encoder@revision``), assigned in sorted order, so the
    same set of labels always gets the same colours."""
    return categorical_colours(sorted(set(labels)))


def ranked(scores: Mapping) -> list:
    """The keys of ``scores`` (a dict or a pandas Series) from the highest score to the
    lowest; missing scores (NaN) last; ties in key order."""
    def key(item):
        value = float(item[1])
        return (math.isnan(value), -value if not math.isnan(value) else 0.0, str(item[0]))
    return [k for k, _ in sorted(scores.items(), key=key)]


def display_names(labels: Iterable[str]) -> dict[str, str]:
    """``encoder@revision`` -> the encoder name alone, unless two revisions of that
    encoder are among ``labels`` (then the full label)."""
    labels = sorted(set(labels))
    names = [label.split("@", 1)[0] for label in labels]
    return {label: name if names.count(name) == 1 else label
            for label, name in zip(labels, names)}


def text_inches(text: str, points: float = 8) -> float:
    """Rough width of ``text`` set in ``points`` (DejaVu Sans averages ~0.6 em a
    character), to size label columns before drawing."""
    return 0.6 * points / 72 * len(text)


def metric_label(metric: str) -> str:
    """The axis label of a score ``metric`` in percent."""
    return _METRIC_LABELS.get(metric, metric)


def panel_columns(n_panels: int, panel_in: float, fixed_in: float = 0.0) -> int:
    """Panels per row: as many ``panel_in`` wide as fit the report width beside
    ``fixed_in`` inches of labels, at most :data:`MAX_PANEL_COLUMNS`."""
    fit = int((MAX_WIDTH_IN - fixed_in) // panel_in)
    return max(1, min(n_panels, MAX_PANEL_COLUMNS, fit))
