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


def still_labels(cfg: PresetConfig, n: int, seed: int) -> list[str]:
    """The label of every still of a preset, in row order (cheap: no face is planned)."""
    labels = _class_counts(cfg, n)
    _rng(seed, cfg.name, _SPLIT, 1).shuffle(labels)
    return labels


def _still(cfg: PresetConfig, seed: int, i: int, label: str, splits: list[str]) -> FaceSpec:
    """Row ``i`` of a preset of stills: its subject, expression and scene."""
    s = i // cfg.images_per_subject
    subject = make_subject(cfg, seed, s, splits[s])
    rng = _rng(seed, cfg.name, _FACE, i)
    intensity = 0.0 if label == "neutral" else _intensity(cfg, rng)
    spec = _face(cfg, subject, label, intensity, rng)
    spec.meta.update(split=subject.split, subject=f"{cfg.name}-s{s:05d}")
    return spec


def plan_stills(cfg: PresetConfig, n: int, seed: int,
                labels: list[str] | None = None) -> list[FaceSpec]:
    """Still photos, ``images_per_subject`` per identity, identity-disjoint splits."""
    if labels is None:
        labels = still_labels(cfg, n, seed)
    splits = _subject_splits(cfg, -(-n // cfg.images_per_subject), seed)
    return [_still(cfg, seed, i, label, splits) for i, label in enumerate(labels)]


def _sequence_layout(cfg: PresetConfig, n: int) -> tuple[list[str], int, int]:
    """(expressions, faces per subject, subjects) of a preset of sequences."""
    expressions = [c for c in cfg.classes if c != "neutral"]
    per_subject = len(expressions) * len(cfg.sequence_frames)
    return expressions, per_subject, max(1, round(n / per_subject))


def _frame_label(cfg: PresetConfig, expression: str, f: int) -> str:
    frames = cfg.sequence_frames
    return "neutral" if f == 0 else (expression if f >= len(frames) - 2 else "")


def _subject_sequences(cfg: PresetConfig, seed: int, s: int) -> list[FaceSpec]:
    """Every frame subject ``s`` poses, in row order."""
    expressions, _, _ = _sequence_layout(cfg, 0)
    subject = make_subject(cfg, seed, s, "train")
    scene = sample_scene(cfg.scene, _rng(seed, cfg.name, _SCENE, s), grey=cfg.grey)
    specs = []
    for q, expression in enumerate(expressions):
        rng = _rng(seed, cfg.name, _FACE, s * len(expressions) + q)
        apex = _intensity(cfg, rng)
        apex_aus = sample_aus(expression, apex, subject.style, rng)
        for f, ramp in enumerate(cfg.sequence_frames):
            aus = apex_aus * np.float32(ramp)   # one set of AUs, rising to the apex
            meta = face_meta(cfg, _frame_label(cfg, expression, f), apex * ramp, aus, scene)
            meta.update(split="train", subject=f"{cfg.name}-s{s:04d}",
                        sequence=f"{cfg.name}-s{s:04d}-{q + 1:03d}", frame=f)
            specs.append(FaceSpec(subject.identity, aus, scene, meta))
    return specs


def plan_sequences(cfg: PresetConfig, n: int, seed: int) -> list[FaceSpec]:
    """CK+-style: each subject poses every non-neutral class as an onset-to-apex sequence.

    The first frame of a sequence is labelled neutral, the last two carry the expression
    (CK+ practice), frames in between stay unlabelled (""). One scene per subject.
    """
    _, _, n_subjects = _sequence_layout(cfg, n)
    return [spec for s in range(n_subjects) for spec in _subject_sequences(cfg, seed, s)]


def plan_preset(cfg: PresetConfig, n: int, seed: int) -> list[FaceSpec]:
    return plan_sequences(cfg, n, seed) if cfg.sequence_frames else plan_stills(cfg, n, seed)


def preset_labels(cfg: PresetConfig, n: int, seed: int) -> list[str]:
    """The label of every row of ``plan_preset(cfg, n, seed)``, in order, without
    planning any face."""
    if not cfg.sequence_frames:
        return still_labels(cfg, n, seed)
    expressions, _, n_subjects = _sequence_layout(cfg, n)
    one = [_frame_label(cfg, e, f) for e in expressions for f in range(len(cfg.sequence_frames))]
    return one * n_subjects


def plan_rows(cfg: PresetConfig, n: int, seed: int, rows: list[int]) -> list[FaceSpec]:
    """``[plan_preset(cfg, n, seed)[i] for i in rows]``, planning only the faces of those
    rows (stills) or of their subjects (sequences): every face, and every subject's
    sequences, has random streams of its own."""
    if cfg.sequence_frames:
        _, per_subject, _ = _sequence_layout(cfg, n)
        subjects: dict[int, list[FaceSpec]] = {}
        for i in rows:
            subjects.setdefault(i // per_subject, [])
        for s in subjects:
            subjects[s] = _subject_sequences(cfg, seed, s)
        return [subjects[i // per_subject][i % per_subject] for i in rows]
    labels = still_labels(cfg, n, seed)
    splits = _subject_splits(cfg, -(-n // cfg.images_per_subject), seed)
    return [_still(cfg, seed, i, labels[i], splits) for i in rows]
