"""``fer-bench report``: one static page (``index.html`` and its twin ``index.md``) that
shows everything a results folder holds.

The page is built only from one :class:`~fer_bench.reporting.results.ResultsTable` (the
records, read once, and their long table) through the table and figure functions, so it
never shows a number the long CSV does not hold:
- the leaderboard, one wide table per protocol (encoders x targets, headline metric in
  percent with its 95% bootstrap interval), stamps and all;
- the flags: every record scored on a test-selected epoch (``†``), on data the encoder
  was pre-trained on (``*``), or fitted on such data (``°``), with the datasets (and
  splits, when recorded) concerned on each side;
- every figure of :func:`fer_bench.reporting.figures.write_figures`, written as PNG
  files next to the page and referenced by relative paths, so the folder can be copied,
  zipped or served as it is; they are sized for the page's content column, so it shows
  them at their own size. The leaderboard CSVs and markdown are written alongside.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

import pandas as pd

from fer_bench import __version__
from fer_bench.records.schema import HEADLINE_METRIC
from fer_bench.reporting.figures import KINDS, write_figures
from fer_bench.reporting.results import ResultsTable
from fer_bench.reporting.tables import (
    OVERLAP_MARK,
    SHORT_CLASSES_MARK,
    SMALL_TEST_MARK,
    SOURCE_OVERLAP_MARK,
    TEST_SELECTED_MARK,
    legend,
    markdown_table,
    markdown_text,
    protocol_tables,
    write_leaderboard,
)

if TYPE_CHECKING:  # pragma: no cover
    from fer_bench.features.store import FeatureStore

HTML_FILE, MARKDOWN_FILE = "index.html", "index.md"

# Figure sections, in page order: (anchor, heading, file-name prefix, caption).
SECTIONS = (
    ("bars", "Scores per dataset", "bars_",
     "bars sorted by score in each panel; bar = mean over seeds, whiskers = 95% bootstrap "
     "interval, dashed = chance; an encoder has one colour in every figure"),
    ("cross", "Cross-dataset transfer", "cross_",
     "a panel per encoder, best mean transfer first: probe fitted on the source (rows), "
     "scored on the target (columns) over the classes both share"),
    ("recall", "Per-class recall", "recall_",
     "encoders x expressions, best mean recall on top, recall in percent; n/a: no test "
     "rows of that class"),
    ("confusion", "Confusion matrices", "confusion_",
     "row-normalised: each true class's predictions, in percent; a panel per encoder, "
     "best first, with its mean class accuracy"),
    ("aus", "Action units", "aus_",
     "encoders x action units, best mean on top: per-AU F1 of occurrence and ICC(3,1) of "
     "intensity (the au protocol), one figure per dataset and score"),
    ("fewshot", "Few-shot curves", "fewshot_",
     "mean ± std over draws of the support; the queries are the whole test split"),
    ("embedding", "Embedding maps", "embedding_",
     "PCA of cached, L2-normalised test features, subsampled per dataset"),
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    plots: list[Path]


def _flags(long: pd.DataFrame) -> pd.DataFrame:
    rows = long[long["headline"] & (long["test_selected"] | long["pretraining_overlap"]
                                    | long["short_classes"])]
    out = rows[["encoder", "revision", "protocol", "protocol_version", "target",
                "test_selected", "overlap_target_with", "overlap_source_with",
                "short_class_names"]]
    out = out.rename(columns={"overlap_target_with": f"pre-trained on scored data {OVERLAP_MARK}",
                              "overlap_source_with": "pre-trained on fitted data "
                                                     f"{SOURCE_OVERLAP_MARK}",
                              "short_class_names": "short_classes"})
    return out.reset_index(drop=True)


def _group_plots(plots: list[Path]) -> list[tuple[str, str, str, list[Path]]]:
    groups = []
    for anchor, heading, prefix, caption in SECTIONS:
        files = sorted(p for p in plots if p.name.startswith(prefix))
        if files:
            groups.append((anchor, heading, caption, files))
    return groups


# -- HTML --------------------------------------------------------------------------------
def _html_table(wide: pd.DataFrame) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in ["encoder", *wide.columns])
    body = []
    for name, row in wide.iterrows():
        cells = [f"<td>{e(str(name))}</td>"]
        for value in row:
            css = ("stamped" if any(m in value for m in (TEST_SELECTED_MARK, OVERLAP_MARK,
                                                          SOURCE_OVERLAP_MARK,
                                                          SHORT_CLASSES_MARK, SMALL_TEST_MARK))
                   else "empty" if not value else "")
            cells.append(f'<td class="{css}">{e(value) or "–"}</td>' if css
                         else f"<td>{e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _html_body(tables, flags, groups, metric, meta) -> str:
    e = html.escape
    parts = ["<h1>fer-bench report</h1>", f'<p class="meta">{e(meta)}</p>', "<nav>",
             '<a href="#leaderboard">Leaderboard</a>', '<a href="#flags">Flags</a>']
    parts += [f'<a href="#{a}">{e(h)}</a>' for a, h, _, _ in groups]
    files = ('<a href="leaderboard_wide.csv">wide CSV</a>, <a href="leaderboard_long.csv">'
             'long CSV</a> (all metrics, the source of truth), '
             '<a href="leaderboard.md">markdown</a>')
    parts += ["</nav>", '<h2 id="leaderboard">Leaderboard</h2>',
              f'<p class="legend">{e(legend(metric))} Tables: {files}.</p>']
    for tag, wide in tables:
        parts += [f'<h3 id="table-{e(tag)}">{e(tag)}</h3>', _html_table(wide)]
    parts.append('<h2 id="flags">Flags</h2>')
    if flags.empty:
        parts.append("<p>No record is test-selected, no encoder was pre-trained on the "
                     "data it is scored on and no class was short of train rows.</p>")
    else:
        shown = flags.assign(test_selected=flags["test_selected"].map(
            {True: f"yes {TEST_SELECTED_MARK}", False: ""}))
        wide = shown.set_index("encoder").astype(str)
        parts.append(_html_table(wide))
    for anchor, heading, caption, files in groups:
        parts += [f'<h2 id="{anchor}">{e(heading)}</h2>', f'<p class="legend">{e(caption)}</p>',
                  '<div class="figures">']
        for f in files:
            parts.append(f'<figure><a href="{e(f.name)}"><img src="{e(f.name)}" '
                         f'alt="{e(f.stem)}"></a><figcaption>{e(f.name)} (click for full '
                         "size)</figcaption></figure>")
        parts.append("</div>")
    return "\n".join(parts)


# -- markdown ------------------------------------------------------------------------------
def _markdown(tables, flags, groups, metric, meta) -> str:
    lines = ["# fer-bench report", "", markdown_text(meta), "", "## Leaderboard", "",
             legend(metric), ""]
    for tag, wide in tables:
        lines += [f"### {markdown_text(tag)}", "", markdown_table(wide, "encoder"), ""]
    lines += ["## Flags", ""]
    if flags.empty:
        lines.append("No record is test-selected, no encoder was pre-trained on the data "
                     "it is scored on and no class was short of train rows.")
    else:
        lines.append(markdown_table(flags.set_index("encoder"), "encoder"))
    for _, heading, caption, files in groups:
        lines += ["", f"## {heading}", "", caption, ""]
        lines += [f"![{f.stem}]({f.name})" for f in files]
    return "\n".join(lines) + "\n"


def _remove_stale_figures(out: Path, written: list[Path]) -> list[Path]:
    """Delete the report's own figures (png files named by a figure kind) that this
    build did not write: figures of records no longer in the results would otherwise
    stay beside the page, unlisted and out of date. Other files are left alone."""
    keep = {Path(p).name for p in written}
    stale = [p for p in out.glob("*.png")
             if p.name not in keep and p.name.split("_", 1)[0] in KINDS]
    for path in stale:
        path.unlink()
    return stale


def build_report(results: ResultsTable, out: str | Path, metric: str = HEADLINE_METRIC,
                 store: FeatureStore | None = None) -> ReportFiles:
    """Write ``index.html``, ``index.md``, the leaderboard files and every figure of
    ``results`` (:func:`~fer_bench.reporting.results.read_results`: the records, read
    once) under ``out``; ``store`` is the feature store the embedding maps read
    (default: the store of the default cache folder)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    long = results.long
    write_leaderboard(long, out, metric)
    plots = write_figures(results, out, metric, fmt="png", store=store)
    _remove_stale_figures(out, plots)
    tables = protocol_tables(long, metric)
    flags = _flags(long)
    groups = _group_plots(plots)
    n_records = long["record"].nunique()
    meta = (f"{n_records} records of {long['encoder'].nunique()} encoder(s), "
            f"{long['protocol'].nunique()} protocol(s), from {results.root}; "
            f"generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by fer-bench "
            f"{__version__}.")
    template = Template(resources.files(__package__).joinpath("report_template.html")
                        .read_text(encoding="utf-8"))
    page = template.substitute(title="fer-bench report", version=html.escape(__version__),
                               body=_html_body(tables, flags, groups, metric, meta))
    html_path, md_path = out / HTML_FILE, out / MARKDOWN_FILE
    html_path.write_text(page, encoding="utf-8")
    md_path.write_text(_markdown(tables, flags, groups, metric, meta), encoding="utf-8")
    return ReportFiles(html_path, md_path, plots)
