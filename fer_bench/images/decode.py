"""Decoding image files to uint8 tensors (torchvision.io), with errors that name the file."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

# torchvision >= 0.29 flags its image codecs as deprecated in favour of TorchCodec; they
# still work on every torch >= 2.4 we support, so keep them and keep the logs readable.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from torchvision.io import ImageReadMode, decode_image, read_file


class ImageDecodeError(ValueError):
    pass


def decode_file(path: str | Path, mode: str = "unchanged") -> torch.Tensor:
    """uint8 (C, H, W) with C = 1 (grey) or 3 (RGB); alpha is dropped, palettes expanded.

    ``mode``: "unchanged" (grey stays grey), "rgb" or "grey".
    """
    path = Path(path)
    if not path.is_file():
        raise ImageDecodeError(f"image file not found: {path}")
    read_mode = {"unchanged": ImageReadMode.UNCHANGED, "rgb": ImageReadMode.RGB,
                 "grey": ImageReadMode.GRAY}[mode]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            img = decode_image(read_file(str(path)), mode=read_mode)
    except Exception as e:  # torchvision raises RuntimeError for corrupt / truncated data
        try:  # TIFF and other formats torchvision cannot decode: fall back to PIL
            img = _decode_with_pil(path, mode)
        except Exception:
            raise ImageDecodeError(f"cannot decode image {path}: {e}") from None
    if img.shape[0] == 2:      # grey + alpha
        img = img[:1]
    elif img.shape[0] == 4:    # RGBA
        img = img[:3]
    return img.contiguous()


def _decode_with_pil(path: Path, mode: str) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if mode == "rgb" or (mode == "unchanged" and im.mode not in ("L", "I;16", "I")):
            im = im.convert("RGB")
        else:
            im = im.convert("L")
        arr = np.asarray(im)
    t = torch.from_numpy(arr.copy())
    return t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
