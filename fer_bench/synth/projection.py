"""Fake 3-D for a 2-D face: features live on a head made of elliptic cross-sections.

Each row y of the face outline is an ellipse of half-width w(y) and depth 0.9 w(y). A
feature at (x, y) sits on its front surface (plus a local offset, e.g. the nose tip),
is rotated by yaw, pitch and roll and projected orthographically, so turning the head
shifts the nose more than the cheeks and foreshortens the far side. The silhouette of a
turned cross-section is an ellipse of half-width sqrt(w^2 cos^2 + d^2 sin^2).
"""
from __future__ import annotations

import numpy as np

DEPTH_RATIO = 0.9


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll) Rx(pitch) Ry(yaw), angles in degrees."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


class Projector:
    """Maps face-unit points to canvas pixels for one head pose and framing."""

    def __init__(self, outline_y: np.ndarray, outline_w: np.ndarray, yaw: float,
                 pitch: float, roll: float, scale: float, center: tuple[float, float]):
        order = np.argsort(outline_y)
        self._ys, self._ws = outline_y[order], outline_w[order]
        self.yaw = yaw
        self.R = rotation(yaw, pitch, roll)
        self.R_no_yaw = rotation(0.0, pitch, roll)
        self.scale = scale
        self.center = np.asarray(center, np.float64)

    def half_width(self, y: np.ndarray) -> np.ndarray:
        return np.interp(y, self._ys, self._ws)

    def depth(self, xy: np.ndarray) -> np.ndarray:
        w = np.maximum(np.interp(xy[:, 1], self._ys, self._ws), 1e-3)
        r = xy[:, 0] / w
        return DEPTH_RATIO * w * np.sqrt(np.maximum(1.0 - r * r, 0.0))

    def _to_canvas(self, p3: np.ndarray, R: np.ndarray) -> list[float]:
        """Flat [x0, y0, x1, y1, ...] pixel list, the form PIL draws fastest."""
        out = p3 @ (R[:2].T * self.scale) + self.center
        return out.ravel().tolist()

    def surface(self, xy, dz=0.0) -> list[tuple[float, float]]:
        """Canvas points of features lying on the face surface (+ dz towards the viewer)."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        z = self.depth(xy) + dz
        return self._to_canvas(np.column_stack([xy, z]), self.R)

    def silhouette(self, xy, grow: float = 1.0) -> list[tuple[float, float]]:
        """Canvas points of outline points (x = +-w(y)) seen as the turned head's contour."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        w = np.abs(xy[:, 0]) * grow
        c, s = np.cos(np.radians(self.yaw)), np.sin(np.radians(self.yaw))
        x = np.sign(xy[:, 0]) * np.sqrt((w * c) ** 2 + (DEPTH_RATIO * w * s) ** 2)
        return self._to_canvas(np.column_stack([x, xy[:, 1], np.zeros(len(xy))]), self.R_no_yaw)

    def flat(self, xy) -> list[tuple[float, float]]:
        """Canvas points of things that do not turn with the head (neck, shoulders)."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        return self._to_canvas(np.column_stack([xy, np.zeros(len(xy))]), self.R_no_yaw)

    def length(self, units: float) -> float:
        return units * self.scale
