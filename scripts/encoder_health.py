#!/usr/bin/env python
"""Feature health of encoders on one split of a dataset: the effective rank of the
centred features, the variance share of their top direction and leave-one-out
weighted-kNN accuracy (the signals ``fer-bench pretrain`` logs while it trains, see
fer_bench/pretrain/health.py), side by side for several encoders on the same faces.

    python scripts/encoder_health.py --dataset ferplus --split val --n 2000 \\
        --encoder crs-cont --encoder random-resnet18 --encoder pixels
    python scripts/encoder_health.py --dataset synth-lab --split test \\
        --encoder crs-cont=runs/export/crs-cont-mine     # NAME=WEIGHTS

Faces are a fixed random subset (``--seed``) read through the dataset adapter with its
face crop, so every encoder sees the same images.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="dataset spec (e.g. ferplus, synth-lab)")
    p.add_argument("--split", default="val")
    p.add_argument("--n", type=int, default=2000, help="faces (a fixed random subset)")
    p.add_argument("--encoder", action="append", required=True, help="NAME or NAME=WEIGHTS")
    p.add_argument("--data-root", default=os.environ.get("FER_BENCH_DATA"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the figures here")
    args = p.parse_args()

    from fer_bench.datasets.registry import load_dataset
    from fer_bench.encoder_registry import get_encoder
    from fer_bench.images.facecrop import apply_face_crop
    from fer_bench.pretrain.health import feature_health

    ds = load_dataset(args.dataset, root=args.data_root)
    ds = ds.subset(ds.manifest["split"].eq(args.split).to_numpy()).labelled()
    rows = np.arange(len(ds))
    if len(rows) > args.n:
        rows = np.sort(np.random.default_rng(args.seed).choice(rows, args.n, replace=False))
    images = [apply_face_crop(ds.read_image(int(r)), ds.box(int(r)), ds.face_crop) for r in rows]
    names = ds.manifest["label"].to_numpy()[rows]
    classes = sorted(set(names))
    labels = np.array([classes.index(c) for c in names])
    print(f"{args.dataset}:{args.split}: {len(rows)} faces, {len(classes)} classes")
    out = {}
    for spec in args.encoder:
        name, _, weights = spec.partition("=")
        enc = get_encoder(name, weights=weights or None)
        feats = []
        for start in range(0, len(images), 128):
            batch = images[start:start + 128]
            feats.append(torch.cat([enc.embed(im.unsqueeze(0)) for im in batch])
                         if len({tuple(im.shape) for im in batch}) > 1
                         else enc.embed(torch.stack(batch)))
        h = feature_health(torch.cat(feats).numpy(), labels, len(classes))
        out[f"{enc.info.name}@{enc.info.revision}"] = h
        print(f"{enc.info.name}@{enc.info.revision:28s} effective rank {h['effective_rank']:6.2f}"
              f"   top share {100 * h['top_share']:5.1f}%   kNN mean class acc. "
              f"{100 * h['knn_mca']:5.1f}   kNN acc. {100 * h['knn_accuracy']:5.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": args.dataset, "split": args.split, "n": len(rows),
                       "seed": args.seed, "encoders": out}, f, indent=1)


if __name__ == "__main__":
    main()
