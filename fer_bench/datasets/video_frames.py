"""Frames of video files as dataset rows, decoded with OpenCV when a row is read.

A row's ``path`` is ``<video path>#<index>``, the index counting video frames from 0.
Nothing is extracted to disk: a video holds thousands of frames that would take tens of
gigabytes as images. The pixels' identity is the video's bytes (``pixel_files`` names
the video for every row of it, so the content digest covers the video file).

The image loader hands each worker batches of consecutive rows, so a process mostly
reads a video forwards: it keeps its last few videos open and steps over short gaps
with ``grab`` (decode only), and seeks (``CAP_PROP_POS_FRAMES``, which decodes on from
the key frame before the target) over long ones or backwards.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fer_bench.datasets.base import Dataset, DatasetError

if TYPE_CHECKING:  # pragma: no cover - listing datasets must not import torch
    import torch

FORWARD_GRAB = 48       # frames: decoding this many beats a seek from a key frame
KEEP_OPEN = 4           # videos each process keeps open


def frame_ref(video: str, index: int) -> str:
    return f"{video}#{index}"


def split_ref(ref: str) -> tuple[str, int]:
    video, sep, index = ref.rpartition("#")
    if not sep or not index.isdigit():
        raise DatasetError(f"{ref!r} is not a <video>#<frame index> reference")
    return video, int(index)


def frame_count(video: Path) -> int:
    """Frames in ``video`` as its container states them (no decoding)."""
    import cv2

    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            raise DatasetError(f"cannot open video {video} (OpenCV's FFmpeg backend)")
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()


class _OpenVideo:
    def __init__(self, path: str):
        import cv2

        from fer_bench.images.decode import ImageDecodeError

        self.path = path
        self.capture = cv2.VideoCapture(path)
        if not self.capture.isOpened():
            raise ImageDecodeError(f"cannot open video {path}")
        self.next = 0           # index the next read() returns; -1 = unknown

    def frame(self, index: int) -> np.ndarray:
        """RGB uint8 (H, W, 3) of frame ``index``."""
        import cv2

        from fer_bench.images.decode import ImageDecodeError

        gap = index - self.next
        if 0 <= gap <= FORWARD_GRAB and self.next >= 0:
            ok = all(self.capture.grab() for _ in range(gap))
        else:
            ok = self.capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = self.capture.read() if ok else (False, None)
        self.next = index + 1 if ok else -1
        if not ok:
            n = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
            raise ImageDecodeError(f"cannot decode frame {index} of video {self.path} "
                                   f"({n} frames)")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


_open: OrderedDict[str, _OpenVideo] = OrderedDict()
_owner = os.getpid()


def read_frame(video: str | Path, index: int) -> np.ndarray:
    """RGB uint8 (H, W, 3) of frame ``index`` (from 0) of ``video``."""
    global _owner
    if _owner != os.getpid():   # a forked worker must not share its parent's decoders
        _open.clear()
        _owner = os.getpid()
    key = str(video)
    if key not in _open:
        _open[key] = _OpenVideo(key)
        while len(_open) > KEEP_OPEN:
            _open.popitem(last=False)[1].capture.release()
    _open.move_to_end(key)
    return _open[key].frame(index)


class VideoFrameDataset(Dataset):
    """A Dataset whose rows are frames of videos under ``root`` (path ``<video>#<i>``)."""

    def image_path(self, row: int) -> Path:
        return self.root / split_ref(str(self.manifest.at[row, "path"]))[0]

    def read_image(self, row: int) -> torch.Tensor:
        import torch

        video, index = split_ref(str(self.manifest.at[row, "path"]))
        rgb = read_frame(self.root / video, index)
        return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))

    def pixel_files(self) -> np.ndarray:
        videos = self.manifest["path"].astype(str).str.rpartition("#")[0]
        return (str(self.root) + os.sep + videos).to_numpy(object)
