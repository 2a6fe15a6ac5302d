"""Scene: everything about a photo that is not the person or the expression.

Head pose, framing, light, background, occluder and camera effects; each preset describes
the ranges it draws them from with a :class:`SceneRanges`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUNDS = ("plain", "gradient", "clutter")
OCCLUDERS = ("none", "hand", "hair", "sunglasses", "mask")


@dataclass(frozen=True)
class SceneRanges:
    yaw: float = 0.0                 # degrees, drawn from N(0, yaw/2) clipped to +-yaw
    pitch: float = 0.0
    roll: float = 0.0
    scale_jitter: float = 0.0        # relative face size jitter
    shift_jitter: float = 0.0        # fraction of the image
    light_strength: tuple[float, float] = (0.25, 0.25)  # directional share of the light
    light_azimuth: float = 0.0       # degrees of spread around frontal
    exposure: tuple[float, float] = (1.0, 1.0)
    tint: float = 0.0                # colour temperature spread
    backgrounds: tuple[float, float, float] = (1.0, 0.0, 0.0)  # P(plain, gradient, clutter)
    plain_grey: bool = True          # plain backgrounds are neutral grey (lab studios)
    occluder_p: float = 0.0          # P(any occluder); the kind is then uniform
    blur_p: float = 0.0
    noise: tuple[float, float] = (0.0, 0.0)  # Gaussian noise sigma (0-255 units)
    jpeg_p: float = 0.0
    jpeg_quality: tuple[int, int] = (35, 90)
    lowres_p: float = 0.0
    lowres_px: tuple[int, int] = (24, 56)
    grey_p: float = 0.0
    gaze: float = 0.0                # iris offset spread in eye half-widths


@dataclass(frozen=True)
class Scene:
    yaw: float
    pitch: float
    roll: float
    scale: float
    shift: tuple[float, float]
    light_dir: tuple[float, float, float]
    light_strength: float
    exposure: float
    tint: tuple[float, float, float]
    background: str
    bg_colors: tuple[tuple[float, float, float], tuple[float, float, float]]
    occluder: str
    blur: float                      # Gaussian sigma in output pixels, 0 = none
    noise: float
    jpeg_quality: int                # 0 = no JPEG round trip
    lowres: int                      # 0 = none, else the side it is shrunk to
    grey: bool
    gaze: tuple[float, float]
    seed: int                        # for the renderer's own randomness (clutter, noise)


def _clipped_normal(rng: np.random.Generator, limit: float) -> float:
    return float(np.clip(rng.normal(0.0, limit / 2), -limit, limit)) if limit else 0.0


def sample_scene(ranges: SceneRanges, rng: np.random.Generator, grey: bool = False) -> Scene:
    r = ranges
    az = np.radians(rng.uniform(-r.light_azimuth, r.light_azimuth) if r.light_azimuth else 0.0)
    el = np.radians(rng.uniform(-25, 35) if r.light_azimuth else 20.0)
    light = (float(np.sin(az) * np.cos(el)), float(-np.sin(el)), float(np.cos(az) * np.cos(el)))
    bg = str(rng.choice(BACKGROUNDS, p=np.asarray(r.backgrounds) / sum(r.backgrounds)))
    if bg == "plain" and r.plain_grey:
        g = rng.uniform(150, 215)
        colors = ((g, g, g), (g, g, g))
    else:
        colors = (tuple(rng.uniform(20, 240, 3).tolist()), tuple(rng.uniform(20, 240, 3).tolist()))
    t = rng.normal(0.0, r.tint) if r.tint else 0.0
    occluder = "none"
    if rng.random() < r.occluder_p:
        occluder = str(rng.choice(OCCLUDERS[1:]))
    return Scene(
        yaw=_clipped_normal(rng, r.yaw), pitch=_clipped_normal(rng, r.pitch),
        roll=_clipped_normal(rng, r.roll),
        scale=float(1.0 + rng.uniform(-r.scale_jitter, r.scale_jitter)),
        shift=(float(rng.uniform(-r.shift_jitter, r.shift_jitter)),
               float(rng.uniform(-r.shift_jitter, r.shift_jitter))),
        light_dir=light, light_strength=float(rng.uniform(*r.light_strength)),
        exposure=float(rng.uniform(*r.exposure)),
        tint=(float(1 + t), 1.0, float(1 - t)),
        background=bg, bg_colors=colors, occluder=occluder,
        blur=float(rng.uniform(0.4, 1.2)) if rng.random() < r.blur_p else 0.0,
        noise=float(rng.uniform(*r.noise)),
        jpeg_quality=int(rng.integers(*r.jpeg_quality)) if rng.random() < r.jpeg_p else 0,
        lowres=int(rng.integers(*r.lowres_px)) if rng.random() < r.lowres_p else 0,
        grey=bool(grey or rng.random() < r.grey_p),
        gaze=(_clipped_normal(rng, r.gaze), _clipped_normal(rng, r.gaze * 0.5)),
        seed=int(rng.integers(2**31)),
    )
