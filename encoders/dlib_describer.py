"""dlib's two models on uint8 RGB faces, without torch: what each worker process of the
``dlib-face`` encoder runs (:mod:`fer_bench.encoder_pool`), so the workers start fast.
:class:`DlibChipper` places the 150x150 face chip (the landmark model); with the default
torch runtime that is all dlib does. :class:`DlibDescriber` also runs dlib's own network
(``runtime="dlib"``, the reference the torch port is checked against)."""
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


class DlibChipper:
    """uint8 RGB (N, S, S, 3) -> the (N, 150, 150, 3) chips the network sees: what
    ``compute_face_descriptor(img, shape)`` extracts internally (size 150, padding 0.25),
    placed by the 5 landmarks found in the whole image (benchmark images are face crops)."""

    def __init__(self, landmarks: str):
        dlib = import_dlib()
        self.shape = dlib.shape_predictor(landmarks)
        self._rectangle, self._get_face_chip = dlib.rectangle, dlib.get_face_chip

    def chip(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        landmarks = self.shape(rgb, self._rectangle(0, 0, w - 1, h - 1))
        return self._get_face_chip(rgb, landmarks, size=CHIP, padding=0.25)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return np.stack([self.chip(np.ascontiguousarray(img)) for img in images])


class DlibDescriber:
    """dlib's two models, loaded once (per worker process): uint8 RGB (N, S, S, 3) ->
    (N, 128) float32 descriptors computed by dlib itself."""

    def __init__(self, align: bool, recognition: str, landmarks: str):
        dlib = import_dlib()
        self.net = dlib.face_recognition_model_v1(recognition)
        self.chipper = DlibChipper(landmarks) if align else None

    def chip(self, rgb: np.ndarray) -> np.ndarray:
        return rgb if self.chipper is None else self.chipper.chip(rgb)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        chips = [self.chip(np.ascontiguousarray(img)) for img in images]
        # dlib's batch call gives the same descriptors as one call per chip, a bit faster.
        out = np.array([list(d) for d in self.net.compute_face_descriptor(chips)], np.float32)
        return out.reshape(len(chips), 128)
