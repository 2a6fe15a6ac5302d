"""What distinguishes the generated dataset families (kept free of torch, so that the
worker processes that render images import little)."""
from __future__ import annotations

from dataclasses import dataclass

from fer_bench.synth.scene import SceneRanges
from fer_bench.vocabulary import BASIC, COMPOUND


@dataclass(frozen=True)
class PresetConfig:
    name: str
    description: str
    classes: tuple[str, ...]
    class_weights: tuple[float, ...]     # share of each class (normalised)
    intensity: tuple[float, float]       # expression intensity range (Beta(2,2) inside it)
    scene: SceneRanges
    default_n: int
    grey: bool = False
    images_per_subject: int = 2
    split_fractions: tuple[tuple[str, float], ...] = (("train", 0.7), ("val", 0.1), ("test", 0.2))
    sequence_frames: tuple[float, ...] = ()   # onset-to-apex ramp; empty = still images
    idiosyncrasy: float = 1.0
    neutral_leak: float = 0.0
    glasses_p: float = 0.15


# Shares of RAF-DB basic train and FERPlus train, rounded: neutral and happiness common,
# contempt, fear and disgust rare.
WILD_WEIGHTS = {"neutral": 0.27, "happiness": 0.28, "sadness": 0.12, "surprise": 0.12,
                "fear": 0.04, "disgust": 0.05, "anger": 0.09, "contempt": 0.03}

LAB = PresetConfig(
    name="synth-lab",
    description="posed, frontal, grey studio faces; onset-to-apex sequences of 8 classes "
                "(CK+ / Oulu-CASIA / JAFFE-like), ~100 subjects, use subject-independent folds",
    classes=BASIC, class_weights=tuple(1.0 for _ in BASIC),
    intensity=(0.75, 1.0),
    scene=SceneRanges(yaw=2, pitch=2, roll=2, scale_jitter=0.03, shift_jitter=0.01,
                      light_strength=(0.2, 0.3), noise=(0.0, 1.5)),
    default_n=2800, grey=True, sequence_frames=(0.0, 0.35, 0.75, 1.0),
    idiosyncrasy=0.6, glasses_p=0.04,
)
WILD = PresetConfig(
    name="synth-wild",
    description="in-the-wild look: pose, light, colour, occlusion, blur, JPEG, low resolution; "
                "low-to-mid intensity, RAF-DB/FERPlus-like imbalance, 8 classes, "
                "identity-disjoint train/val/test",
    classes=BASIC, class_weights=tuple(WILD_WEIGHTS[c] for c in BASIC),
    intensity=(0.25, 0.85),
    scene=SceneRanges(yaw=36, pitch=20, roll=15, scale_jitter=0.1, shift_jitter=0.04,
                      light_strength=(0.1, 0.6), light_azimuth=80, exposure=(0.75, 1.2),
                      tint=0.1, backgrounds=(0.3, 0.3, 0.4), plain_grey=False, occluder_p=0.25,
                      blur_p=0.25, noise=(0.0, 6.0), jpeg_p=0.6, jpeg_quality=(40, 90),
                      lowres_p=0.25, lowres_px=(32, 64), grey_p=0.12, gaze=0.6),
    default_n=6000, images_per_subject=2, neutral_leak=0.4,
)
COMPOUND_PRESET = PresetConfig(
    name="synth-compound",
    description="the 15 compound expressions of Du, Tao & Martinez 2014 (RAF-DB's 11 + "
                "fearfully disgusted, appalled, hatred, awed), mild in-the-wild variation, "
                "identity-disjoint train/val/test",
    classes=COMPOUND, class_weights=tuple(1.0 for _ in COMPOUND),
    intensity=(0.5, 0.95),
    scene=SceneRanges(yaw=25, pitch=15, roll=10, scale_jitter=0.08, shift_jitter=0.03,
                      light_strength=(0.15, 0.5), light_azimuth=50, exposure=(0.85, 1.15),
                      tint=0.05, backgrounds=(0.4, 0.4, 0.2), plain_grey=False, occluder_p=0.1,
                      blur_p=0.15, noise=(0.0, 4.0), jpeg_p=0.4, lowres_p=0.1, grey_p=0.1,
                      gaze=0.4),
    default_n=2250, images_per_subject=5, idiosyncrasy=0.8,
)
PRESETS: dict[str, PresetConfig] = {p.name: p for p in (LAB, WILD, COMPOUND_PRESET)}
