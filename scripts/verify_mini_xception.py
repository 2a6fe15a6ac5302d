"""Check the PyTorch ports of the FER2013 classifiers by their test accuracy.

TensorFlow is not installed, so the mini-Xception port cannot be compared with the Keras
model output for output; instead its *full classifier* (features + class conv + softmax)
is scored on FER2013's PrivateTest faces, which the original authors report at about 66%
(Arriaga et al. 2017). A wrong kernel transposition, padding or BatchNorm epsilon drops
that towards chance (~25%). The same is done for ``pyemotion``.

Labels: FER2013's own labels (``ferplus/fer2013_original_labels.csv``, matched to the
FERPlus image names), and FERPlus majority labels through fer-bench's adapter (over the
7 classes the models know; FERPlus' contempt faces are left out).

    FER_BENCH_DATA=/path/holding/ferplus \
        python scripts/verify_mini_xception.py [--encoder pyemotion]
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import torch

from fer_bench.datasets.registry import load_dataset
from fer_bench.encoder_registry import get_encoder
from fer_bench.images.decode import decode_file
from fer_bench.paths import data_root
from fer_bench.vocabulary import canonical

# FER2013's label codes (datasets.md).
FER2013_CODES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


def predict(encoder, paths: list[Path], batch: int = 256) -> np.ndarray:
    """Predicted canonical class per image with the encoder's full classifier."""
    classes = encoder.info.extra["class_order"]
    model, pre = encoder.model, encoder.info.preprocessing
    out = []
    for start in range(0, len(paths), batch):
        images = torch.stack([decode_file(p) for p in paths[start:start + batch]])
        with torch.inference_mode():
            out.append(model(pre.apply(images)).argmax(1).numpy())
    return np.asarray(classes)[np.concatenate(out)]


def original_labels(root) -> dict[str, str]:
    path = root / "ferplus" / "fer2013_original_labels.csv"
    with open(path, newline="") as f:
        return {r["name"]: FER2013_CODES[int(r["emotion"])] for r in csv.DictReader(f)}


def report(name: str, predicted: np.ndarray, truth: np.ndarray) -> None:
    keep = np.isin(truth, FER2013_CODES)
    acc = float((predicted[keep] == truth[keep]).mean())
    recalls = {c: float((predicted[truth == c] == c).mean()) for c in FER2013_CODES
               if (truth == c).any()}
    print(f"{name}: accuracy {acc:.4f} on {int(keep.sum())} faces; mean class accuracy "
          f"{np.mean(list(recalls.values())):.4f}")
    print("  recall " + ", ".join(f"{c} {r:.2f}" for c, r in recalls.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="mini-xception",
                        choices=["mini-xception", "pyemotion"])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--limit", type=int, default=None, help="first N test faces only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = data_root(args.data_root)
    if root is None:
        raise SystemExit("give --data-root or FER_BENCH_DATA (a folder holding ferplus/)")

    encoder = get_encoder(args.encoder)
    paths = sorted((root / "ferplus" / "FER2013Test").glob("*.png"))[:args.limit]
    if not paths:
        raise SystemExit(f"no PNG faces in {root / 'ferplus' / 'FER2013Test'}")
    t0 = time.perf_counter()
    predicted = dict(zip((p.name for p in paths), predict(encoder, paths)))
    seconds = time.perf_counter() - t0
    print(f"{args.encoder} ({encoder.info.extra['source']}, {encoder.info.weights_digest[:12]}): "
          f"{len(paths)} FER2013 PrivateTest faces of FERPlus' FER2013Test/, "
          f"{len(paths) / seconds:.0f} img/s")

    original = original_labels(root)
    names = [n for n in predicted if n in original]
    report("FER2013 original labels", np.array([predicted[n] for n in names]),
           np.array([original[n] for n in names]))
    test = load_dataset("ferplus", root=root).subset("test")
    names = [test.image_path(i).name for i in range(len(test))]
    has = [n in predicted for n in names]
    report("FERPlus majority labels", np.array([predicted[n] for n, h in zip(names, has) if h]),
           np.array([canonical(label) for label, h in zip(test.manifest["label"], has) if h]))


if __name__ == "__main__":
    main()
