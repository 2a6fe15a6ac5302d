"""What each encoder is, read from its metadata without loading any weights.

:func:`describe_encoders` builds every encoder the registry knows through its factory
(cheap by contract: a factory reads at most a weights file's header, e.g. crs-cont
reads the safetensors header only) and reads :class:`fer_bench.encoder.EncoderInfo`:
name, revision, embedding size, input size, what it was pre-trained on, licence. Where
the weights are is answered from the file system alone (:func:`weights_state`).
"""
from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

from fer_bench.encoder import Encoder

# weights_state values
NOT_NEEDED = "not needed"       # nothing learnt (pixels, lbp, hog) or a seeded init
SHIPPED = "shipped"             # in this install (encoders/weights)
PRESENT = "present"             # a file given, fetched into the cache or installed
TO_FETCH = "to fetch"           # `fer-bench encoders fetch NAME` first
MISSING = "missing"             # nothing to load: see the note


@dataclass(frozen=True)
class EncoderSummary:
    name: str
    revision: str
    embed_dim: int | None
    input_size: int | None
    channels: str
    pretrained_on: tuple[str, ...]
    pretrain_classes: tuple[str, ...]
    weights: str                  # one of the states above
    licence: str
    description: str
    source: str                   # "built-in", or the entry point's "pkg.module:factory"
    note: str = ""                # how to get missing weights, or why it cannot be built

    def to_dict(self) -> dict:
        d = asdict(self)
        d["pretrained_on"], d["pretrain_classes"] = list(self.pretrained_on), list(
            self.pretrain_classes)
        return d


def weights_state(encoder: Encoder) -> tuple[str, str]:
    """(state, note) of ``encoder``'s weights, from its metadata and the file system
    (files are looked for, never read)."""
    from fer_bench.fetch import cached_path, declared_weights, fetch_command, installed_path

    info = encoder.info
    path = info.extra.get("weights")
    if path:                                    # a weights file the factory was given
        if not Path(path).exists():
            return MISSING, f"{path} does not exist"
        return (SHIPPED, "") if info.extra.get("shipped") else (PRESENT, str(path))
    if info.weights_digest == "none" or info.weights_digest.startswith("init:"):
        return NOT_NEEDED, ""
    pins = declared_weights().get(info.name)
    if pins:
        if all(cached_path(p).is_file() or installed_path(p) is not None for p in pins):
            return PRESENT, ""
        return TO_FETCH, f"run `{fetch_command(info.name)}`"
    model_file = info.extra.get("model_file")   # a model inside an installed package
    if model_file:
        package = Path(model_file).parts[0]
        if importlib.util.find_spec(package) is None:
            return MISSING, f"the {package} package, which holds them, is not installed"
        return PRESENT, f"inside {package}"
    return PRESENT, ""


def _licence(text: str) -> str:
    return text.split(" (")[0].split(";")[0].strip()


def describe_encoder(name: str, source: str = "built-in") -> EncoderSummary:
    """The summary of the encoder ``name`` (or ``pkg.module:factory``), built with its
    default options; an encoder that cannot be built is described by the reason."""
    from fer_bench.encoder_registry import get_encoder

    try:
        encoder = get_encoder(name)
    except Exception as e:   # e.g. crs-cont without shipped weights: say why, go on
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return EncoderSummary(name, "", None, None, "", (), (), MISSING, "", "", source,
                              reason)
    info = encoder.info
    state, note = weights_state(encoder)
    return EncoderSummary(
        name=info.name, revision=info.revision, embed_dim=info.embed_dim,
        input_size=info.preprocessing.input_size, channels=info.preprocessing.channels,
        pretrained_on=tuple(info.pretrained_on), pretrain_classes=tuple(info.pretrain_classes),
        weights=state, licence=info.licence, description=info.description, source=source,
        note=note)


def describe_encoders() -> list[EncoderSummary]:
    """Every encoder ``--encoder`` accepts by name (built-in and installed entry points),
    in name order; no weights are loaded."""
    from fer_bench.encoder_registry import ENCODERS, encoder_names

    entry_points = ENCODERS.entry_points()
    out = []
    for name in encoder_names():
        ep = entry_points.get(name)
        out.append(describe_encoder(name, "built-in" if ep is None else ep.value))
    return out


def table_rows(summaries: list[EncoderSummary]) -> list[dict[str, str]]:
    """Summaries as short text cells for a terminal table."""
    rows = []
    for s in summaries:
        weights = s.weights + (f" ({s.note})" if s.note and s.weights != PRESENT else "")
        rows.append({"name": s.name, "revision": s.revision or "-",
                     "dim": "-" if s.embed_dim is None else str(s.embed_dim),
                     "input": "-" if s.input_size is None else
                     f"{s.input_size}px {s.channels}",
                     "pre-trained on": ", ".join(s.pretrained_on) or "-",
                     "weights": weights, "licence": _licence(s.licence) or "-"})
    return rows
