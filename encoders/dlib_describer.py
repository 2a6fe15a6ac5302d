"""dlib's two models on uint8 RGB faces, without torch: what each worker process of the
``dlib-face`` encoder runs (:mod:`fer_bench.encoder_pool`), so the workers start fast."""
from __future__ import annotations

import numpy as np

NAME = "dlib-face"
CHIP = 150  # dlib's face chip side


def import_dlib():
    try:
        import dlib
    except ImportError:
        raise ImportError(f"the {NAME} encoder needs dlib: pip install 'fer-bench[identity]' "
                          "(the dlib-bin wheel)") from None
    return dlib


class DlibDescriber:
    """dlib's two models, loaded once (per worker process): uint8 RGB (N, S, S, 3) ->
    (N, 128) float32 descriptors."""

    def __init__(self, align: bool, recognition: str, landmarks: str):
        dlib = import_dlib()
        self.align = align
        self.net = dlib.face_recognition_model_v1(recognition)
        self.shape = dlib.shape_predictor(landmarks) if align else None
        self._rectangle, self._get_face_chip = dlib.rectangle, dlib.get_face_chip

    def chip(self, rgb: np.ndarray) -> np.ndarray:
        """The 150x150 chip the network sees (what compute_face_descriptor(img, shape)
        extracts internally: size 150, padding 0.25)."""
        if not self.align:
            return rgb
        h, w = rgb.shape[:2]
        landmarks = self.shape(rgb, self._rectangle(0, 0, w - 1, h - 1))
        return self._get_face_chip(rgb, landmarks, size=CHIP, padding=0.25)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        chips = [self.chip(np.ascontiguousarray(img)) for img in images]
        # dlib's batch call gives the same descriptors as one call per chip, a bit faster.
        out = np.array([list(d) for d in self.net.compute_face_descriptor(chips)], np.float32)
        return out.reshape(len(chips), 128)
