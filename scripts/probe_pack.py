#!/usr/bin/env python
"""Quick linear probe of encoders on a packed dataset (no image folders needed), e.g. on
the lent GPU machine right after pre-training. Uses fer-bench's own linear probe
(C swept on a stratified 10% of the training split, refit, scored once on the test split)
and reports accuracy and mean class accuracy with 95% bootstrap intervals.

    python scripts/probe_pack.py --pack .pack/ferplus-train-val.npz.xz --train train \
        --test val --encoder crs-cont=out/enc --encoder random-resnet18 --encoder pixels

This is a sanity number; the benchmark's figures come from ``fer-bench run``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.metrics import bootstrap_interval, classification_metrics
from fer_bench.pretrain.packed import read_packed
from fer_bench.probes.linear import linear_probe
from fer_bench.splits import stratified_val_split


def embed_all(encoder, images: np.ndarray, batch: int = 512) -> np.ndarray:
    x = torch.from_numpy(images)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    return torch.cat([encoder.embed(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", required=True)
    p.add_argument("--train", default="train")
    p.add_argument("--test", default="val")
    p.add_argument("--encoder", action="append", required=True,
                   help="NAME or NAME=WEIGHTS (repeatable)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n-cs", type=int, default=8, help="C values swept, 1e-2..1e4")
    p.add_argument("--limit", type=int, default=None, help="use at most this many images per split")
    p.add_argument("--json", default=None)
    args = p.parse_args()

    arrays, meta, _ = read_packed(args.pack)
    classes = list(meta["classes"])
    lookup = {c: i for i, c in enumerate(classes)}
    labels = np.array([lookup.get(c, -1) for c in arrays["labels"]])
    split = arrays["splits"]
    tr = np.flatnonzero((split == args.train) & (labels >= 0))[:args.limit]
    te = np.flatnonzero((split == args.test) & (labels >= 0))[:args.limit]
    fit_rows, val_rows = stratified_val_split(labels[tr], 0.1, seed=0)
    cs = np.logspace(-2, 4, args.n_cs)
    results = {"pack": meta.get("dataset"), "train": args.train, "test": args.test,
               "n_train": int(len(tr)), "n_test": int(len(te)), "classes": classes,
               "encoders": {}}
    for spec in args.encoder:
        name, _, weights = spec.partition("=")
        t0 = time.time()
        encoder = get_encoder(name, weights=weights or None, device=args.device)
        feats_tr = embed_all(encoder, arrays["images"][tr])
        feats_te = embed_all(encoder, arrays["images"][te])
        t_embed = time.time() - t0
        y_tr, y_te = labels[tr], labels[te]
        probe = linear_probe(feats_tr[fit_rows], y_tr[fit_rows], feats_tr[val_rows],
                             y_tr[val_rows], feats_te, len(classes), Cs=cs, device=args.device)
        scores = classification_metrics(y_te, probe.test_pred, len(classes))
        row = {"revision": encoder.info.revision, "best_C": probe.best_C,
               "accuracy": scores["accuracy"],
               "accuracy_ci95": bootstrap_interval(y_te, probe.test_pred, "accuracy",
                                                   n_classes=len(classes)),
               "mean_class_accuracy": scores["mean_class_accuracy"],
               "mean_class_accuracy_ci95": bootstrap_interval(
                   y_te, probe.test_pred, "mean_class_accuracy", n_classes=len(classes)),
               "per_class_recall": dict(zip(classes, scores["per_class_recall"])),
               "embed_s": round(t_embed, 1), "total_s": round(time.time() - t0, 1)}
        results["encoders"][name] = row
        acc_lo, acc_hi = row["accuracy_ci95"]
        mca_lo, mca_hi = row["mean_class_accuracy_ci95"]
        print(f"{name:16s} acc {row['accuracy']:.3f} [{acc_lo:.3f}, {acc_hi:.3f}]  mca "
              f"{row['mean_class_accuracy']:.3f} [{mca_lo:.3f}, {mca_hi:.3f}]  "
              f"({row['total_s']}s)", flush=True)
        if args.json:  # after each encoder, so a time cap still leaves what was done
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
