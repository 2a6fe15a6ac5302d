"""Figures for a paper: bars sorted by score in each panel, one cross-dataset figure for
all encoders, score axes that end at 100, one colour per encoder across every figure,
confusion matrices sized for the report, png/svg/pdf files that are what they say."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba

import fer_bench.plots as plots
import fer_bench.plots_extra as plots_extra
from fer_bench.cli import main
from fer_bench.figure_style import DPI, MAX_WIDTH_IN, display_names, encoder_colours, ranked
from fer_bench.leaderboard import long_table
from fer_bench.plots import bar_figure, cross_figure, write_plots
from fer_bench.plots_extra import (class_view_frame, confusion_figure, few_shot_figure,
                                   load_record_files, write_extra_plots)
from fer_bench.vocabulary import BASIC7

RESULTS = Path(__file__).parent / "fixtures" / "records" / "results"
LABELS = ["enc-a@r1", "enc-b@r2", "pixels@grey24"]


@pytest.fixture(scope="module")
def long():
    return long_table(RESULTS)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def panels(fig):
    """The drawn axes of a figure (no colour bars, no empty slots)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison and ax.get_title()]


def test_bars_are_sorted_by_score_in_each_panel(long):
    rows = long[long["protocol"] == "linear"]
    fig = bar_figure(rows, "linear")
    head = rows[rows["headline"]]
    names = display_names(LABELS)
    seen = []
    for ax in panels(fig):
        target = ax.get_title()
        sub = head[head["dataset"] == target]
        scores = sub.set_index(sub["encoder"] + "@" + sub["revision"])["mean"]
        widths = [bar.get_width() for bar in ax.patches]
        assert widths == sorted(widths, reverse=True), target           # best on top
        assert [bar.get_label() for bar in ax.patches] == ranked(scores)
        assert [t.get_text() for t in ax.get_yticklabels()] == [names[x] for x in ranked(scores)]
        assert widths == pytest.approx([100 * scores[x] for x in ranked(scores)])
        seen.append(target)
    assert seen == ["synth-lab", "synth-wild"]
    # pixels has no synth-lab record: left out of that panel, not drawn as a zero bar
    assert "pixels@grey24" not in [b.get_label() for b in panels(fig)[0].patches]


def test_score_axes_end_at_100(long):
    bars = bar_figure(long[long["protocol"] == "knn"], "knn")
    for ax in panels(bars):
        assert ax.get_xlim() == (0, 100) and max(ax.get_xticks()) == 100
    cross = cross_figure(long[long["protocol"] == "cross-dataset"], "cross")
    assert all(image.get_clim() == (0, 100) for ax in cross.axes for image in ax.images)
    frame = pd.DataFrame({"encoder": ["a@1"] * 2, "dataset": "d", "probe": "knn",
                          "shots": [1, 5], "mean": [0.2, 0.4], "std": 0.05, "draws": 5,
                          "short": False, "overlap": False})
    assert few_shot_figure(frame, "t").axes[0].get_ylim() == (0, 100)


def test_one_cross_dataset_figure_holds_every_encoder(tmp_path, long):
    written = write_plots(RESULTS, tmp_path)
    assert sorted(p.name for p in written) == [
        "bars_knn-v1.png", "bars_linear-online-v1.png", "bars_linear-v1.png",
        "cross_cross-dataset-v1.png"]
    rows = long[long["protocol"] == "cross-dataset"]
    fig = cross_figure(rows, "cross")
    titles = [ax.get_title() for ax in panels(fig)]
    # best mean transfer (off-diagonal cells) first
    off = rows[rows["headline"] & (rows["source"] != rows["dataset"])]
    transfer = off.groupby("encoder")["mean"].mean()
    assert titles == list(transfer.sort_values(ascending=False).index) == ["enc-a", "enc-b"]
    cells = panels(fig)[0].images[0].get_array()
    assert cells.shape == (2, 2)                        # sources x targets
    for path in written:
        image = mpimg.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 200
        assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 50


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
    """Every figure of a results folder, through write_plots and write_extra_plots: an
    encoder is drawn in one colour everywhere (also in a figure that shows only some
    encoders), and two encoders never share one."""
    from fer_bench.records import read_record, write_record

    results = tmp_path / "records"
    import shutil
    shutil.copytree(RESULTS, results)
    # a few-shot record of enc-b only, so that a figure holds a subset of the encoders
    few = read_record(results / "enc-b" / "r2" / "knn-v1" / "synth-wild.json")
    few.protocol, few.target = "few-shot", "synth-wild@5shot-knn"
    few.details = {**few.details, "probe": "knn", "shots": 5}
    write_record(few, results)

    figures = []

    def keep(fig, path):
        figures.append((Path(path).name, fig))
        return Path(path)
    monkeypatch.setattr(plots, "save", keep)
    monkeypatch.setattr(plots_extra, "save", keep)
    write_plots(results, tmp_path / "out")
    write_extra_plots(results, tmp_path / "out", store_root=tmp_path / "no-store")
    names = {name for name, _ in figures}
    assert {"cross_cross-dataset-v1.png", "bars_linear-online-v1.png",
            "fewshot_synth-wild.png", "confusion_knn-v1_synth-wild.png",
            "recall_linear-v1_synth-lab.png"} <= names
    colours: dict[str, set] = {}
    for _name, fig in figures:
        for encoder, colour in encoder_colour_pairs(fig):
            colours.setdefault(encoder, set()).add(colour)
    assert set(colours) == {"enc-a", "enc-b", "pixels"}
    expected = encoder_colours(LABELS)
    for label, name in display_names(LABELS).items():
        assert colours[name] == {to_rgba(expected[label])}, name
    assert len({to_rgba(c) for c in expected.values()}) == 3
    # enc-b, alone in the linear-online and few-shot figures, keeps its colour there
    alone = dict(figures)["bars_linear-online-v1.png"]
    assert [to_rgba(b.get_facecolor()) for b in alone.axes[0].patches] == [
        to_rgba(expected["enc-b@r2"])]


def test_confusion_matrices_are_readable_at_the_report_size():
    """Nine encoders on eight classes: the figure fits the report column (shown at its
    own size), each cell is large enough for its number, numbers are set in 8 pt."""
    frame = class_view_frame(load_record_files(RESULTS))
    one = frame[(frame["protocol"] == "linear-v1") & (frame["target"] == "synth-wild")]
    rng = np.random.default_rng(0)
    many = pd.concat([one.iloc[[0]].assign(
        encoder=f"encoder-{i}@r", confusion=[rng.integers(0, 30, (8, 8)).astype(float)],
        recall=[dict(zip(BASIC7 + ("contempt",), rng.random(8)))]) for i in range(9)])
    fig = confusion_figure(many, "confusion")
    fig.canvas.draw()                                   # the layout is made when drawn
    width, height = fig.get_size_inches()
    assert width <= MAX_WIDTH_IN
    drawn = panels(fig)
    assert len(drawn) == 9 and len({round(ax.get_position().x0, 3) for ax in drawn}) == 3
    cell = drawn[0].get_window_extent().width / fig.dpi / 8
    assert cell >= 0.3                                  # inches: room for "100" at 8 pt
    numbers = [t for ax in drawn for t in ax.texts]
    assert numbers and min(t.get_fontsize() for t in numbers) >= 8
    assert min(t.get_fontsize() for ax in drawn for t in ax.get_xticklabels()) >= 8
    # panels in order of mean recall, each titled with it
    scores = [float(ax.get_title().split(" · ")[1]) for ax in drawn]
    assert scores == sorted(scores, reverse=True)


def test_every_figure_fits_the_report_column(tmp_path):
    paths = (write_plots(RESULTS, tmp_path)
             + write_extra_plots(RESULTS, tmp_path, store_root=tmp_path / "no-store"))
    assert len(paths) == 12
    for path in paths:
        assert mpimg.imread(path).shape[1] <= MAX_WIDTH_IN * DPI, path.name


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_vector_formats_are_valid_files(tmp_path, fmt):
    paths = (write_plots(RESULTS, tmp_path / "a", fmt=fmt)
             + write_extra_plots(RESULTS, tmp_path / "a", fmt=fmt,
                                 store_root=tmp_path / "no-store"))
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
    again = write_plots(RESULTS, tmp_path / "b", fmt=fmt)
    assert [p.read_bytes() for p in again] == [(tmp_path / "a" / p.name).read_bytes()
                                               for p in again]


def test_plot_command_takes_a_format(tmp_path):
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
        write_plots(RESULTS, tmp_path / "x", fmt="jpg")


def test_colours_follow_the_sorted_labels_and_names_drop_a_lone_revision():
    colours = encoder_colours(["b@1", "a@1", "c@2", "a@1"])
    assert list(colours) == ["a@1", "b@1", "c@2"]
    assert encoder_colours(["c@2", "b@1", "a@1"]) == colours
    many = encoder_colours(f"e{i:02d}@r" for i in range(14))
    assert len(set(many.values())) == 14
    assert display_names(["a@1", "a@2", "b@1"]) == {"a@1": "a@1", "a@2": "a@2", "b@1": "b"}
    assert ranked({"x": 0.2, "y": float("nan"), "z": 0.9, "w": 0.2}) == ["z", "w", "x", "y"]
