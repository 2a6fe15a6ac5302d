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
from fer_bench.pretrain.trainer import RunExists, TrainConfig, schedule_for, train
from fer_bench.synth import sample_faces

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def faces() -> PretrainData:
    images, labels = sample_faces(12, size=16, seed=1)
    return merge_sources([Source("toy", "synth-wild", "synth-wild", ("train",), images, labels,
                                 "toy-identity")])


def config(tmp_path, name="run", **changes) -> TrainConfig:
    # 12 images, 4 per step: 3 steps per epoch; 16 px keeps a ResNet-18 step cheap
    # fp32 (bf16 kernels are not bit-reproducible) and no health set unless a test asks
    base = dict(data=("toy",), out=str(tmp_path / name), epochs=2, batch_size=4, input_size=16,
                log_every=2, lr=0.05, device="cpu", progress=False, amp="off",
                health_data="none")
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


def test_a_run_saved_before_a_setting_existed_resumes_with_that_settings_old_value(
        tmp_path, faces):
    from fer_bench.pretrain.checkpoint import save_checkpoint
    train(config(tmp_path, max_steps=1), faces)
    path = tmp_path / "run" / "checkpoint.pt"
    state = load_checkpoint(path)
    del state["config"]["weight_vector"]            # as saved before --weight-vector existed
    save_checkpoint(path, state)
    assert train(config(tmp_path, resume=True, max_steps=2), faces).steps == 2
    with pytest.raises(ValueError, match=r"weight_vector: 'official' -> 'off'"):
        train(config(tmp_path, resume=True, weight_vector="off"), faces)


def test_time_budget_stops_cleanly_with_a_checkpoint(tmp_path, faces):
    result = train(config(tmp_path, time_budget_min=1e-9), faces)
    assert result.stop_reason == "time_budget" and result.steps < 6
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["reason"] == "time_budget"


def test_schedule_is_the_official_step_decay_with_optional_warmup():
    cfg = TrainConfig()
    sched = schedule_for(cfg, steps_per_epoch=10)        # 100 epochs of 10 steps
    assert sched.decay_points() == [200, 400, 600, 800]
    assert [sched.lr(s) for s in (0, 199, 200, 450, 999)] == [0.5, 0.5, 0.25, 0.125, 0.5 / 16]
    warm = schedule_for(TrainConfig(warmup_epochs=2), steps_per_epoch=10)
    assert warm.lr(10) == pytest.approx(0.25)
    assert warm.lr(20) == 0.5


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


def test_a_budget_is_planned_from_the_measured_rate_and_logged_before_training_goes_on(
        tmp_path, faces):
    # 2000 epochs of 3 steps would take far longer than the budget: the plan must cut the
    # total, keep the schedule shape and end inside the budget
    cfg = config(tmp_path, epochs=2000, lr_step=400, time_budget_min=0.25, plan_after_s=2.0,
                 log_every=1)
    result = train(cfg, faces)
    log = read_log(tmp_path / "run" / "train_log.jsonl")
    plans = [r for r in log if r["event"] == "plan"]
    assert plans[0]["reason"] == "plan" and all(p["reason"] == "replan" for p in plans[1:])
    plan = plans[-1]  # re-fits never raise the rate (checked on the logged lr below)
    assert result.plan == {k: v for k, v in plan.items() if k not in ("event", "time")}
    assert plan["total_steps"] < 2000 * 3 and plan["planned_at_step"] >= 3
    first_after = next(i for i, r in enumerate(log) if r["event"] == "plan")
    assert log[first_after]["planned_at_step"] == plans[0]["planned_at_step"]
    assert any(r["event"] == "step" for r in log[first_after:])      # the plan came first
    assert plan["decay_points"] == schedule_for(cfg, 3, plan["total_steps"]).decay_points()
    assert result.stop_reason in ("planned_steps", "time_budget")
    assert result.elapsed_s <= 0.25 * 60 + 5
    lrs = [r["lr"] for r in log if r["event"] == "step"]
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] < lrs[0]       # it did decay


def test_a_signal_stops_the_run_with_a_checkpoint_that_exports(tmp_path, faces):
    import os
    import signal
    import threading

    from fer_bench.pretrain.export import export_checkpoint
    from fer_bench.weights import load_encoder_weights

    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = train(config(tmp_path, epochs=1000), faces)
    finally:
        timer.cancel()
    assert result.stop_reason == "signal (SIGTERM)" and 0 < result.steps < 3000
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["global_step"] == result.steps
    files = export_checkpoint(tmp_path / "run" / "checkpoint.pt", tmp_path / "enc", "sig")
    tensors, meta = load_encoder_weights(files[0])
    assert meta["steps"] == result.steps and "conv1.weight" in tensors
    assert signal.getsignal(signal.SIGTERM) is not None                # handler restored


def test_health_is_measured_at_step_0_and_every_epoch_and_plotted(tmp_path, faces):
    result = train(config(tmp_path, health_data="auto", health_n=24), faces)
    steps = [h["global_step"] for h in result.health]
    assert steps == [0, 3, 6]
    assert {"effective_rank", "top_share", "knn_mca", "knn_accuracy"} <= set(result.health[0])
    assert (tmp_path / "run" / "health.png").stat().st_size > 1000
    log = read_log(tmp_path / "run" / "train_log.jsonl")
    assert log[0]["health_set"].startswith("generated synth-lab faces")
    assert [r["global_step"] for r in log if r["event"] == "health"] == steps


def test_a_non_finite_gradient_skips_the_step_and_keeps_the_weights(faces):
    from fer_bench.pretrain.distributed import DistContext
    from fer_bench.pretrain.step import TrainStep, make_optimizer

    torch.manual_seed(0)
    model = build_model(Objective(), len(faces.fine_classes))
    step = TrainStep(model, Objective(), make_optimizer(model, 0.1, 0.9, 1e-4),
                     DistContext(), amp="off", channels_last=False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hook = model.trunk.conv1.weight.register_hook(lambda g: g * float("nan"))
    x = torch.randn(8, 3, 16, 16)
    fine, coarse = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 3])
    terms = step(x, fine, coarse, 0.1)
    assert terms["skipped"] == 1 and step.skipped == 1
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items()
               if "running" not in k and "num_batches" not in k)
    hook.remove()
    assert step(x, fine, coarse, 0.1)["skipped"] == 0


def test_auto_precision_keeps_fp32_where_cpu_bf16_kernels_misbehave():
    from fer_bench.pretrain.trainer import _amp
    cpu = torch.device("cpu")
    assert _amp(TrainConfig(input_size=16), cpu) == "off"        # layer4 sees 1x1 maps
    assert _amp(TrainConfig(input_size=48), cpu) == "auto"
    assert _amp(TrainConfig(input_size=16, amp="bf16"), cpu) == "bf16"   # asked for


def test_a_fixed_step_budget_shared_by_arms_and_the_weight_vector_ablation(tmp_path, faces):
    from fer_bench.pretrain.export import export_result
    from fer_bench.weights import read_encoder_metadata

    result = train(config(tmp_path, epochs=100, lr_step=20, total_steps=5, log_every=1,
                          weight_vector="off"), faces)
    assert result.steps == 5 and result.stop_reason == "total_steps"
    lrs = [r["lr"] for r in result.history]
    assert lrs == [0.05, 0.025, 0.0125, 0.00625, 0.003125]       # a decay every fifth
    meta = read_encoder_metadata(export_result(result, tmp_path / "enc", "w1")[0])
    assert meta["weight_vector"] == "off" and meta["loss"]["anchor_weights"] is None
    assert meta["total_steps"] == 5 and meta["held_out_classes"] == []
    with pytest.raises(ValueError, match="not both"):
        TrainConfig(total_steps=5, time_budget_min=1.0)


def test_a_held_out_expression_is_missing_from_the_exported_label_set(tmp_path, faces):
    from fer_bench.pretrain.export import export_result
    from fer_bench.weights import read_encoder_metadata

    held = faces.present_classes[0]
    result = train(config(tmp_path, method="supervised", max_steps=1, hold_out=(held,)), faces)
    assert held not in result.present_classes and held not in result.fine_classes
    meta = read_encoder_metadata(export_result(result, tmp_path / "enc", "h")[0])
    assert meta["held_out_classes"] == [held] and held not in meta["pretrain_classes"]
    assert f"on toy without {held}, " in meta["description"]
    with pytest.raises(ValueError, match=r"hold_out: \[.*\] -> \[\]"):
        train(config(tmp_path, method="supervised", resume=True), faces)
