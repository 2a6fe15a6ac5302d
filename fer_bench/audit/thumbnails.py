"""What the perceptual stage compares: grey thumbnails, their correlation and a DCT hash.

The thumbnails are the ``pixels`` encoder's features (grey, block-averaged to 24x24 after
the dataset's face crop; fer_bench's feature store caches them), so an audit reads no
image that a protocol run has already read.

- Correlation: Pearson correlation of two thumbnails, i.e. the inner product of their
  row-centred unit vectors (:func:`correlation_vectors`); unchanged by brightness and
  contrast, barely moved by a JPEG re-encoding.
- Perceptual hash: the 64-bit DCT hash of Zauner (2010, pHash): the 8x8 lowest
  frequencies of the thumbnail's 2-D DCT but the constant row and column, each bit set
  when its coefficient is above their median; two images compare by Hamming distance.
"""
from __future__ import annotations

import numpy as np
from scipy.fft import dctn

HASH_SIDE = 8          # 8 x 8 coefficients: a 64-bit hash


def square(thumbnails: np.ndarray) -> np.ndarray:
    """(N, S*S) flattened thumbnails -> (N, S, S) float32."""
    X = np.asarray(thumbnails, np.float32)
    side = int(round(np.sqrt(X.shape[1])))
    if side * side != X.shape[1]:
        raise ValueError(f"thumbnails of {X.shape[1]} values are not square")
    return X.reshape(len(X), side, side)


def correlation_vectors(thumbnails: np.ndarray) -> np.ndarray:
    """Row-centred unit rows (float32): their inner product is the Pearson correlation.
    A flat thumbnail (no variance) becomes the zero row: correlation 0 with anything."""
    X = np.asarray(thumbnails, np.float32).reshape(len(thumbnails), -1)
    X = X - X.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 1e-6)


def perceptual_hash(thumbnails: np.ndarray) -> np.ndarray:
    """64-bit DCT hashes of (N, S, S) thumbnails, packed: uint8 (N, 8)."""
    T = np.asarray(thumbnails, np.float64)
    coeffs = dctn(T, axes=(1, 2), norm="ortho")[:, 1:HASH_SIDE + 1, 1:HASH_SIDE + 1]
    coeffs = coeffs.reshape(len(T), -1)
    bits = coeffs > np.median(coeffs, axis=1, keepdims=True)
    return np.packbits(bits, axis=1)


def hamming(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """Hamming distance of each pair of packed hashes, int (N,)."""
    return np.unpackbits(np.bitwise_xor(codes_a, codes_b), axis=1).sum(axis=1).astype(np.int64)
