"""Camera effects applied to the final image: blur, low resolution, noise, JPEG, grey."""
from __future__ import annotations

import cv2
import numpy as np

from fer_bench.synth.scene import Scene


def apply_camera(img: np.ndarray, scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """uint8 HxWx3 in, uint8 HxWx3 out (grey images keep three equal channels)."""
    h, w = img.shape[:2]
    if scene.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), scene.blur * w / 112)
    if 0 < scene.lowres < w:   # a small source face enlarged to the dataset's size
        small = cv2.resize(img, (scene.lowres, scene.lowres), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if scene.grey:
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        img = np.repeat(g[..., None], 3, axis=2)
    if scene.noise > 0:
        noise = rng.standard_normal(img.shape[:2] + (1 if scene.grey else 3,), np.float32)
        img = np.clip(img + noise * np.float32(scene.noise), 0, 255).astype(np.uint8)
    if scene.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", img[..., ::-1],
                               [cv2.IMWRITE_JPEG_QUALITY, scene.jpeg_quality])
        if not ok:
            raise RuntimeError("OpenCV could not JPEG-encode a rendered face")
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(img)
