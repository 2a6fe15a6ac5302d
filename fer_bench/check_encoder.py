"""Sanity checks for an encoder before it goes near a benchmark (``fer-bench check-encoder``).

Runs the encoder on generated faces and checks what every protocol silently relies on:
the declared shape, float32, finite values, the same features on a second call and at any
batch size, a frozen model (eval mode, no parameter or running statistic touched), lazy
weights, and sealed preprocessing (uint8 in, floats refused). Like mteb's ``mock-run``:
cheap, no dataset needed, a clear list of what is wrong.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from fer_bench.encoder import Encoder

# Batch-size invariance: max |batch-1 - batched| relative to max |batched|. Conv kernels
# pick different algorithms per batch size, so float rounding differs (~1e-6 here); a
# model whose output depends on its batch-mates (train-mode BatchNorm) is off by far more.
BATCH_TOLERANCE = 1e-4
# On CUDA, TF32 convolutions/matmuls (torch's cuDNN default) keep ~11 mantissa bits, so
# batch-dependent kernel choices differ by ~1e-3; train-mode BatchNorm still differs by O(1).
TF32_BATCH_TOLERANCE = 1e-2


@dataclass
class Check:
    name: str
    passed: bool
    message: str


@dataclass
class CheckReport:
    info: dict
    device: str
    n: int
    checks: list[Check] = field(default_factory=list)
    throughput: float = float("nan")          # img/s, batch of n, after the first call
    throughput_batch1: float = float("nan")   # img/s, one image per call
    build_seconds: float = float("nan")

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def add(self, name: str, passed: bool, message: str) -> None:
        self.checks.append(Check(name, bool(passed), message))

    def format(self) -> str:
        pre = self.info["preprocessing"]
        lines = [
            f"encoder        {self.info['name']} (revision {self.info['revision']})",
            f"feature        {self.info['embed_dim']}-d, layer {self.info['layer']}",
            f"preprocessing  {pre['input_size']} px {pre['channels']}, mean {pre['mean']}, "
            f"std {pre['std']}, resize {pre['resize']}",
            f"weights        {self.info['weights_digest']}",
            f"pre-trained on {', '.join(self.info['pretrained_on']) or '-'}"
            f" (classes: {', '.join(self.info['pretrain_classes']) or '-'})",
            f"licence        {self.info['licence'] or '-'}",
            "",
        ]
        width = max(len(c.name) for c in self.checks) if self.checks else 0
        lines += [f"{'PASS' if c.passed else 'FAIL'}  {c.name:<{width}}  {c.message}"
                  for c in self.checks]
        lines += ["", f"throughput     {self.throughput:.1f} img/s at batch {self.n}, "
                      f"{self.throughput_batch1:.1f} img/s at batch 1 ({self.device}); "
                      f"build {self.build_seconds:.2f} s",
                  f"result         {'all checks passed' if self.passed else 'FAILED'}"]
        return "\n".join(lines)


def check_encoder(encoder: Encoder, n: int = 32, seed: int = 0) -> CheckReport:
    """Run every check on ``n`` generated faces; give it a freshly built encoder."""
    report = CheckReport(info=encoder.info.to_dict(), device=str(encoder.device), n=n)
    report.add("sealed entry point", type(encoder).embed is Encoder.embed,
               "embed() is the base class's" if type(encoder).embed is Encoder.embed else
               f"{type(encoder).__name__} overrides embed(); implement forward_features()")
    report.add("lazy weights", not encoder.loaded,
               "nothing loaded before the first embed" if not encoder.loaded else
               "weights were loaded by the factory; load them in build() instead")
    images = generated_faces(n, seed)

    t0 = time.perf_counter()
    try:
        model = encoder.model
    except Exception as e:  # any build error is the finding; report it, do not crash
        report.add("build", False, f"{type(e).__name__}: {e}")
        return report
    report.build_seconds = time.perf_counter() - t0
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}

    try:
        first = encoder.embed(images)
        t0 = time.perf_counter()
        second = encoder.embed(images)
        report.throughput = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        singles = torch.cat([encoder.embed(images[i:i + 1]) for i in range(n)])
        report.throughput_batch1 = n / (time.perf_counter() - t0)
    except FloatingPointError as e:  # embed refuses NaN/inf features outright
        report.add("finite", False, str(e))
        return report
    except Exception as e:
        report.add("embed", False, f"{type(e).__name__}: {e}")
        return report

    dim = encoder.info.embed_dim
    report.add("shape", first.shape == (n, dim), f"{tuple(first.shape)}, expected ({n}, {dim})")
    report.add("dtype", first.dtype == torch.float32, f"{first.dtype}")
    finite = bool(torch.isfinite(first).all())
    report.add("finite", finite, "all values finite" if finite else "NaN or inf values")
    on_cpu = encoder.device.type == "cpu"
    report.add("determinism", *_same(first, second, tolerance=0.0 if on_cpu else 1e-6,
                                     what="second call"))
    report.add("batch-size invariance", *_same(first, singles, _batch_tolerance(on_cpu),
                                               what=f"batch 1 vs batch {n}"))
    report.add("eval mode", *_frozen(model, before))
    report.add("uint8 input only", *_refuses_floats(encoder, images))
    report.add("grey and colour input", *_both_channel_counts(encoder, images))
    return report


def generated_faces(n: int, seed: int) -> torch.Tensor:
    """``n`` generated faces, uint8 (n, 3, H, W): varied identities and expressions."""
    from fer_bench.synth import sample_faces

    faces, _labels = sample_faces(n, seed=seed)
    if faces.dtype != torch.uint8 or faces.ndim != 4 or faces.shape[1] not in (1, 3):
        raise TypeError(f"sample_faces returned {faces.dtype} {tuple(faces.shape)}; "
                        "expected uint8 (N, C, H, W)")
    return faces.expand(-1, 3, -1, -1).contiguous() if faces.shape[1] == 1 else faces


def _batch_tolerance(on_cpu: bool) -> float:
    tf32 = torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32
    return BATCH_TOLERANCE if on_cpu or not tf32 else TF32_BATCH_TOLERANCE


def _same(a: torch.Tensor, b: torch.Tensor, tolerance: float, what: str) -> tuple[bool, str]:
    if a.shape != b.shape:
        return False, f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)}"
    scale = float(b.abs().max()) or 1.0
    rel = float((a - b).abs().max()) / scale if a.numel() else 0.0
    limit = "identical" if tolerance == 0 else f"<= {tolerance:g}"
    return rel <= tolerance, f"{what}: max relative difference {rel:.2e} ({limit} required)"


def _frozen(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> tuple[bool, str]:
    training = [name or type(model).__name__ for name, m in model.named_modules() if m.training]
    after = model.state_dict()
    changed = [k for k, v in before.items() if k not in after or not torch.equal(v, after[k])]
    if training or changed:
        parts = []
        if training:
            parts.append(f"{len(training)} modules in training mode after embed "
                         f"({', '.join(training[:4])})")
        if changed:
            parts.append(f"embed changed {len(changed)} parameters/buffers "
                         f"({', '.join(changed[:4])})")
        return False, "; ".join(parts)
    return True, f"{sum(1 for _ in model.modules())} modules in eval mode, state untouched"


def _refuses_floats(encoder: Encoder, images: torch.Tensor) -> tuple[bool, str]:
    try:
        encoder.embed(images.float() / 255.0)
    except (ValueError, TypeError):
        return True, "float input rejected: preprocessing cannot be skipped or applied twice"
    return False, "embed accepted float input; only uint8 images may go in"


def _both_channel_counts(encoder: Encoder, images: torch.Tensor) -> tuple[bool, str]:
    grey = images[:, :1]
    try:
        out = encoder.embed(grey[:2])
    except Exception as e:
        return False, f"1-channel images: {type(e).__name__}: {e}"
    ok = out.shape == (2, encoder.info.embed_dim)
    return ok, ("1- and 3-channel uint8 images both embed" if ok else
                f"1-channel images gave shape {tuple(out.shape)}")
