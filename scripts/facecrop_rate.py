"""Face detection rate of the Haar crop on raw, uncropped generated frames.

Generated faces (fer_bench.synth.sample_faces) are tilted, scaled and pasted at random
positions into larger smooth-noise backgrounds; the script runs the same crop the
adapters record (fer_bench.images.facecrop.haar_spec) and reports, per preset and
detector setting: how often the detected box is the pasted face (centre within a quarter
of the face size, side within 0.3..1.3 of it), how often both eyes were found, the error
of the eye-line angle against the known tilt, and the time per frame. It saves a grid of
the crops (first setting) to look at.

    .venv/bin/python scripts/facecrop_rate.py --n 60 --grid /tmp/crops_grid.png
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch


def raw_frame(face: np.ndarray, rng: np.random.Generator, size=(240, 320)):
    """Paste ``face`` (H, W, 3) into a smooth random background, scaled and tilted.
    Returns the frame and the truth: (centre x, centre y, side, tilt in degrees)."""
    import cv2

    h, w = size
    coarse = rng.integers(40, 220, (6, 8, 3)).astype(np.uint8)
    frame = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    side = int(rng.uniform(0.35, 0.75) * h)
    tile = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    x0, y0 = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
    frame[y0:y0 + side, x0:x0 + side] = tile
    cx, cy = x0 + side / 2, y0 + side / 2
    tilt = float(rng.uniform(-15, 15))
    m = cv2.getRotationMatrix2D((cx, cy), tilt, 1.0)
    frame = cv2.warpAffine(frame, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    return frame, (cx, cy, side, tilt)


def is_hit(box, truth) -> bool:
    x, y, w, h = box
    cx, cy, side, _ = truth
    return (abs(x + w / 2 - cx) < side / 4 and abs(y + h / 2 - cy) < side / 4
            and 0.3 * side <= w <= 1.3 * side)


def run(preset: str, n: int, settings: list[dict], seed: int = 0):
    from fer_bench.images.face_detect import detect_face, grey_array
    from fer_bench.images.facecrop import detect_and_crop, haar_spec
    from fer_bench.synth import sample_faces

    faces, _ = sample_faces(n, size=128, seed=seed, preset=preset)
    rng = np.random.default_rng(seed)
    frames = [raw_frame(f.permute(1, 2, 0).numpy(), rng) for f in faces]
    results, crops = [], []
    for params in settings:
        spec = haar_spec(**params)
        hits = eyes = 0
        angle_err = []
        start = time.perf_counter()
        for frame, truth in frames:
            image = torch.from_numpy(frame).permute(2, 0, 1).contiguous()
            det = detect_face(grey_array(image), spec)
            if det is not None and is_hit(det.box, truth):
                hits += 1
                if det.eyes is not None:
                    eyes += 1
                    (lx, ly), (rx, ry) = det.eyes
                    # cv2 rotates counter-clockwise for a positive angle: the eye line then
                    # points at -tilt in image coordinates (y down).
                    angle_err.append(abs(math.degrees(math.atan2(ry - ly, rx - lx)) + truth[3]))
        seconds = (time.perf_counter() - start) / len(frames)
        if params is settings[0]:           # crops for the grid, outside the timed loop
            for frame, _ in frames:
                image = torch.from_numpy(frame).permute(2, 0, 1).contiguous()
                crop, outcome = detect_and_crop(image, spec)
                crops.append((image if crop is None else crop, outcome))
        results.append({"preset": preset, "setting": params or "default", "n": len(frames),
                        "face found": hits / len(frames), "eyes found": eyes / len(frames),
                        "eye-line error (deg, median)":
                            float(np.median(angle_err)) if angle_err else float("nan"),
                        "ms/frame": 1000 * seconds})
    return results, crops, frames


BORDER = {"aligned": "lime", "face": "yellow", "no face": "red"}


def save_grid(crops, frames, path: str, cell: int = 96, cols: int = 8) -> None:
    """Frame | crop pairs; the crop's border says: lime = aligned on the eyes, yellow = face
    found without both eyes, red = no face (the whole frame is used)."""
    from PIL import Image, ImageOps

    tiles = []
    for (crop, outcome), (frame, _) in zip(crops, frames):
        thumb = Image.fromarray(frame).resize((cell * 4 // 3, cell))
        face = Image.fromarray(crop.permute(1, 2, 0).numpy()).resize((cell - 8, cell - 8))
        face = ImageOps.expand(face, border=4, fill=BORDER[outcome])
        pair = Image.new("RGB", (cell * 4 // 3 + cell, cell))
        pair.paste(thumb, (0, 0))
        pair.paste(face, (cell * 4 // 3, 0))
        tiles.append(pair)
    rows = math.ceil(len(tiles) / cols)
    w, h = tiles[0].size
    grid = Image.new("RGB", (cols * w, rows * h), "white")
    for i, t in enumerate(tiles):
        grid.paste(t, ((i % cols) * w, (i // cols) * h))
    grid.save(path)


def main() -> None:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=60, help="frames per preset")
    p.add_argument("--presets", default="synth-lab,synth-wild")
    p.add_argument("--grid", default="/tmp/crops_grid.png")
    args = p.parse_args()
    torch.set_num_threads(1)
    # fer-bench's default first (its crops go in the grid), then OpenCV's tutorial setting.
    settings = [{}, {"cascade": "haarcascade_frontalface_default.xml", "scale_factor": 1.1,
                     "min_neighbors": 5},
                {"cascade": "haarcascade_frontalface_default.xml", "min_neighbors": 3}]
    rows, grid_crops, grid_frames = [], [], []
    for preset in args.presets.split(","):
        results, crops, frames = run(preset, args.n, settings)
        rows += results
        grid_crops += crops[:16]
        grid_frames += frames[:16]
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    save_grid(grid_crops, grid_frames, args.grid)
    print(f"grid of crops (frame | default-setting crop; border lime = eye-aligned, "
          f"yellow = face without eyes, red = no face): {args.grid}")


if __name__ == "__main__":
    main()
