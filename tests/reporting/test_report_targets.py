"""Action-unit and continuous-target records in the leaderboard, the figures and the
report: their own headline, coefficients printed as coefficients, per-AU heatmaps."""
import pytest

from fer_bench.protocols.base import Task, get_protocol
from fer_bench.protocols.context import RunContext
from fer_bench.records.io import read_predictions, write_record
from fer_bench.reporting.figures import write_figures
from fer_bench.reporting.results import read_results
from fer_bench.reporting.tables import markdown_leaderboard, wide_numeric_table
from protocol_fakes import ArrayStore, NeverBuilt, make_record
from target_fakes import au_dataset


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    for name, signal in (("strong", 3.0), ("weak", 0.3)):
        ds = au_dataset(signal=signal, with_affect=True)
        ctx = RunContext(NeverBuilt(name), ArrayStore(), load=lambda spec, ds=ds: ds,
                         progress=False, seeds=(0,))
        for protocol in ("au", "valence-arousal"):
            record, predictions = get_protocol(protocol, n_boot=50).run_task(
                ctx, Task(protocol, (ds.name,), ds.name))
            write_record(record, out, predictions)
    write_record(make_record(), out)            # an expression record beside them
    return out


def test_long_table_and_markdown(results):
    table = read_results(results)
    long = table.long
    au = long[long["protocol"] == "au"]
    assert set(au["metric"]) == {"mean_f1", "mean_auc", "mean_icc", "mean_pearson_r",
                                 "mean_mae"}
    assert au.loc[au["headline"], "metric"].unique().tolist() == ["mean_f1"]
    text = markdown_leaderboard(long)
    assert "## au-v1 · mean f1\n" in text and "## au-v1 · mean icc\n" in text
    assert "## valence-arousal-v1 · mean ccc\n" in text and "## linear-v3\n" in text
    assert "ICC, CCC and r as coefficients" in text
    strong = au[(au["encoder"] == "strong") & (au["metric"] == "mean_icc")].iloc[0]
    cell = f"{strong['mean']:.2f} [{strong['ci_low']:.2f}, {strong['ci_high']:.2f}]"
    assert cell in text                         # a coefficient, not a percentage
    f1 = au[(au["encoder"] == "strong") & (au["metric"] == "mean_f1")].iloc[0]
    assert f"{100 * f1['mean']:.1f} [" in text
    wide = wide_numeric_table(long)
    assert "au-v1/au-set/score" in wide.columns and "linear-v3/synth-wild/score" in wide.columns


def test_predictions_round_trip(results):
    files = sorted(results.rglob("au-v1/*.json"))
    assert files
    predictions = read_predictions(files[0])
    assert {"id", "seed", "target", "family", "y_true", "y_pred"} <= set(predictions.columns)


def test_figures(results, tmp_path):
    table = read_results(results)
    written = {p.name for p in write_figures(table, tmp_path, kinds=("bars", "aus"))}
    assert {"aus_au-set_f1.png", "aus_au-set_icc.png", "bars_au-v1_mean_f1.png",
            "bars_au-v1_mean_icc.png", "bars_valence-arousal-v1_mean_ccc.png",
            "bars_linear-v3.png"} <= written
