"""``crs-cont``: the CRS-CONT encoder (Li et al., IEEE TIP 2022): a ResNet-18 whose 512-d
average-pooled feature is frozen and probed (docs/crs-cont.md).

The authors never released weights, so this module is the architecture plus loaders for

- fer-bench's own weights (:mod:`fer_bench.weights`; safetensors, one file or shards),
  either shipped in ``encoders/weights/crs-cont-<revision>.safetensors`` or given with
  ``--weights``; their header says what they were trained on and how inputs look;
- an official-format checkpoint (``.pth`` of the authors' code; BGR input at 224 px).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fer_bench.encoder import Encoder, EncoderInfo
from fer_bench.encoder_registry import register_encoder
from fer_bench.encoders.resnet import EMBED_DIM, LAYER, ResNet18Encoder
from fer_bench.images.preprocess import IMAGENET_MEAN, IMAGENET_STD, Preprocessing
from fer_bench.vocabulary import BASIC7
from fer_bench.weights import (WeightsError, load_encoder_weights, load_official_crs_checkpoint,
                               pretrained_splits, read_encoder_metadata, tensor_digest)

NAME = "crs-cont"
SHIPPED_DIR = Path(__file__).resolve().parent / "weights"
# Best first: GPU pre-training on FERPlus at 112 px, then the CPU run at 48 px.
PREFERRED_REVISIONS = ("gpu-ferplus-112", "cpu-ferplus-48")
OFFICIAL_SUFFIXES = (".pth", ".pt", ".tar", ".ckpt")
PAPER = "Li, Wang, Yang, Gao: CRS-CONT, IEEE Trans. Image Process. 31:4637-4650 (2022)"


class MissingWeights(WeightsError):
    pass


def shipped_revisions() -> dict[str, Path]:
    """Revisions shipped with this install: ``crs-cont-<rev>.safetensors`` files or
    ``crs-cont-<rev>/`` shard directories in SHIPPED_DIR, best first."""
    found = {}
    for path in sorted(SHIPPED_DIR.glob(f"{NAME}-*")):
        if path.suffix == ".safetensors" or (path / "model.safetensors.index.json").is_file():
            found[path.name.removeprefix(f"{NAME}-").removesuffix(".safetensors")] = path
    ranked = [r for r in PREFERRED_REVISIONS if r in found] + sorted(set(found) -
                                                                    set(PREFERRED_REVISIONS))
    return {r: found[r] for r in ranked}


@register_encoder(NAME)
def make_crs_cont(weights: str | None = None, device: str = "cpu", revision: str | None = None,
                  input_size: int | None = None) -> Encoder:
    """CRS-CONT ResNet-18. ``weights``: a fer-bench safetensors file / shard directory, or
    an official ``.pth``; None picks the best shipped ``revision`` (or the one named).
    ``input_size`` overrides the size the weights were trained at."""
    if weights is not None and revision is not None:
        raise ValueError("crs-cont: give either --weights or revision=, not both")
    if weights is None:
        shipped_as, path = _shipped(revision)
    else:
        path, shipped_as = Path(weights).expanduser(), None
        if not path.exists():
            raise WeightsError(f"crs-cont: weights {path} do not exist")
    official = path.suffix in OFFICIAL_SUFFIXES
    info = _official_info(path) if official else _fer_bench_info(path, shipped_as)
    loader = load_official_crs_checkpoint if official else load_encoder_weights
    if input_size is not None and int(input_size) != info.preprocessing.input_size:
        # Another input size gives other features: a revision of its own keeps its results
        # apart from those at the trained size.
        info = replace(info, revision=f"{info.revision}-at{int(input_size)}",
                       preprocessing=replace(info.preprocessing, input_size=int(input_size)))
    return ResNet18Encoder(info, lambda: loader(path)[0], source=str(path), device=device)


def _shipped(revision: str | None) -> tuple[str, Path]:
    shipped = shipped_revisions()
    if revision is not None:
        if revision not in shipped:
            raise MissingWeights(f"crs-cont: no shipped revision {revision!r} in {SHIPPED_DIR}; "
                                 f"shipped: {', '.join(shipped) or 'none'}")
        return revision, shipped[revision]
    if not shipped:
        raise MissingWeights(
            f"crs-cont: no trained weights ship with this install (looked for "
            f"{NAME}-<revision>.safetensors in {SHIPPED_DIR}).\n"
            "The paper's authors never released weights. Train them yourself with\n"
            "  fer-bench pretrain --method crs-cont ...   (see fer-bench pretrain --help)\n"
            "and pass the exported file: --weights PATH.safetensors\n"
            "An official-format CRS-CONT checkpoint (.pth from the authors' code) also works "
            "with --weights.")
    return next(iter(shipped.items()))


def _fer_bench_info(path: Path, shipped_as: str | None) -> EncoderInfo:
    meta = read_encoder_metadata(path)  # header only: weights load on the first embed
    arch = meta.get("architecture", "resnet18")
    dim = meta.get("embed_dim", EMBED_DIM)
    if arch != "resnet18" or dim != EMBED_DIM:
        raise WeightsError(f"{path}: weights of a {arch} with {dim}-d features; crs-cont is "
                           f"a resnet18 with {EMBED_DIM}-d features")
    digest = meta["tensor_digest"]
    # A user's file gets its digest in the revision, so two trainings never share results.
    revision = shipped_as or f"{meta.get('revision', 'local')}-{digest[:8]}"
    pre = Preprocessing(input_size=int(meta.get("input_size", 112)),
                        channels=meta.get("channels", "rgb"),
                        mean=tuple(meta.get("mean", IMAGENET_MEAN)),
                        std=tuple(meta.get("std", IMAGENET_STD)))
    method = meta.get("method", "crs-cont")
    return EncoderInfo(
        name=NAME, revision=revision, embed_dim=EMBED_DIM, preprocessing=pre,
        layer=meta.get("layer", LAYER), weights_digest=digest,
        # split by split, as the header's data sources say (cpu-ferplus-48: FERPlus train)
        pretrained_on=pretrained_splits(meta),
        pretrain_classes=tuple(meta.get("pretrain_classes", ())),
        licence=meta.get("licence", "BSD-2-Clause (fer-bench)"),
        description=meta.get("description",
                             f"CRS-CONT ResNet-18 ({method}) pre-trained by fer-bench; {PAPER}."),
        extra={"weights": str(path), "method": method, "shipped": shipped_as is not None,
               **{k: meta[k] for k in ("epochs", "seed", "trained_at", "git_commit")
                  if k in meta}},
    )


def _official_info(path: Path) -> EncoderInfo:
    # Read once here to learn the digest and input size; the model is built on first embed.
    # The digest covers the trunk tensors only: optimiser state and epoch counters do not
    # change features, and a conversion to fp32 safetensors keeps the same digest.
    state, meta = load_official_crs_checkpoint(path)
    digest = tensor_digest(state)
    return EncoderInfo(
        name=NAME, revision=f"official-{digest[:8]}", embed_dim=EMBED_DIM,
        # The official loader normalises with ImageNet statistics whatever --mean says.
        preprocessing=Preprocessing(input_size=meta["input_size"], channels="bgr",
                                    mean=IMAGENET_MEAN, std=IMAGENET_STD),
        layer=LAYER, weights_digest=digest,
        # Bare names (every split): which splits a third-party checkpoint trained and
        # was selected on is not in the file.
        pretrained_on=tuple(meta["pretrained_on"]),
        # RAF-DB and AffectNet as the official loader reads them: 7 basic classes.
        pretrain_classes=BASIC7,
        licence="unknown (third-party checkpoint; the official code carries no licence)",
        description=f"CRS-CONT ResNet-18 from an official-format checkpoint ({meta['method']}, "
                    f"epoch {meta['epoch']}); {PAPER}.",
        extra={"weights": str(path), "method": meta["method"], "epoch": meta["epoch"]},
    )
