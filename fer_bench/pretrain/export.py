"""Exporting a pre-trained trunk as a ``crs-cont`` encoder (fer-bench safetensors, fp16).

Only the ResNet-18 trunk leaves: torchvision key names (``conv1.weight``,
``layer1.0.bn1.running_mean``, ...), heads dropped. The header records what the encoder
needs (input size, channel order, mean/std) and what the benchmark needs to judge it
fairly: the datasets and image families it saw (overlap flags) and the classes whose
labels entered training (unseen-expression protocols).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import torch

from fer_bench.encoders.resnet import EMBED_DIM, LAYER
from fer_bench.images.preprocess import IMAGENET_MEAN, IMAGENET_STD
from fer_bench.pretrain.checkpoint import load_checkpoint
from fer_bench.pretrain.losses import Objective
from fer_bench.weights import save_encoder_weights

MiB = 1 << 20
REPO = Path(__file__).resolve().parents[2]


def labels_used(objective: Objective, present_classes) -> tuple[str, ...]:
    """Fine classes whose labels shaped training: none for a clean SimCLR; the fine
    classes present otherwise (CRS-CONT's coarse groups, the coarse CE of the official
    baselines and SupCon / supervised all come from the fine labels)."""
    if objective.method == "simclr" and objective.clean_baselines:
        return ()
    return tuple(present_classes)


def encoder_metadata(*, config: dict, steps: int, steps_per_epoch: int, data_summary: dict,
                     present_classes, pretrained_on, revision: str, device: str = "",
                     elapsed_s: float | None = None, plan: dict | None = None,
                     health: list[dict] | None = None) -> dict:
    objective = Objective(config["method"], config["clean_baselines"],
                          config.get("weight_vector", "official"))
    epochs = round(steps / steps_per_epoch, 3)
    loss = objective.describe()
    if loss.get("anchor_weights") and loss["anchor_weights"]["rule"] == "fine id 1":
        # name the class the authors' "label 1" rule halves in this run's label order
        fine = list(data_summary.get("fine_counts", {}))
        loss["anchor_weights"]["class"] = fine[1] if len(fine) > 1 else None
    return {
        "encoder": "crs-cont",
        "revision": revision,
        "architecture": "resnet18",
        "embed_dim": EMBED_DIM,
        "layer": LAYER,
        "input_size": int(config["input_size"]),
        "channels": "rgb",
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "method": config["method"],
        "loss": loss,
        "weight_vector": objective.weight_vector,
        "clean_baselines": bool(config["clean_baselines"]),
        "data": list(config["data"]),
        "data_sources": data_summary.get("sources", []),
        "n_images": data_summary.get("n_images"),
        "pretrained_on": list(pretrained_on),
        "pretrain_classes": list(labels_used(objective, present_classes)),
        "held_out_classes": list(config.get("hold_out", [])),
        "epochs": epochs,
        "epochs_planned": int(config["epochs"]),
        "steps": int(steps),
        "batch_size": int(config["batch_size"]),
        "optimizer": {k: config[k] for k in ("lr", "momentum", "weight_decay", "lr_step",
                                             "lr_gamma", "warmup_epochs")},
        "total_steps": config.get("total_steps"),
        "seed": int(config["seed"]),
        "git_commit": git_commit(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "train_device": device,
        "train_seconds": None if elapsed_s is None else round(elapsed_s, 1),
        "schedule_plan": plan,
        "health_first": health[0] if health else None,
        "health_last": health[-1] if health else None,
        "torch_version": torch.__version__,
        "licence": "BSD-2-Clause (fer-bench weights; see pretrained_on for the data's terms)",
        "description": (f"ResNet-18 pre-trained from scratch by fer-bench with {config['method']}"
                        f"{' (clean baseline)' if config['clean_baselines'] else ''} on "
                        f"{', '.join(config['data'])}"
                        + (f" without {', '.join(config['hold_out'])}"
                           if config.get("hold_out") else "")
                        + f", {epochs} epochs at {config['input_size']} px."),
    }


def export_encoder(trunk_state: dict[str, torch.Tensor], out: Path, metadata: dict,
                   shard_mb: float | None = None) -> list[Path]:
    """Write the trunk as fp16 safetensors (sharded when ``shard_mb`` is given), except
    BatchNorm running statistics, which stay fp32: SGD at lr 0.5 grows the norm of the
    scale-invariant convolution weights in front of every BatchNorm, and their output
    variances (e.g. bn1's) soon exceed fp16's 65504. They are 0.2% of the bytes."""
    tensors = {k: (v.to(torch.float16) if v.is_floating_point() and not _is_bn_stat(k)
                   else v) for k, v in trunk_state.items()}
    out = Path(out)
    if shard_mb is None and out.suffix != ".safetensors":  # the name crs-cont looks for
        out = out.with_name(out.name + ".safetensors")
    max_bytes = None if shard_mb is None else int(shard_mb * MiB)
    return save_encoder_weights(tensors, out, {**metadata, "dtype": "float16"},
                                dtype=None, max_shard_bytes=max_bytes)


def _is_bn_stat(name: str) -> bool:
    return name.endswith(("running_mean", "running_var"))


def trunk_state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.trunk.state_dict().items()}


def export_result(result, out: Path, revision: str, shard_mb: float | None = None) -> list[Path]:
    """Export a :class:`~fer_bench.pretrain.trainer.TrainResult`."""
    meta = encoder_metadata(config=result.config.to_dict(), steps=result.steps,
                            steps_per_epoch=result.steps_per_epoch,
                            data_summary=result.data_summary,
                            present_classes=result.present_classes,
                            pretrained_on=result.pretrained_on, revision=revision,
                            device=result.device, elapsed_s=result.elapsed_s,
                            plan=result.plan, health=result.health)
    files = export_encoder(trunk_state(result.model), out, meta, shard_mb)
    _copy_run_notes(result.out, files)
    return files


def export_checkpoint(checkpoint: Path, out: Path, revision: str,
                      shard_mb: float | None = None) -> list[Path]:
    """Export the trunk of a saved training checkpoint (e.g. after a time-budget stop)."""
    state = load_checkpoint(checkpoint)
    trunk = {k.removeprefix("trunk."): v for k, v in state["model"].items()
             if k.startswith("trunk.")}
    meta = encoder_metadata(config=state["config"], steps=state["global_step"],
                            steps_per_epoch=state["steps_per_epoch"],
                            data_summary=state["data_summary"],
                            present_classes=state["present_classes"],
                            pretrained_on=state["pretrained_on"], revision=revision,
                            elapsed_s=state["elapsed_s"], plan=state.get("plan"),
                            health=state.get("health"))
    files = export_encoder(trunk, out, meta, shard_mb)
    _copy_run_notes(Path(checkpoint).parent, files)
    return files


def _copy_run_notes(run_dir: Path, files: list[Path]) -> None:
    """Put the run's health curves next to sharded weights (a folder of their own)."""
    from fer_bench.pretrain.health_plot import HEALTH_PLOT
    if len(files) > 1 and (Path(run_dir) / HEALTH_PLOT).is_file():
        shutil.copyfile(Path(run_dir) / HEALTH_PLOT, files[0].parent / HEALTH_PLOT)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
