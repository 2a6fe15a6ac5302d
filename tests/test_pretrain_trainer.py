"""The pre-training loop on a few generated faces: logging, checkpoints, exact resume,
refusals, time budget, the schedule and every method's network."""
from __future__ import annotations

import pytest
import torch

from fer_bench.pretrain.checkpoint import load_checkpoint
from fer_bench.pretrain.data import PretrainData, Source, merge_sources
from fer_bench.pretrain.losses import Objective
from fer_bench.pretrain.model import build_model
from fer_bench.pretrain.run_log import read_log
from fer_bench.pretrain.trainer import RunExists, TrainConfig, learning_rate, train
from fer_bench.synth import sample_faces


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def faces() -> PretrainData:
    images, labels = sample_faces(12, size=16, seed=1)
    return merge_sources([Source("toy", "synth-wild", "synth-wild", ("train",), images, labels,
                                 "toy-identity")])


def config(tmp_path, name="run", **changes) -> TrainConfig:
    # 12 images, 4 per step: 3 steps per epoch; 16 px keeps a ResNet-18 step cheap
    base = dict(data=("toy",), out=str(tmp_path / name), epochs=2, batch_size=4, input_size=16,
                log_every=2, lr=0.05, device="cpu", progress=False)
    return TrainConfig(**{**base, **changes})


def test_a_run_logs_checkpoints_and_stops_after_its_epochs(tmp_path, faces):
    result = train(config(tmp_path), faces)
    assert result.stop_reason == "epochs" and result.steps == 6 and result.epochs_run == 2
    log = read_log(tmp_path / "run" / "train_log.jsonl")
    events = [r["event"] for r in log]
    assert events[0] == "start" and events[-1] == "stop" and "checkpoint" in events
    steps = [r for r in log if r["event"] == "step"]
    assert steps[-1]["global_step"] == 6
    assert all(torch.isfinite(torch.tensor(r["total"])) for r in steps)
    assert {"contrastive", "ce_coarse", "instance", "total", "lr"} <= set(steps[0])
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["global_step"] == 6 and state["config"]["method"] == "crs-cont"
    assert set(state["present_classes"]) == set(faces.present_classes)


def test_resume_after_a_stop_ends_where_an_uninterrupted_run_ends(tmp_path, faces):
    straight = train(config(tmp_path, "a"), faces).model.state_dict()
    first = train(config(tmp_path, "b", max_steps=4), faces)
    assert first.stop_reason == "max_steps" and first.steps == 4        # mid-epoch 2
    resumed = train(config(tmp_path, "b", resume=True), faces)
    assert resumed.steps == 6
    for k, v in resumed.model.state_dict().items():
        assert torch.allclose(v.float(), straight[k].float(), atol=1e-6), k
    events = [r["event"] for r in read_log(tmp_path / "b" / "train_log.jsonl")]
    assert events.count("start") == 1 and events.count("resume") == 1


def test_existing_runs_are_not_overwritten_and_resume_keeps_the_settings(tmp_path, faces):
    train(config(tmp_path, max_steps=1), faces)
    with pytest.raises(RunExists, match="--resume"):
        train(config(tmp_path), faces)
    with pytest.raises(ValueError, match=r"lr: 0.05 -> 0.1"):
        train(config(tmp_path, resume=True, lr=0.1), faces)
    again = train(config(tmp_path, overwrite=True, max_steps=1), faces)
    assert again.steps == 1


def test_time_budget_stops_cleanly_with_a_checkpoint(tmp_path, faces):
    result = train(config(tmp_path, time_budget_min=1e-9), faces)
    assert result.stop_reason == "time_budget" and result.steps < 6
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["reason"] == "time_budget"


def test_schedule_is_the_official_step_decay_with_optional_warmup():
    cfg = TrainConfig()
    assert [learning_rate(cfg, e) for e in (0, 19.99, 20, 45, 99)] == \
        [0.5, 0.5, 0.25, 0.125, 0.5 / 16]
    warm = TrainConfig(warmup_epochs=2)
    assert learning_rate(warm, 1.0) == pytest.approx(0.25)
    assert learning_rate(warm, 2.0) == 0.5


@pytest.mark.parametrize("method, clean, heads", [
    ("crs-cont", False, {"trunk", "head", "coarse_head"}),
    ("supcon", True, {"trunk", "head"}),
    ("simclr", False, {"trunk", "head", "coarse_head"}),
    ("supervised", False, {"trunk", "classifier"}),
])
def test_each_method_builds_only_the_heads_it_trains(tmp_path, faces, method, clean, heads):
    model = build_model(Objective(method, clean), len(faces.fine_classes))
    assert {name for name, m in model.named_children() if m is not None} == heads
    result = train(config(tmp_path, method=method, clean_baselines=clean, max_steps=1), faces)
    assert result.steps == 1
    # every parameter got a gradient: DDP would fail on one that did not
    assert all(p.grad is not None for p in result.model.parameters())


def test_a_diverging_loss_stops_the_run_before_a_checkpoint_keeps_it(tmp_path, faces):
    with pytest.raises(FloatingPointError, match="--lr"):
        train(config(tmp_path, lr=float("inf"), log_every=1), faces)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
