"""Adapter options arrive as strings from a spec (``ckplus:face_crop=none,margin=0.3``) or
as Python values from code; these coerce both and reject what is not understood."""
from __future__ import annotations

from fer_bench.datasets.base import DatasetSpecError
from fer_bench.datasets.cards import documented_options
from fer_bench.datasets.entry import DATASETS
from fer_bench.plugins import FALSE, TRUE

FACE_CROP_CHOICES = ("haar", "none")


def as_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:        # the same words as every plug-in option (fer_bench.plugins)
        return True
    if text in FALSE:
        return False
    raise DatasetSpecError(f"option {name}={value!r}: expected true or false")


def as_int(value, name: str, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DatasetSpecError(f"option {name}={value!r}: expected an integer") from None
    if minimum is not None and number < minimum:
        raise DatasetSpecError(f"option {name}={value!r}: expected an integer >= {minimum}")
    return number


def as_float(value, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DatasetSpecError(f"option {name}={value!r}: expected a number") from None


def choice(value, name: str, choices: tuple) -> str:
    text = str(value)
    if text not in choices:
        raise DatasetSpecError(f"option {name}={value!r}: expected one of "
                               f"{', '.join(map(str, choices))}")
    return text


def detector_crop(face_crop="haar", margin=0.2, align=True, no_face="full-image",
                  detect_size=None) -> dict | None:
    """The face-crop spec of a raw dataset from its options (None = images used whole).
    ``detect_size``: longest side detection runs at (default 640; 0 = full resolution)."""
    if choice(face_crop, "face_crop", FACE_CROP_CHOICES) == "none":
        return None
    from fer_bench.images.facecrop import haar_spec  # local: facecrop imports torch
    try:
        size = {} if detect_size is None else {"detect_size": as_int(detect_size,
                                                                      "detect_size")}
        return haar_spec(margin=as_float(margin, "margin"), align=as_bool(align, "align"),
                         no_face=str(no_face), **size)
    except ValueError as e:
        raise DatasetSpecError(f"face crop options: {e}") from None


def pop_crop_options(options: dict) -> dict:
    """Take the face-crop options (face_crop, margin, align, no_face, detect_size) out of
    ``options``."""
    return {k: options.pop(k) for k in ("face_crop", "margin", "align", "no_face", "detect_size")
            if k in options}


def no_unknown_options(dataset: str, options: dict) -> None:
    """Refuse options the adapter did not take, naming the close ones it documents."""
    if options:
        from fer_bench.suggest import did_you_mean
        entry = DATASETS.registered().get(dataset)
        known = documented_options(entry.card if entry else None)
        hints = "".join(did_you_mean(key, known) for key in sorted(options))
        listed = f"; options: {', '.join(known)}" if known else ""
        raise DatasetSpecError(f"{dataset}: unknown options {sorted(options)}{hints}{listed} "
                               f"(see `fer-bench datasets info {dataset}`)")
