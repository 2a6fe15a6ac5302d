"""The pre-training study's scripts: the command each arm trains with, the plan, the
refusal without data, and the one-row-per-arm table built from a long leaderboard."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import study  # noqa: E402
import study_table  # noqa: E402
import study_training  # noqa: E402


def args(tmp_path, **changes) -> argparse.Namespace:
    base = dict(arms=list(study.ARMS), steps=975, data="ferplus:train", input_size=48,
                batch_size=128, warmup_epochs=1.0, seed=0, hold_out=["contempt"],
                runs=str(tmp_path / "runs"),
                out=str(tmp_path / "out"), protocols=list(study.PROTOCOLS),
                datasets=list(study.DATASETS))
    return argparse.Namespace(**{**base, **changes})


def option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_every_arm_trains_at_the_same_budget_and_only_its_objective_differs(tmp_path):
    a = args(tmp_path)
    commands = {arm: study.pretrain_command(arm, a) for arm in study.ARMS}
    for arm, cmd in commands.items():
        assert option(cmd, "--total-steps") == "975" and option(cmd, "--input-size") == "48"
        assert option(cmd, "--batch-size") == "128" and option(cmd, "--seed") == "0"
        assert option(cmd, "--revision") == f"study-{arm}-s975-no-contempt"
        assert option(cmd, "--hold-out") == "contempt"
        assert option(cmd, "--out").endswith(f"study-{arm}-s975-no-contempt")
        assert "--resume" not in cmd
    assert option(commands["crs-cont-w1"], "--weight-vector") == "off"
    assert "--weight-vector" not in commands["crs-cont"]
    assert option(commands["supervised"], "--method") == "supervised"
    assert "--clean-baselines" in commands["simclr"]


def test_without_a_held_out_class_the_revision_says_nothing_of_it(tmp_path):
    cmd = study.pretrain_command("supcon", args(tmp_path, hold_out=[]))
    assert option(cmd, "--revision") == "study-supcon-s975" and "--hold-out" not in cmd


def test_an_arm_with_a_checkpoint_resumes(tmp_path):
    a = args(tmp_path)
    run_dir = Path(a.runs) / "study-supcon-s975-no-contempt"
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.pt").write_bytes(b"")
    assert study.pretrain_command("supcon", a)[-1] == "--resume"


def test_the_plan_states_the_budget_and_each_arms_cpu_time(tmp_path):
    lines = study.plan_lines(args(tmp_path, arms=["crs-cont", "supervised"]))
    assert "975 steps of 128 images at 48 px on ferplus:train" in lines[0]
    assert lines[0].endswith("; held out of training: contempt")
    # two views cost 0.75 s a step, one view 0.40 s: 975 steps -> ~12 and ~6 minutes
    assert "~   12 min" in lines[1] and "(to train)" in lines[1]
    assert "~    6 min" in lines[2]
    assert lines[-1].startswith("  total ~19 min of training")


def test_the_study_refuses_to_start_without_ferplus(tmp_path):
    env = {k: v for k, v in __import__("os").environ.items() if k != "FER_BENCH_DATA"}
    done = subprocess.run([sys.executable, str(SCRIPTS / "study.py"), "--runs",
                           str(tmp_path / "r"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("Error: the study trains on FERPlus")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("encoder, revision, arm", [
    ("crs-cont", "study-crs-cont-w1-s975-976ec042", "crs-cont-w1"),
    ("crs-cont", "study-supcon-s975-1a2b3c4d", "supcon"),
    ("crs-cont", "study-crs-cont-s975-6e1c19a1", "crs-cont"),
    ("crs-cont", "study-simclr-s975-no-contempt-0a1b2c3d", "simclr"),
    ("random-resnet18", "seed0", "random-resnet18"),
])
def test_arm_names_come_from_the_revision(encoder, revision, arm):
    assert study_table.arm_name(encoder, revision) == arm


def long_rows() -> pd.DataFrame:
    def row(revision, protocol, target, metric, mean):
        return dict(encoder="crs-cont", revision=revision, protocol=protocol, target=target,
                    metric=metric, mean=mean, ci_low=mean - 0.02, ci_high=mean + 0.03)
    return pd.DataFrame([
        row("study-crs-cont-s975-aa", "linear", "ferplus", "mean_class_accuracy", 0.441),
        row("study-crs-cont-s975-aa", "linear", "ferplus", "accuracy", 0.692),
        row("study-crs-cont-s975-aa", "knn", "ferplus", "mean_class_accuracy", 0.387),
        row("study-crs-cont-w1-s975-bb", "linear", "ferplus", "mean_class_accuracy", 0.461),
        row("study-crs-cont-w1-s975-bb", "linear", "synth-lab", "mean_class_accuracy", 0.9),
    ])


def test_the_study_table_has_one_row_per_arm_with_intervals_and_marks_gaps():
    frame = study_table.study_frame(long_rows())
    assert list(frame["arm"]) == ["crs-cont", "crs-cont-w1"]
    first = frame.iloc[0]
    assert first["FERPlus linear MCA"] == pytest.approx(0.441)
    assert first["FERPlus linear MCA low"] == pytest.approx(0.421)
    assert first["FERPlus kNN MCA high"] == pytest.approx(0.417)
    table = study_table.markdown(frame).splitlines()
    assert table[2].startswith("| crs-cont | 44.1 [42.1, 47.1] | 69.2 [67.2, 72.2] | "
                               "38.7 [36.7, 41.7] |")
    # the ablation arm has no accuracy or kNN record: "n/a", never a made-up number
    assert table[3].startswith("| crs-cont-w1 | 46.1 [44.1, 49.1] | n/a | n/a |")
    # a target the table does not list (synth-lab linear) is not shown as another column
    assert "90.0" not in "\n".join(table)


def test_write_study_table_writes_csv_markdown_and_no_scatter_without_cross_scores(
        tmp_path):
    long_rows().to_csv(tmp_path / "leaderboard_long.csv", index=False)
    study_table.write_study_table(tmp_path)
    assert (tmp_path / "study.md").read_text().startswith("Mean class accuracy")
    assert len(pd.read_csv(tmp_path / "study.csv")) == 2
    assert not (tmp_path / "scatter.png").exists()


def test_contempt_cells_only_where_contempt_was_the_one_unseen_class(tmp_path):
    import json
    records = tmp_path / "records"
    rows = []
    for revision, unseen, recall in (("study-crs-cont-s975-aa", ["contempt"], 0.2),
                                     ("study-simclr-s975-bb", ["neutral", "contempt"], 0.1)):
        for protocol, target, details, value in (
                ("unseen-expression", "ferplus@unseen-linear", {"unseen_classes": unseen}, 0.3),
                ("linear", "ferplus", {}, 0.5)):
            path = f"{revision}/{protocol}/{target}.json"
            (records / path).parent.mkdir(parents=True, exist_ok=True)
            (records / path).write_text(json.dumps(
                {"details": details, "per_class_recall": {"contempt": recall}}))
            rows.append(dict(encoder="crs-cont", revision=revision, protocol=protocol,
                             target=target, metric="mean_class_accuracy", mean=value,
                             ci_low=value - 0.1, ci_high=value + 0.1, record=path))
    frame = study_table.study_frame(pd.DataFrame(rows), records)
    crs, simclr = frame.iloc[0], frame.iloc[1]
    assert crs[study_table.CONTEMPT_UNSEEN] == pytest.approx(0.3)
    assert pd.isna(simclr[study_table.CONTEMPT_UNSEEN])        # every class unseen: n/a
    assert (crs[study_table.CONTEMPT_RECALL], simclr[study_table.CONTEMPT_RECALL]) == (0.2, 0.1)
    table = study_table.markdown(frame).splitlines()
    assert table[2].endswith("| 30.0 [20.0, 40.0] | 20.0 |")
    assert table[3].endswith("| n/a | 10.0 |")


def test_the_training_table_reads_each_finished_run(tmp_path):
    import json
    run = tmp_path / "runs" / "study-supcon-s975-no-contempt"
    run.mkdir(parents=True)
    events = [{"event": "health", "epoch": 0.0, "knn_mca": 0.177, "effective_rank": 12.4,
               "top_share": 0.57},
              {"event": "step", "images_per_s": 150.0}, {"event": "step", "images_per_s": 170.0},
              {"event": "step", "images_per_s": 10.0},
              {"event": "health", "epoch": 5.03, "knn_mca": 0.345, "effective_rank": 4.3,
               "top_share": 0.47},
              {"event": "stop", "global_step": 975, "epochs_run": 5.03, "elapsed_s": 780.0}]
    (run / "train_log.jsonl").write_text("\n".join(json.dumps(e) for e in events))
    (run / "health.png").write_bytes(b"png")
    unfinished = tmp_path / "runs" / "study-simclr-s975-no-contempt"
    unfinished.mkdir()
    (unfinished / "train_log.jsonl").write_text(json.dumps(events[0]))
    study_training.main(tmp_path / "runs", tmp_path / "out")
    table = (tmp_path / "out" / "training.md").read_text().splitlines()
    assert len(table) == 3            # header, rule, one finished arm
    assert table[2] == ("| supcon | 975 | 5.03 | 13.0 min | 150 | 17.7 / - / - / 34.5 | "
                        "4.30 | 47% |")
    assert (tmp_path / "out" / "health" / "supcon.png").read_bytes() == b"png"
