"""Render one face: identity + AU state + scene -> uint8 image (H, W, 3).

The person is drawn with PIL on a black canvas SUPERSAMPLE times larger than the output,
together with a coverage mask, and both are reduced with a box filter (anti-aliasing).
The reduced canvas is then a premultiplied foreground: it is lit with a Lambert term on an
ellipsoid head and laid over a background painted at the output size, then passed through
the camera effects. Deterministic: all randomness comes from ``scene.seed``.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np
from PIL import Image

from fer_bench.synth import accessories, lower_face, upper_face
from fer_bench.synth.au_state import AUs, jaw_drop
from fer_bench.synth.background import paint_background
from fer_bench.synth.camera import apply_camera
from fer_bench.synth.canvas import Canvas
from fer_bench.synth.identity import Identity
from fer_bench.synth.occluders import paint_occluder
from fer_bench.synth.projection import Projector
from fer_bench.synth.scene import Scene

SUPERSAMPLE = 3
FRAME_UNITS = 2.75      # face units across the image (crown to below the chin fits)
FRAME_CENTRE_Y = 0.25  # face-unit y at the image centre (a little below the eyes)


def render_face(identity: Identity, aus: np.ndarray, scene: Scene, size: int = 112) -> np.ndarray:
    rng = np.random.default_rng(scene.seed)
    side = size * SUPERSAMPLE
    a = AUs(aus)
    drop = jaw_drop(a)
    ys, ws = accessories.face_outline(identity, drop)
    scale = side / FRAME_UNITS * scene.scale
    centre = (side / 2 + scene.shift[0] * side, side / 2 + scene.shift[1] * side
              - FRAME_CENTRE_Y * scale)
    proj = Projector(ys, ws, scene.yaw, scene.pitch, scene.roll, scale, centre)
    c = Canvas(Image.new("RGB", (side, side)), proj)

    accessories.paint_back_hair(c, identity, ys, ws, rng)
    accessories.paint_head(c, identity, ys, ws)
    upper_face.paint_cheeks(c, identity, a)
    accessories.paint_beard(c, identity, ys, ws)
    upper_face.paint_forehead_lines(c, identity, a)
    upper_face.paint_eye_surroundings(c, identity, a)
    mouth = lower_face.MouthShape(identity, a)
    lower_face.paint_folds(c, identity, a, mouth)
    lower_face.paint_nose(c, identity, a, scene.light_dir[0])
    upper_face.paint_eyes(c, identity, a, scene.gaze, 0.85 + 0.15 * scene.exposure)
    upper_face.paint_brows(c, identity, a)
    lower_face.paint_mouth(c, identity, a, mouth)
    accessories.paint_front_hair(c, identity, ys, ws, rng)
    accessories.paint_glasses(c, identity)
    paint_occluder(c, scene.occluder, identity, rng)

    person = np.asarray(c.image.reduce(SUPERSAMPLE), np.float32)
    coverage = np.asarray(c.mask.reduce(SUPERSAMPLE), np.float32)[..., None] * np.float32(1 / 255)
    head = (centre[0] / SUPERSAMPLE, (centre[1] + (ys.max() + ys.min()) / 2 * scale) / SUPERSAMPLE,
            ws.max() * scale / SUPERSAMPLE, (ys.max() - ys.min()) / 2 * scale / SUPERSAMPLE)
    background = np.asarray(paint_background(size, scene, rng), np.float32)
    img = person * _shading(size, head, scene) + background * (1 - coverage)
    img *= np.asarray(scene.tint, np.float32) * np.float32(scene.exposure)
    return apply_camera(np.clip(img, 0, 255).astype(np.uint8), scene, rng)


_LIGHT_GRID = 32  # shading is smooth: evaluate it coarsely, enlarge bilinearly


@functools.lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = (np.mgrid[0:_LIGHT_GRID, 0:_LIGHT_GRID].astype(np.float32) + 0.5) / _LIGHT_GRID
    return xx, yy


def _shading(size: int, head, scene: Scene) -> np.ndarray:
    """Lambert shading (H, W, 1) of an ellipsoid fitted to the head, lit from light_dir."""
    xx, yy = _grid()
    hx, hy, rx, ry = head
    nx, ny = (xx * size - hx) / rx, (yy * size - hy) / ry
    norm = np.sqrt(np.maximum(nx * nx + ny * ny, 1.0))
    nx, ny = nx / norm, ny / norm
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, 1.0))
    lx, ly, lz = scene.light_dir
    k = scene.light_strength
    shading = (1 - k) + k * 1.15 * np.maximum(0.0, nx * lx + ny * ly + nz * lz)
    return cv2.resize(shading, (size, size), interpolation=cv2.INTER_LINEAR)[..., None]
