"""``facemesh``: face geometry from MediaPipe's face-mesh model (Apache-2.0).

The 468-landmark face-mesh network (Kartynnik et al., "Real-time facial surface geometry
from monocular video on mobile GPUs", 2019) ships inside the ``mediapipe==0.10.14`` wheel
(``mediapipe/modules/face_landmark/face_landmark.tflite``; later releases dropped the
bundled models), extra ``landmarks``. Install it without its dependency list, which would
add opencv-contrib-python beside opencv-python-headless and jax (unused here)::

    pip install --no-deps mediapipe==0.10.14 absl-py attrs flatbuffers 'protobuf>=4.25.3,<5'

MediaPipe's FaceMesh solution first runs a face detector and drops faces it misses (about
5% of FERPlus' tight 48-px crops). Benchmark images are face crops already, so the graph
here runs the landmark model alone on a region of interest centred on the image and
``margin`` times its size (1.5 = MediaPipe's own detection-to-ROI expansion), padding with
zeros: every image gets landmarks, deterministically.

Feature (1,421-d): the 468 (x, y, z) landmarks centred on their mean, rotated in the image
plane so the outer eye corners are level and divided by the distance between them
(1,404 values), then the 17 :data:`DISTANCES` between expression-relevant points in the
same unit. A geometric baseline: it sees shape, never texture.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from fer_bench.encoder import Encoder, EncoderInfo, file_digest
from fer_bench.encoder_registry import register_encoder
from fer_bench.images.mediapipe_detect import MEDIAPIPE_VERSION, import_mediapipe, quiet_protobuf
from fer_bench.images.preprocess import Preprocessing

NAME = "facemesh"
MODEL_FILE = "mediapipe/modules/face_landmark/face_landmark.tflite"
MODEL_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
NUM_LANDMARKS = 468
INPUT_SIZE = 192  # the landmark model's input
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263  # the subject's right / left
# Point pairs of MediaPipe's canonical face mesh ("right" = the subject's right).
DISTANCES = {
    "mouth width": (61, 291),
    "mouth opening (inner lips)": (13, 14),
    "lip height (outer)": (0, 17),
    "right eye opening": (159, 145),
    "left eye opening": (386, 374),
    "right brow to eye": (105, 159),
    "left brow to eye": (334, 386),
    "inner brows": (55, 285),
    "right inner brow to inner eye corner": (55, 133),
    "left inner brow to inner eye corner": (285, 362),
    "nose tip to upper lip": (1, 0),
    "right mouth corner to right eye": (61, 33),
    "left mouth corner to left eye": (291, 263),
    "right mouth corner to nose tip": (61, 1),
    "left mouth corner to nose tip": (291, 1),
    "lower lip to chin": (17, 152),
    "nose tip to chin": (1, 152),
}
EMBED_DIM = NUM_LANDMARKS * 3 + len(DISTANCES)

# The landmark half of MediaPipe's face_landmark_cpu graph, without the face-presence gate.
_GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
node {
  calculator: "ImageToTensorCalculator"
  input_stream: "IMAGE:image"
  input_stream: "NORM_RECT:roi"
  output_stream: "TENSORS:input_tensors"
  options: { [mediapipe.ImageToTensorCalculatorOptions.ext] {
    output_tensor_width: 192 output_tensor_height: 192
    output_tensor_float_range { min: 0.0 max: 1.0 } border_mode: BORDER_ZERO } }
}
node {
  calculator: "InferenceCalculator"
  input_stream: "TENSORS:input_tensors"
  output_stream: "TENSORS:output_tensors"
  options: { [mediapipe.InferenceCalculatorOptions.ext] {
    model_path: "%s" delegate { xnnpack {} } } }
}
node {
  calculator: "SplitTensorVectorCalculator"
  input_stream: "output_tensors"
  output_stream: "landmark_tensors"
  output_stream: "face_flag_tensor"
  options: { [mediapipe.SplitVectorCalculatorOptions.ext] {
    ranges: { begin: 0 end: 1 } ranges: { begin: 1 end: 2 } } }
}
node {
  calculator: "TensorsToLandmarksCalculator"
  input_stream: "TENSORS:landmark_tensors"
  output_stream: "NORM_LANDMARKS:roi_landmarks"
  options: { [mediapipe.TensorsToLandmarksCalculatorOptions.ext] {
    num_landmarks: 468 input_image_width: 192 input_image_height: 192 } }
}
node {
  calculator: "LandmarkProjectionCalculator"
  input_stream: "NORM_LANDMARKS:roi_landmarks"
  input_stream: "NORM_RECT:roi"
  output_stream: "NORM_LANDMARKS:landmarks"
}
""" % MODEL_FILE  # noqa: UP031  (str.format would trip on the graph's braces)


def geometry_features(landmarks: np.ndarray) -> np.ndarray:
    """(468, 3) landmarks in pixels -> EMBED_DIM features, invariant to translation, scale
    and in-plane rotation of the face (see the module docstring)."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (NUM_LANDMARKS, 3):
        raise ValueError(f"expected ({NUM_LANDMARKS}, 3) landmarks, got {pts.shape}")
    eye_line = pts[LEFT_EYE_OUTER, :2] - pts[RIGHT_EYE_OUTER, :2]
    scale = float(np.hypot(*eye_line))
    if not scale > 0:
        raise ValueError("degenerate landmarks: the outer eye corners coincide")
    c, s = eye_line / scale
    rotate = np.array([[c, s], [-s, c]])  # turns the eye line onto +x
    centred = pts - pts.mean(axis=0)
    centred[:, :2] = centred[:, :2] @ rotate.T
    normalised = centred / scale
    pairs = np.array(list(DISTANCES.values()))
    distances = np.linalg.norm(normalised[pairs[:, 0]] - normalised[pairs[:, 1]], axis=1)
    return np.concatenate([normalised.ravel(), distances]).astype(np.float32)


class FaceMeshLandmarks:
    """MediaPipe's landmark model on a centred ROI; ``__call__(rgb uint8 HxWx3) -> (468, 3)``
    in pixels of the image (z in the same scale as x)."""

    def __init__(self, margin: float = 1.5):
        mp = import_mediapipe(f"the {NAME} encoder")
        # Importing the option protos registers their extensions for the text graph.
        from google.protobuf import text_format
        from mediapipe.calculators.core import split_vector_calculator_pb2  # noqa: F401
        from mediapipe.calculators.tensor import (  # noqa: F401
            image_to_tensor_calculator_pb2, inference_calculator_pb2,
            tensors_to_landmarks_calculator_pb2)
        from mediapipe.framework import calculator_pb2
        from mediapipe.framework.formats import rect_pb2
        from mediapipe.python.solution_base import SolutionBase

        del mp
        config = text_format.Parse(_GRAPH, calculator_pb2.CalculatorGraphConfig())
        self._graph = SolutionBase(graph_config=config)
        self._roi = rect_pb2.NormalizedRect(x_center=0.5, y_center=0.5, width=margin,
                                            height=margin, rotation=0.0)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        with quiet_protobuf():
            out = self._graph.process({"image": np.ascontiguousarray(rgb), "roi": self._roi})
        if out.landmarks is None:
            raise RuntimeError("MediaPipe face-mesh graph returned no landmarks")
        pts = np.array([(p.x, p.y, p.z) for p in out.landmarks.landmark], dtype=np.float64)
        return pts * np.array([w, h, w])


class FaceMeshModule(nn.Module):
    """Parameter-free wrapper: float RGB in [0, 1] (N, 3, S, S) -> geometry features."""

    def __init__(self, margin: float):
        super().__init__()
        self.landmarks = FaceMeshLandmarks(margin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = (x * 255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        feats = [geometry_features(self.landmarks(img)) for img in images.cpu().numpy()]
        return torch.from_numpy(np.stack(feats)).to(x.device)


class FaceMeshEncoder(Encoder):
    def __init__(self, info: EncoderInfo, device, margin: float):
        super().__init__(info, device)
        self.margin = margin

    def build(self) -> nn.Module:
        path = Path(import_mediapipe(f"the {NAME} encoder").__file__).parents[1] / MODEL_FILE
        if not path.is_file() or file_digest(path) != MODEL_SHA256:
            raise RuntimeError(f"{path}: missing or not the face-mesh model of mediapipe "
                               f"{MEDIAPIPE_VERSION} (sha256 {MODEL_SHA256[:12]}...); "
                               f"reinstall mediapipe=={MEDIAPIPE_VERSION}")
        return FaceMeshModule(self.margin)


@register_encoder(NAME)
def make_facemesh(weights: str | None = None, device: str = "cpu", margin: float = 1.5) -> Encoder:
    """Face-mesh geometry of mediapipe 0.10.14 (install: see the module docstring)."""
    if weights is not None:
        raise ValueError(f"{NAME} uses the model inside mediapipe {MEDIAPIPE_VERSION}; "
                         "it takes no --weights")
    margin = float(margin)
    if not 1.0 <= margin <= 3.0:
        raise ValueError(f"{NAME} margin is the ROI size over the image size, 1..3; got {margin}")
    info = EncoderInfo(
        name=NAME,
        revision=f"mediapipe-{MEDIAPIPE_VERSION}-roi{margin:g}",
        embed_dim=EMBED_DIM,
        # mean 0, std 1: forward() recovers the exact uint8 RGB image for MediaPipe.
        preprocessing=Preprocessing(input_size=INPUT_SIZE, channels="rgb", mean=(0.0,) * 3,
                                    std=(1.0,) * 3),
        layer=f"468 normalised landmarks + {len(DISTANCES)} distances",
        weights_digest=MODEL_SHA256,
        # Google's model card: trained on ~30k in-the-wild mobile-camera photos (their own).
        pretrained_on=("mediapipe-facemesh-photos",),
        pretrain_classes=(),
        licence="Apache-2.0 (mediapipe 0.10.14 and its bundled model)",
        description="MediaPipe face-mesh landmarks (model only, centred ROI, no detector), "
                    "aligned and scaled by the eye corners, plus 17 distances.",
        extra={"margin": margin, "model_file": MODEL_FILE, "distances": list(DISTANCES)},
    )
    return FaceMeshEncoder(info, device, margin)
