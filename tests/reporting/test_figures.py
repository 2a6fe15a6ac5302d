"""The figure writer shared by ``fer-bench plot`` and ``fer-bench report``: one colour per
encoder across every figure, figures that fit the report column, png/svg/pdf files that
are what they say and hold no timestamp."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba
from reporting_support import LABELS, RESULTS

import fer_bench.reporting.figures as figures
from fer_bench.cli import main
from fer_bench.features.store import FeatureStore
from fer_bench.reporting.figures import write_figures
from fer_bench.reporting.results import read_results
from fer_bench.reporting.style import DPI, MAX_WIDTH_IN, display_names, encoder_colours


def encoder_colour_pairs(fig) -> list[tuple[str, tuple]]:
    """(encoder as the figure names it, colour) of every place a figure draws an encoder
    in its colour: bars, panel titles, tick labels, curves."""
    pairs = []
    for ax in fig.axes:
        for bar in ax.patches:
            if bar.get_label() and not bar.get_label().startswith("_"):
                pairs.append((display_names([bar.get_label()])[bar.get_label()],
                              to_rgba(bar.get_facecolor())))
        title = ax.title
        if title.get_text() and title.get_fontweight() == "bold":
            pairs.append((title.get_text().split(" · ")[0], to_rgba(title.get_color())))
        for tick in ax.get_yticklabels():
            if tick.get_fontweight() == "bold":
                pairs.append((tick.get_text(), to_rgba(tick.get_color())))
        for line in ax.get_lines():
            if " · " in line.get_label():
                pairs.append((line.get_label().split(" · ")[0].rstrip("*"),
                              to_rgba(line.get_color())))
    return pairs


def test_an_encoder_has_one_colour_in_every_figure(tmp_path, monkeypatch):
    """Every figure of a results folder, through the writer: an encoder is drawn in one
    colour everywhere (also in a figure that shows only some encoders), and two encoders
    never share one."""
    from fer_bench.records import read_record, write_record

    results = tmp_path / "records"
    shutil.copytree(RESULTS, results)
    # a few-shot record of enc-b only, so that a figure holds a subset of the encoders
    few = read_record(results / "enc-b" / "r2" / "knn-v1" / "synth-wild.json")
    few.protocol, few.target = "few-shot", "synth-wild@5shot-knn"
    few.details = {**few.details, "probe": "knn", "shots": 5}
    write_record(few, results)

    drawn = []

    def keep(fig, path):
        drawn.append((Path(path).name, fig))
        return Path(path)
    monkeypatch.setattr(figures, "save", keep)
    write_figures(read_results(results), tmp_path / "out",
                  store=FeatureStore(tmp_path / "no-store"))
    names = {name for name, _ in drawn}
    assert {"cross_cross-dataset-v1.png", "bars_linear-online-v1.png",
            "fewshot_synth-wild.png", "confusion_knn-v1_synth-wild.png",
            "recall_linear-v1_synth-lab.png"} <= names
    colours: dict[str, set] = {}
    for _name, fig in drawn:
        for encoder, colour in encoder_colour_pairs(fig):
            colours.setdefault(encoder, set()).add(colour)
    assert set(colours) == {"enc-a", "enc-b", "pixels"}
    expected = encoder_colours(LABELS)
    for label, name in display_names(LABELS).items():
        assert colours[name] == {to_rgba(expected[label])}, name
    assert len({to_rgba(c) for c in expected.values()}) == 3
    # enc-b, alone in the linear-online and few-shot figures, keeps its colour there
    alone = dict(drawn)["bars_linear-online-v1.png"]
    assert [to_rgba(b.get_facecolor()) for b in alone.axes[0].patches] == [
        to_rgba(expected["enc-b@r2"])]


def test_every_figure_fits_the_report_column(tmp_path, results):
    paths = write_figures(results, tmp_path, store=FeatureStore(tmp_path / "no-store"))
    assert len(paths) == 12
    for path in paths:
        assert mpimg.imread(path).shape[1] <= MAX_WIDTH_IN * DPI, path.name


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_vector_formats_are_valid_files(tmp_path, results, fmt):
    paths = write_figures(results, tmp_path / "a", fmt=fmt,
                          store=FeatureStore(tmp_path / "no-store"))
    assert paths and all(p.suffix == f".{fmt}" and p.is_file() for p in paths)
    assert not list((tmp_path / "a").glob("*.png"))
    for path in paths:
        data = path.read_bytes()
        if fmt == "svg":
            root = ET.fromstring(data)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
        else:
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
            assert b"/Subtype /Type3" not in data            # TrueType fonts, as publishers ask
    cross = (tmp_path / "a" / f"cross_cross-dataset-v1.{fmt}").read_bytes()
    if fmt == "svg":                        # text kept as text: names searchable, editable
        assert b">enc-a<" in cross and b">enc-b<" in cross
    # no timestamp in the file: the same records give the same bytes
    again = write_figures(results, tmp_path / "b", fmt=fmt, kinds=("bars", "cross"))
    assert [p.read_bytes() for p in again] == [(tmp_path / "a" / p.name).read_bytes()
                                               for p in again]


def test_plot_command_takes_a_format(tmp_path, results):
    result = CliRunner().invoke(main, ["plot", "--results-dir", str(RESULTS), "--out",
                                       str(tmp_path / "pdf"), "--format", "pdf"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "pdf").iterdir())
    assert files and all(name.endswith(".pdf") for name in files)
    assert "cross_cross-dataset-v1.pdf" in files
    bad = CliRunner().invoke(main, ["plot", "--results-dir", str(RESULTS), "--out",
                                    str(tmp_path / "jpg"), "--format", "jpg"])
    assert bad.exit_code == 2 and "'jpg' is not one of 'png', 'svg', 'pdf'" in bad.output
    with pytest.raises(ValueError, match="expected one of png, svg, pdf"):
        write_figures(results, tmp_path / "x", fmt="jpg")


def test_kinds_name_the_figures_to_write(tmp_path, results):
    written = write_figures(results, tmp_path, kinds=("recall",))
    assert written and all(p.name.startswith("recall_") for p in written)
    with pytest.raises(ValueError, match="figure kinds"):
        write_figures(results, tmp_path, kinds=("pie",))
