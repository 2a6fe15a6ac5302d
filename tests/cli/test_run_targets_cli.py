"""End to end: ``fer-bench run`` with the protocols of non-categorical targets, on a tiny
generated copy of AffectNet's csv layout (valence/arousal) and on a generated preset."""
from __future__ import annotations

from click.testing import CliRunner
from datasets_fixtures import make_affectnet_csv

from fer_bench.cli import main
from fer_bench.records import load_records


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_valence_arousal_on_an_affectnet_layout_and_not_applicable_elsewhere(tmp_path):
    def rows(n, offset):
        # valence follows the image index (the generated face changes with it); arousal not
        return [(f"{i}/img{i}.jpg", i % 7, round((i % 10) / 5 - 0.9, 2),
                 round(((i * 7) % 10) / 5 - 0.9, 2)) for i in range(offset, offset + n)]

    root = make_affectnet_csv(tmp_path / "AffectNet", {"training.csv": rows(60, 0),
                                                        "validation.csv": rows(20, 60)})
    output = invoke("run", "--encoder", "pixels", "--protocol", "valence-arousal",
                    "--dataset", "affectnet", "--dataset", "synth-wild:n=100,size=32",
                    "--data-root", tmp_path / "AffectNet", "--results-dir", tmp_path / "records",
                    "--cache-dir", tmp_path / "cache", "--device", "cpu", "--quiet")
    (record,) = load_records(tmp_path / "records")
    assert record.protocol == "valence-arousal" and record.target == "affectnet"
    assert record.class_set == ["valence", "arousal"]
    assert record.headline_metric == "mean_ccc"
    assert record.details["sample_sizes"]["test"] == 20
    assert -1 <= record.metrics["mean_ccc"].mean <= 1
    assert "not applicable" in output and "no valence/arousal labels" in output
    assert root.exists()
