"""Planning a generated dataset: who shows which expression how, in which scene.

Planning is cheap and sequential (one process), rendering is expensive and parallel; each
planned face carries everything its image depends on, so the pixels do not depend on how
the work is split between processes. Random streams are keyed by (seed, preset, role,
index) through numpy's SeedSequence, so adding faces never changes the earlier ones.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from fer_bench.synth.expressions import SubjectStyle, sample_aus, sample_style
from fer_bench.synth.facs import AU_NUMBERS, au_column, facs_code
from fer_bench.synth.identity import Identity, sample_identity
from fer_bench.synth.preset_config import PresetConfig
from fer_bench.synth.scene import Scene, sample_scene
from fer_bench.vocabulary import coarse_group

_SUBJECT, _FACE, _SPLIT, _SCENE = 0, 1, 2, 3  # independent random streams


@dataclass(frozen=True)
class FaceSpec:
    identity: Identity
    aus: np.ndarray
    scene: Scene
    meta: dict = field(default_factory=dict)   # manifest fields besides id and path


def _rng(seed: int, preset: str, role: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(preset.encode()), role, index])


@dataclass(frozen=True)
class Subject:
    identity: Identity
    style: SubjectStyle
    split: str


def make_subject(cfg: PresetConfig, seed: int, index: int, split: str) -> Subject:
    rng = _rng(seed, cfg.name, _SUBJECT, index)
    return Subject(sample_identity(rng, cfg.glasses_p), sample_style(rng, cfg.idiosyncrasy), split)


def _class_counts(cfg: PresetConfig, n: int) -> list[str]:
    """Exactly proportional label list (largest remainder), so class counts are stable."""
    w = np.asarray(cfg.class_weights, np.float64)
    quota = w / w.sum() * n
    counts = np.floor(quota).astype(int)
    counts[np.argsort(-(quota - counts))[: n - counts.sum()]] += 1
    return [c for c, k in zip(cfg.classes, counts) for _ in range(k)]


def _subject_splits(cfg: PresetConfig, n_subjects: int, seed: int) -> list[str]:
    names = [s for s, _ in cfg.split_fractions]
    frac = np.asarray([f for _, f in cfg.split_fractions])
    counts = np.floor(frac / frac.sum() * n_subjects).astype(int)
    counts[0] += n_subjects - counts.sum()
    splits = [s for s, k in zip(names, counts) for _ in range(k)]
    _rng(seed, cfg.name, _SPLIT, 0).shuffle(splits)
    return splits


def _face(cfg: PresetConfig, subject: Subject, label: str, intensity: float,
          rng: np.random.Generator, scene: Scene | None = None) -> FaceSpec:
    aus = sample_aus(label, intensity, subject.style, rng, cfg.neutral_leak)
    scene = scene or sample_scene(cfg.scene, rng, grey=cfg.grey)
    return FaceSpec(subject.identity, aus, scene, face_meta(cfg, label, intensity, aus, scene))


def face_meta(cfg: PresetConfig, label: str, intensity: float, aus: np.ndarray,
              scene: Scene) -> dict:
    meta = {"label": label, "coarse": coarse_group(label) if label else "",
            "intensity": round(float(intensity), 3), "facs": facs_code(aus)}
    for au, (right, left) in zip(AU_NUMBERS, aus):
        meta[au_column(au)] = round(float(max(right, left)), 3)
    meta.update(yaw=round(scene.yaw, 2), pitch=round(scene.pitch, 2), roll=round(scene.roll, 2),
                occluder=scene.occluder, background=scene.background, preset=cfg.name)
    return meta


def _intensity(cfg: PresetConfig, rng: np.random.Generator) -> float:
    lo, hi = cfg.intensity
    return float(lo + (hi - lo) * rng.beta(2.0, 2.0))


def plan_stills(cfg: PresetConfig, n: int, seed: int,
                labels: list[str] | None = None) -> list[FaceSpec]:
    """Still photos, ``images_per_subject`` per identity, identity-disjoint splits."""
    if labels is None:
        labels = _class_counts(cfg, n)
        _rng(seed, cfg.name, _SPLIT, 1).shuffle(labels)
    k = cfg.images_per_subject
    n_subjects = -(-n // k)
    splits = _subject_splits(cfg, n_subjects, seed)
    specs = []
    for i, label in enumerate(labels):
        s = i // k
        subject = make_subject(cfg, seed, s, splits[s])
        rng = _rng(seed, cfg.name, _FACE, i)
        intensity = 0.0 if label == "neutral" else _intensity(cfg, rng)
        spec = _face(cfg, subject, label, intensity, rng)
        spec.meta.update(split=subject.split, subject=f"{cfg.name}-s{s:05d}")
        specs.append(spec)
    return specs


def plan_sequences(cfg: PresetConfig, n: int, seed: int) -> list[FaceSpec]:
    """CK+-style: each subject poses every non-neutral class as an onset-to-apex sequence.

    The first frame of a sequence is labelled neutral, the last two carry the expression
    (CK+ practice), frames in between stay unlabelled (""). One scene per subject.
    """
    expressions = [c for c in cfg.classes if c != "neutral"]
    frames = cfg.sequence_frames
    per_subject = len(expressions) * len(frames)
    n_subjects = max(1, round(n / per_subject))
    specs = []
    for s in range(n_subjects):
        subject = make_subject(cfg, seed, s, "train")
        scene = sample_scene(cfg.scene, _rng(seed, cfg.name, _SCENE, s), grey=cfg.grey)
        for q, expression in enumerate(expressions):
            rng = _rng(seed, cfg.name, _FACE, s * len(expressions) + q)
            apex = _intensity(cfg, rng)
            apex_aus = sample_aus(expression, apex, subject.style, rng)
            for f, ramp in enumerate(frames):
                aus = apex_aus * np.float32(ramp)   # one set of AUs, rising to the apex
                label = "neutral" if f == 0 else (expression if f >= len(frames) - 2 else "")
                meta = face_meta(cfg, label, apex * ramp, aus, scene)
                meta.update(split="train", subject=f"{cfg.name}-s{s:04d}",
                            sequence=f"{cfg.name}-s{s:04d}-{q + 1:03d}", frame=f)
                specs.append(FaceSpec(subject.identity, aus, scene, meta))
    return specs


def plan_preset(cfg: PresetConfig, n: int, seed: int) -> list[FaceSpec]:
    return plan_sequences(cfg, n, seed) if cfg.sequence_frames else plan_stills(cfg, n, seed)
