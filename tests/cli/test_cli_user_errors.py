"""A user's mistake gets one line (``Error: ...``), never a traceback.

Exit codes: 2 when the command line is wrong (an unknown command, option, encoder,
protocol or dataset name or option; a value out of range; a path that does not exist or
cannot be written; protocols that cannot run on the datasets given, dataset names that
collide), found before any work starts; 1 when what the files hold is bad
(data, records, weights), found while reading them. Every case here is quick (no
extraction, no generation of more than a few faces)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from datasets_fixtures import write_image
from protocol_fakes import make_record

from fer_bench.cli import main
from fer_bench.records import write_record


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """Files the bad invocations point at. Importing the encoder zoo and the protocols
    (torch, torchvision, scikit-learn, FAISS) happens here once, not in the first case."""
    from fer_bench.encoder_registry import encoder_names
    from fer_bench.protocols.base import protocol_names

    encoder_names(), protocol_names()
    root = tmp_path_factory.mktemp("hostile")
    (root / "garbage.safetensors").write_bytes(b"these are not weights")
    (root / "garbage.pth").write_bytes(b"PK\x03\x04 truncated zip")
    (root / "afile").write_text("a file where a folder is expected")
    (root / "empty").mkdir()
    for i, expression in enumerate(("happy", "sad", "happy", "sad")):
        write_image(root / "faces" / expression / f"S{i}_x.png", i, size=16)
    good = make_record()
    write_record(good, root / "truncated")
    path = next((root / "truncated").rglob("*.json"))
    path.write_text(path.read_text()[:200])                  # cut mid-record
    write_record(good, root / "mixed")
    write_record(make_record(target="synth-lab"), root / "mixed")
    path = next((root / "mixed").rglob("synth-lab.json"))
    path.write_text(path.read_text()[:200])
    return root


RUN = ["run", "--results-dir", "{tmp}/results", "--cache-dir", "{tmp}/cache", "--quiet",
       "--device", "cpu"]
ENC, PROT = ["--encoder", "pixels"], ["--protocol", "knn"]
DATA = ["--dataset", "folder:{tmp}/faces"]

# (id, arguments, exit code, substrings the output must hold)
CASES = [
    # fer-bench run
    ("run-unknown-encoder", RUN + ["--encoder", "pixel"] + PROT + DATA, 2,
     ["unknown encoder 'pixel'", "did you mean 'pixels'"]),
    ("run-encoder-module-missing", RUN + ["--encoder", "no_such_pkg.mod:make"] + PROT + DATA,
     2, ["cannot import module 'no_such_pkg.mod'"]),
    ("run-encoder-without-revisions", RUN + ["--encoder", "pixels@v2"] + PROT + DATA, 2,
     ["pixels has no revisions (drop '@v2')"]),
    ("run-unknown-encoder-option", RUN + ["--encoder", "pixels:sise=8"] + PROT + DATA, 2,
     ["encoder 'pixels' has no option 'sise'", "did you mean 'size'"]),
    ("run-unknown-encoder-revision", RUN + ["--encoder", "crs-cont@no-such-rev"] + PROT + DATA,
     1, ["no shipped revision 'no-such-rev'", "shipped: cpu-ferplus-48"]),
    ("run-unknown-protocol", RUN + ENC + ["--protocol", "knnn"] + DATA, 2,
     ["unknown protocol 'knnn'", "did you mean 'knn'"]),
    ("run-unknown-protocol-option", RUN + ENC + ["--protocol", "linear:Cz=1"] + DATA, 2,
     ["'Cz'", "did you mean 'Cs'"]),
    ("run-bad-protocol-value", RUN + ENC + ["--protocol", "linear:Cs=abc"] + DATA, 2,
     ["option Cs: bad value 'abc' (could not convert string to float"]),
    ("run-bad-protocol-config", RUN + ENC + ["--protocol", "few-shot:shots=0"] + DATA, 2,
     ["shots must be >= 1"]),
    ("run-unknown-dataset", RUN + ENC + PROT + ["--dataset", "synth-wyld"], 2,
     ["unknown dataset 'synth-wyld'", "did you mean 'synth-wild'"]),
    ("run-unknown-dataset-option", RUN + ENC + PROT + ["--dataset", "synth-wild:nn=5"], 2,
     ["unknown option", "did you mean 'n'"]),
    ("run-bad-dataset-value", RUN + ENC + PROT + ["--dataset", "synth-wild:n=abc"], 2,
     ["must be integers"]),
    ("run-dataset-too-large", RUN + ENC + PROT + ["--dataset", "synth-wild:n=100000000"], 2,
     ["FER_BENCH_ALLOW_LARGE=1"]),
    ("run-dataset-spec-grammar", RUN + ENC + PROT + ["--dataset", "synth-wild:"], 2,
     ["expected key=value"]),
    ("run-folder-missing", RUN + ENC + PROT + ["--dataset", "folder:{tmp}/nowhere"], 2,
     ["nowhere", "does not exist"]),
    ("run-folder-unknown-option", RUN + ENC + PROT + ["--dataset", "folder:{tmp}/faces:nme=x"],
     2, ["unknown option", "did you mean 'name'"]),
    ("run-data-root-missing", RUN + ENC + PROT + ["--dataset", "rafdb", "--data-root",
                                                  "{tmp}/nowhere"], 2, ["--data-root"]),
    ("run-real-dataset-absent", RUN + ENC + PROT + ["--dataset", "rafdb", "--data-root",
                                                    "{tmp}/empty"], 1,
     ["rafdb", "list_patition_label.txt"]),
    ("run-weights-missing", RUN + ["--encoder", "crs-cont", "--weights",
                                   "crs-cont={tmp}/nowhere.safetensors"] + PROT + DATA, 2,
     ["nowhere.safetensors", "does not exist"]),
    ("run-weights-other-encoder", RUN + ENC + ["--weights", "pixelz={tmp}/garbage.pth"]
     + PROT + DATA, 2, ["'pixelz' is not an encoder of this run", "did you mean 'pixels'"]),
    ("run-weights-garbage", RUN + ["--encoder", "crs-cont", "--weights",
                                   "crs-cont={tmp}/garbage.safetensors"] + PROT + DATA, 1,
     ["garbage.safetensors", "not a safetensors file"]),
    ("run-weights-garbage-pth", RUN + ["--encoder", "crs-cont", "--weights",
                                       "crs-cont={tmp}/garbage.pth"] + PROT + DATA, 1,
     ["garbage.pth", "cannot be loaded"]),
    ("run-weights-syntax", RUN + ENC + ["--weights", "pixels"] + PROT + DATA, 2,
     ["expected ENCODER=PATH"]),
    ("run-batch-size-0", RUN + ENC + PROT + DATA + ["--batch-size", "0"], 2, ["--batch-size"]),
    ("run-seed-negative", RUN + ENC + PROT + DATA + ["--seed", "-1"], 2, ["--seed"]),
    ("run-workers-negative", RUN + ENC + PROT + DATA + ["--num-workers", "-1"], 2,
     ["--num-workers"]),
    ("run-results-dir-is-a-file", ["run", "--results-dir", "{tmp}/afile"] + ENC + PROT + DATA,
     2, ["--results-dir", "afile"]),
    ("run-results-dir-under-a-file", ["run", "--results-dir", "{tmp}/afile/sub"] + ENC + PROT
     + DATA, 2, ["--results-dir", "afile"]),
    ("run-cache-dir-is-a-file", ["run", "--results-dir", "{tmp}/results", "--cache-dir",
                                 "{tmp}/afile"] + ENC + PROT + DATA, 2, ["--cache-dir"]),
    ("run-bad-overwrite", RUN + ENC + PROT + DATA + ["--overwrite", "sometimes"], 2,
     ["'missing'"]),
    ("run-bad-device", ["run", "--results-dir", "{tmp}/results", "--device", "gpu0"] + ENC
     + PROT + DATA, 2, ["--device", "cuda"]),
    ("run-no-protocol", RUN + ENC + DATA, 2, ["--protocol"]),
    ("run-option-typo", RUN + ENC + PROT + DATA + ["--bach-size", "3"], 2, ["--batch-size"]),
    ("run-cross-dataset-one-dataset", RUN + ENC + ["--protocol", "cross-dataset"] + DATA, 2,
     ["at least two datasets"]),
    ("run-colliding-names", RUN + ENC + PROT + ["--dataset", "folder:{tmp}/faces:name=same",
                                                "--dataset", "folder:{tmp}/empty:name=same"],
     2, ["both named 'same'"]),
    ("command-typo", ["rnu"], 2, ["No such command 'rnu'", "mean 'run'"]),
    # fer-bench extract
    ("extract-unknown-encoder", ["extract", "--encoder", "pixel", "--dataset",
                                 "folder:{tmp}/faces"], 2, ["did you mean 'pixels'"]),
    ("extract-unknown-dataset", ["extract", "--encoder", "pixels", "--dataset", "synth-wyld"],
     2, ["did you mean 'synth-wild'"]),
    ("extract-unknown-split", ["extract", "--encoder", "pixels", "--dataset",
                               "folder:{tmp}/faces", "--split", "tst", "--cache-dir",
                               "{tmp}/cache"], 2, ["--split", "'tst'", "train"]),
    ("extract-weights-missing", ["extract", "--encoder", "crs-cont", "--weights",
                                 "{tmp}/nowhere.safetensors", "--dataset",
                                 "folder:{tmp}/faces"], 2, ["does not exist"]),
    # leaderboard, report, plot
    ("leaderboard-empty", ["leaderboard", "--results-dir", "{tmp}/empty", "--out",
                           "{tmp}/lb"], 1, ["no result records"]),
    ("leaderboard-no-dir", ["leaderboard", "--results-dir", "{tmp}/nowhere", "--out",
                            "{tmp}/lb"], 2, ["--results-dir"]),
    ("leaderboard-only-truncated", ["leaderboard", "--results-dir", "{tmp}/truncated",
                                    "--out", "{tmp}/lb"], 1,
     ["Warning: skipped", "synth-wild.json", "no readable result records"]),
    ("leaderboard-strict", ["leaderboard", "--results-dir", "{tmp}/mixed", "--out",
                            "{tmp}/lb", "--strict"], 1, ["synth-lab.json", "--strict"]),
    ("leaderboard-bad-metric", ["leaderboard", "--results-dir", "{tmp}/mixed", "--out",
                                "{tmp}/lb", "--metric", "acc"], 2, ["'accuracy'"]),
    ("leaderboard-out-is-a-file", ["leaderboard", "--results-dir", "{tmp}/mixed", "--out",
                                   "{tmp}/afile"], 2, ["--out"]),
    ("report-empty", ["report", "--results-dir", "{tmp}/empty", "--out", "{tmp}/rep"], 1,
     ["no result records"]),
    ("report-out-under-a-file", ["report", "--results-dir", "{tmp}/mixed", "--out",
                                 "{tmp}/afile/rep"], 2, ["--out"]),
    ("plot-empty", ["plot", "--results-dir", "{tmp}/empty", "--out", "{tmp}/plots"], 1,
     ["no result records"]),
    # datasets, encoders, pretrain
    ("datasets-info-unknown", ["datasets", "info", "synth-wyld"], 2,
     ["did you mean 'synth-wild'"]),
    ("datasets-prepare-unknown", ["datasets", "prepare", "rafbd"], 2,
     ["did you mean 'rafdb'"]),
    ("datasets-prepare-absent", ["datasets", "prepare", "rafdb", "--root", "{tmp}/empty"], 1,
     ["list_patition_label.txt"]),
    ("datasets-prepare-unknown-option", ["datasets", "prepare", "folder:{tmp}/faces", "-o",
                                         "nme=x"], 2, ["did you mean 'name'"]),
    ("datasets-preview-unknown", ["datasets", "preview", "synth-wyld", "--out",
                                  "{tmp}/p.png"], 2, ["did you mean 'synth-wild'"]),
    ("datasets-preview-bad-value", ["datasets", "preview", "synth-wild:n=abc", "--out",
                                    "{tmp}/p.png"], 2, ["must be integers"]),
    ("check-encoder-unknown", ["check-encoder", "pixel"], 2, ["did you mean 'pixels'"]),
    ("check-encoder-unknown-option", ["check-encoder", "pixels", "-o", "sise=8"], 2,
     ["has no option 'sise'", "did you mean 'size'"]),
    ("encoders-fetch-unknown", ["encoders", "fetch", "pyemotio"], 2, ["pyemotion"]),
    ("pretrain-unknown-dataset", ["pretrain", "--data", "synth-wyld", "--out", "{tmp}/run",
                                  "--device", "cpu"], 2, ["did you mean 'synth-wild'"]),
    ("pretrain-epochs-0", ["pretrain", "--data", "synth-wild", "--out", "{tmp}/run",
                           "--epochs", "0"], 2, ["--epochs"]),
    ("pretrain-batch-size-0", ["pretrain", "--data", "synth-wild", "--out", "{tmp}/run",
                               "--batch-size", "0"], 2, ["--batch-size"]),
    ("export-garbage-checkpoint", ["export-encoder", "{tmp}/garbage.pth", "--out",
                                   "{tmp}/exported", "--revision", "r"], 1, ["garbage.pth"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_bad_invocation_gets_one_error_line_and_no_traceback(place, case):
    _, args, code, expected = case
    result = CliRunner().invoke(main, [a.format(tmp=place) for a in args])
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__} escaped:\n{output}")
    assert "Traceback" not in output, output
    assert result.exit_code == code, output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    if code == 2:       # the command line was refused: nothing but that line
        assert output.strip().splitlines() == errors, output
    for text in expected:
        assert text in output, (text, output)


def test_nothing_is_written_when_the_command_line_is_refused(place, tmp_path):
    for extra in (["--seed", "-1"], ["--weights", "pixelz=x"], ["--batch-size", "0"],
                  ["--dataset", "synth-wyld"]):
        result = CliRunner().invoke(main, ["run", "--results-dir", str(tmp_path / "r"),
                                           "--cache-dir", str(tmp_path / "c"), *ENC, *PROT,
                                           "--dataset", f"folder:{place}/faces", *extra])
        assert result.exit_code == 2, result.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()


def test_a_truncated_record_is_skipped_loudly_and_the_rest_is_tabled(place, tmp_path):
    result = CliRunner().invoke(main, ["leaderboard", "--results-dir", str(place / "mixed"),
                                       "--out", str(tmp_path / "lb")])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 2, result.output
    assert "synth-lab.json" in warnings[0] and "skipped 1 of 2 record files" in warnings[1]
    long = (tmp_path / "lb" / "leaderboard_long.csv").read_text()
    assert "synth-wild" in long and "synth-lab" not in long


def test_report_and_plot_skip_a_truncated_record_too(place, tmp_path):
    for command in ("plot", "report"):
        result = CliRunner().invoke(main, [command, "--results-dir", str(place / "mixed"),
                                           "--out", str(tmp_path / command), "--cache-dir",
                                           str(tmp_path / "cache")])
        assert result.exit_code == 0, result.output
        assert "Warning: skipped" in result.output and "synth-lab.json" in result.output


def test_fer_bench_debug_lets_the_original_error_through(place, monkeypatch):
    args = ["datasets", "prepare", "rafdb", "--root", str(place / "empty")]
    assert CliRunner().invoke(main, args).exit_code == 1
    monkeypatch.setenv("FER_BENCH_DEBUG", "1")
    result = CliRunner().invoke(main, args)
    assert type(result.exception).__name__ == "DatasetError"
