"""The figure writer of ``fer-bench plot`` and ``fer-bench report``: every figure of one
:class:`~fer_bench.reporting.results.ResultsTable`, as png, svg or pdf files.

Files, by kind (:data:`KINDS`, the file-name prefixes), in the order they are written:

- ``bars_<protocol-vN>``: a bar chart per single-dataset protocol (:mod:`.bars`), of its
  records' own headline where they lack the requested metric (mean F1 for ``au``, mean
  CCC for ``valence-arousal``), plus ``bars_<protocol-vN>_mean_icc`` for AU intensity;
- ``cross_<protocol-vN>``: one cross-dataset figure per pair protocol (:mod:`.cross_dataset`);
- ``recall_<protocol-vN>_<target>``, ``confusion_<protocol-vN>_<target>``: per-class
  recall and confusion matrices per class-view protocol and dataset (:mod:`.heatmaps`);
- ``aus_<dataset>_<f1|icc>``: encoders x action units, per-AU F1 and ICC of the ``au``
  records of a dataset (:mod:`.target_heatmaps`);
- ``fewshot_<dataset>``: few-shot curves per dataset (:mod:`.few_shot`);
- ``embedding_<encoder@revision>``: an embedding map per encoder whose features are
  still in the feature store (:mod:`.embedding`).

Each encoder keeps one colour in every figure (:func:`~.style.encoder_colours` of the
table's encoders).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fer_bench.records.io import safe_name
from fer_bench.records.schema import HEADLINE_METRIC
from fer_bench.reporting.bars import bar_figure
from fer_bench.reporting.cross_dataset import cross_figure
from fer_bench.reporting.embedding import embedding_figure, embedding_frame
from fer_bench.reporting.few_shot import few_shot_figure, few_shot_frame
from fer_bench.reporting.heatmaps import class_view_frame, confusion_figure, recall_figure
from fer_bench.reporting.results import ResultsTable
from fer_bench.reporting.style import check_format, encoder_colours, save
from fer_bench.reporting.target_heatmaps import per_target_frame, target_heatmap
from fer_bench.target_metrics import TABLE_METRICS

if TYPE_CHECKING:  # pragma: no cover
    from fer_bench.features.store import FeatureStore

KINDS = ("bars", "cross", "recall", "confusion", "aus", "fewshot", "embedding")


def write_figures(results: ResultsTable, out: str | Path, metric: str = HEADLINE_METRIC,
                  fmt: str = "png", store: FeatureStore | None = None,
                  colours: dict[str, tuple] | None = None,
                  kinds: Iterable[str] = KINDS) -> list[Path]:
    """Draw the figures of ``kinds`` (default: all of :data:`KINDS`) of ``results`` and
    write them under ``out`` as ``fmt`` files (png, svg, pdf); return their paths in the
    order written. Embedding maps read the features of ``store`` (default: the store of
    the default cache folder). Encoder colours: ``colours``, else one per encoder of
    ``results``."""
    check_format(fmt)
    kinds = set(kinds)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ValueError(f"figure kinds {sorted(unknown)}: expected some of {', '.join(KINDS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    colours = colours or encoder_colours(results.labels)
    records = results.records
    written: list[Path] = []

    def write(fig, kind: str, name: str) -> None:
        written.append(save(fig, out / f"{kind}_{safe_name(name)}.{fmt}"))

    for (protocol, version), rows in results.long.groupby(["protocol", "protocol_version"]):
        for shown in _figure_metrics(rows, metric):
            tag = f"{protocol}-v{version}" + ("" if shown == metric else f"_{shown}")
            title = f"{protocol}-v{version}: {shown.replace('_', ' ')}"
            if (rows["source"] == "").all():
                if "bars" in kinds:
                    write(bar_figure(rows, title, shown, colours), "bars", tag)
            elif "cross" in kinds:
                write(cross_figure(rows, title, shown, colours), "cross", tag)
    if kinds & {"recall", "confusion"}:
        views = class_view_frame(records)
        for (protocol, target), rows in views.groupby(["protocol", "target"]):
            first = rows["class_set"].iloc[0]   # one class set per figure (the usual case)
            rows = rows[[c == first for c in rows["class_set"]]]
            tag = f"{protocol}_{target}"
            if "recall" in kinds:
                write(recall_figure(rows, f"per-class recall · {protocol} · {target}",
                                    colours), "recall", tag)
            if "confusion" in kinds:
                write(confusion_figure(rows, f"confusion (row %) · {protocol} · {target}",
                                       colours), "confusion", tag)
    if "aus" in kinds:
        frame = per_target_frame(records, "au")
        for dataset, rows in frame.groupby("dataset"):
            for score, label in (("f1", "occurrence F1"), ("icc", "intensity ICC(3,1)")):
                if (rows["score"] == score).any():
                    write(target_heatmap(rows, score, f"AU {label} · au · {dataset}"),
                          "aus", f"{dataset}_{score}")
    if "fewshot" in kinds:
        for dataset, rows in few_shot_frame(records, metric).groupby("dataset"):
            write(few_shot_figure(rows, f"few-shot · {dataset} · mean ± std over draws",
                                  metric, colours), "fewshot", dataset)
    if "embedding" in kinds:
        if store is None:
            from fer_bench.features.store import FeatureStore
            store = FeatureStore.in_cache()
        for encoder in results.labels:
            points = embedding_frame(records, encoder, store)
            if len(points):
                write(embedding_figure(points, f"{encoder} · PCA of cached test features"),
                      "embedding", encoder)
    return written


def _figure_metrics(rows, metric: str) -> list[str]:
    """The metrics to draw for one protocol's long rows: ``metric`` where they have it;
    for the default headline, otherwise their own headline and any TABLE_METRICS."""
    if (rows["metric"] == metric).any():
        return [metric]
    if metric != HEADLINE_METRIC:
        return []                            # e.g. records written without this metric
    own = list(dict.fromkeys(rows.loc[rows["headline"], "metric"]))
    return own + [m for m in TABLE_METRICS if (rows["metric"] == m).any()]
