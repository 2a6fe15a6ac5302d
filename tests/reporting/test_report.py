"""``fer-bench report``: one page that references every plot it wrote (relatively), the
leaderboard of every protocol with intervals and stamps, and the flags."""
from __future__ import annotations

import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset
from reporting_support import RESULTS as FIXTURES
from reporting_support import colours

import fer_bench.reporting.tables as tables
from fer_bench.cli import main
from fer_bench.features.store import FeatureStore
from fer_bench.protocols.base import get_protocol
from fer_bench.reporting.report import build_report
from fer_bench.reporting.results import read_results
from fer_bench.reporting.tables import long_table
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import BASIC7


class PageParts(HTMLParser):
    """Image sources, links and table cell texts of a page."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.cells, self._cell = [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """H4's fixture records (linear, knn, cross-dataset, a test-selected linear-online)
    plus few-shot records of a fake encoder, rendered once."""
    root = tmp_path_factory.mktemp("report")
    results = root / "records"
    shutil.copytree(FIXTURES, results)
    ds = blob_dataset("blobs", BASIC7[:3], {"train": 6, "val": 2, "test": 4}, noise=0.7)
    run_benchmark([NeverBuilt(pretrained_on=("blobs",))],
                  ["few-shot:shots=1/2/4,draws=2,n_boot=50"], ["blobs"], results_dir=results,
                  store=ArrayStore(), load={"blobs": ds}.__getitem__, seeds=(0,),
                  progress=False, device="cpu")
    files = build_report(read_results(results), root / "site",
                         store=FeatureStore(root / "no-store"))
    page = PageParts()
    page.feed(files.html.read_text(encoding="utf-8"))
    return files, page, results


def test_every_plot_is_on_the_page_by_a_relative_path_and_exists(report):
    files, page, _ = report
    site = files.html.parent
    pngs = sorted(p.name for p in site.glob("*.png"))
    assert sorted(p.name for p in files.plots) == pngs
    assert sorted(page.images) == pngs                       # each once, relative names
    extra = {f"{kind}_{p}-v1_{ds}.png" for kind in ("confusion", "recall")
             for p in ("knn", "linear") for ds in ("synth-lab", "synth-wild")}
    assert set(pngs) == extra | {
        "bars_knn-v1.png", "bars_linear-v1.png", "bars_linear-online-v1.png",
        f"bars_few-shot-v{get_protocol('few-shot').version}.png",  # run here, not a fixture
        "fewshot_blobs.png",
        "cross_cross-dataset-v1.png"}          # one for all encoders; no embedding map: no store
    for png in pngs:          # real drawings, not blank canvases
        assert colours(site / png) > 30, png
    for link in page.links:
        assert link.startswith("#") or (site / link).is_file()
    markdown = files.markdown.read_text(encoding="utf-8")
    assert sorted(n for n in pngs if f"]({n})" in markdown) == pngs


def test_leaderboard_tables_show_every_record_with_intervals_and_stamps(report):
    _, page, results = report
    long = long_table(results)
    headline = long[long["headline"]]
    cells = set(page.cells)
    for _, row in headline.iterrows():
        text = f"{100 * row['mean']:.1f} [{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}]"
        assert any(c.startswith(text) for c in cells), (row["protocol"], row["target"])
    stamped = headline[headline["test_selected"]]
    assert len(stamped) == 1 and any(c.endswith("†") for c in cells)
    assert {"blobs@1shot-knn", "blobs@4shot-linear", "synth-wild__to__synth-lab"} <= cells


def test_flags_list_test_selected_and_overlapping_records(report):
    files, page, _ = report
    text = files.html.read_text(encoding="utf-8")
    flags = text[text.index('id="flags"'):text.index('id="bars"')]
    assert "linear-online" in flags and "yes †" in flags
    assert flags.count("blobs@") == 6           # every few-shot record overlaps its data
    # by side, with the splits: scored on blobs' test split, supports drawn from train
    assert "blobs/test" in page.cells and "blobs/train" in page.cells
    assert "pre-trained on scored data *" in page.cells


def test_cli_writes_the_page(tmp_path):
    one = tmp_path / "records" / "pixels" / "grey24" / "linear-v1"
    one.mkdir(parents=True)
    shutil.copy(FIXTURES / "pixels" / "grey24" / "linear-v1" / "synth-wild.json", one)
    result = CliRunner().invoke(main, ["report", "--results-dir", str(tmp_path / "records"),
                                       "--out", str(tmp_path / "site"), "--cache-dir",
                                       str(tmp_path / "cache")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "leaderboard_long.csv").is_file()
    assert "with 3 plot(s)" in result.output     # bars, recall heatmap, confusion grid


@pytest.fixture
def reads(monkeypatch):
    """Counts of record-file reads (any ``.json`` read through ``Path.read_text``) and
    of records folded into long-table rows, by path."""
    counts = {"read": Counter(), "folded": Counter()}
    read_text, record_rows = Path.read_text, tables.record_rows

    def counting_read(self, *args, **kwargs):
        if self.suffix == ".json":
            counts["read"][self.resolve()] += 1
        return read_text(self, *args, **kwargs)

    def counting_rows(record, relpath):
        counts["folded"][relpath] += 1
        return record_rows(record, relpath)
    monkeypatch.setattr(Path, "read_text", counting_read)
    monkeypatch.setattr(tables, "record_rows", counting_rows)
    return counts


def test_a_report_build_reads_each_record_once(report, reads, tmp_path):
    """One read of each record file and one fold into the long table per build, which
    every table and figure then shares (through the Python API and the command line)."""
    _, _, results = report
    files = sorted(p.resolve() for p in results.rglob("*.json"))
    assert len(files) > 18                       # the fixture records and the few-shot ones

    def record_reads() -> dict[Path, int]:
        return {p: n for p, n in reads["read"].items() if results.resolve() in p.parents}

    build_report(read_results(results), tmp_path / "api", store=FeatureStore(tmp_path / "s"))
    assert sorted(record_reads()) == files and set(record_reads().values()) == {1}
    assert len(reads["folded"]) == len(files) and set(reads["folded"].values()) == {1}
    for counts in reads.values():
        counts.clear()
    result = CliRunner().invoke(main, ["report", "--results-dir", str(results), "--out",
                                       str(tmp_path / "cli"), "--cache-dir",
                                       str(tmp_path / "cache")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(record_reads()) == files and set(record_reads().values()) == {1}
    assert len(reads["folded"]) == len(files) and set(reads["folded"].values()) == {1}


def test_a_rebuild_removes_figures_of_records_gone_and_keeps_other_files(report, tmp_path):
    files, _, results = report
    site = files.html.parent
    stale = site / "bars_gone-v9.png"            # a figure no record of today draws
    stale.write_bytes(b"old")
    mine = site / "notes.png"                    # not a figure kind: not the report's
    mine.write_bytes(b"mine")
    rebuilt = build_report(read_results(results), site,
                           store=FeatureStore(tmp_path / "no-store"))
    assert not stale.exists() and mine.exists()
    assert all(p.exists() for p in rebuilt.plots)
