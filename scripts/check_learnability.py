#!/usr/bin/env python3
"""Is synth-wild learnable but not trivial?

Trains a small CNN for a few epochs on synth-wild's train split and scores its test split
(identities unseen in training), next to a linear classifier (sklearn LogisticRegression,
C chosen on the val split) on the raw pixels of the same images. The aim: the CNN
far above chance and the pixel classifier well below the CNN; if both score alike, the
faces are too easy (or too hard) and the generator needs tuning.

    .venv/bin/python scripts/check_learnability.py [--dataset synth-wild] [--epochs 12]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.preprocessing import StandardScaler
from torch import nn

from fer_bench.datasets.registry import load_dataset


def load_split(ds, split: str, side: int) -> tuple[torch.Tensor, np.ndarray]:
    part = ds.subset(split).labelled()
    imgs = torch.stack([ds_img(part, i) for i in range(len(part))])
    imgs = F.interpolate(imgs.float(), size=(side, side), mode="area", antialias=False)
    return imgs.to(torch.uint8), part.label_indices()


def ds_img(part, i: int) -> torch.Tensor:
    img = part.read_image(i)
    return img.expand(3, -1, -1) if img.shape[0] == 1 else img


def conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """About 30 M multiply-adds per 48x48 face: a few minutes of training on 2 cores."""

    def __init__(self, classes: int):
        super().__init__()
        self.features = nn.Sequential(
            *conv(3, 24), nn.MaxPool2d(2), *conv(24, 48), nn.MaxPool2d(2),
            *conv(48, 96), *conv(96, 96), nn.MaxPool2d(2), *conv(96, 160), nn.Dropout(0.2))
        self.head = nn.Linear(160, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x.float() / 255.0 - 0.5) / 0.25


def train_cnn(x, y, classes: int, epochs: int, seed: int) -> SmallCNN:
    torch.manual_seed(seed)
    model = SmallCNN(classes)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    steps = epochs * (-(-len(x) // 64))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    yt = torch.as_tensor(y.copy())
    side = x.shape[-1]
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        t0, total = time.perf_counter(), 0.0
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            xb = normalise(x[idx])
            flip = torch.rand(len(idx)) < 0.5            # mirror faces: labels do not change
            xb[flip] = xb[flip].flip(-1)
            pad = F.pad(xb, (3, 3, 3, 3), mode="replicate")  # small random shifts
            dx, dy = torch.randint(0, 7, (2,)).tolist()
            xb = pad[..., dy:dy + side, dx:dx + side]
            loss = F.cross_entropy(model(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs} loss {total / len(x):.3f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return model


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    model.eval()
    return torch.cat([model(normalise(x[i:i + 256])).argmax(1)
                      for i in range(0, len(x), 256)]).numpy()


def pixel_classifier(xtr, ytr, xva, yva, xte, side: int) -> tuple[np.ndarray, float]:
    def flat(x: torch.Tensor) -> np.ndarray:
        return F.interpolate(x.float(), size=(side, side), mode="area").flatten(1).numpy() / 255.0
    scaler = StandardScaler().fit(flat(xtr))
    a, b, c = (scaler.transform(flat(x)) for x in (xtr, xva, xte))
    best = None
    for C in (3e-4, 1e-3, 3e-3):
        clf = LogisticRegression(C=C, max_iter=300, tol=1e-3).fit(a, ytr)
        acc = (clf.predict(b) == yva).mean()
        if best is None or acc > best[0]:
            best = (acc, C, clf)
    return best[2].predict(c), best[1]


def report(name: str, y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    acc, bal = float((pred == y).mean()), float(balanced_accuracy_score(y, pred))
    print(f"{name:30s} accuracy {acc:6.3f}   mean class accuracy {bal:6.3f}", flush=True)
    return acc, bal


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="synth-wild")
    ap.add_argument("--side", type=int, default=48, help="input side the CNN sees")
    ap.add_argument("--pixel-side", type=int, default=32,
                    help="input side of the pixel classifier (32x32x3 = 3072 features)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ds = load_dataset(args.dataset)
    (xtr, ytr), (xva, yva), (xte, yte) = (load_split(ds, s, args.side)
                                          for s in ("train", "val", "test"))
    classes = len(ds.classes)
    print(f"{args.dataset}: train {len(xtr)}, val {len(xva)}, test {len(xte)} images at "
          f"{args.side}px, {classes} classes (loaded in {time.perf_counter() - t0:.0f} s)",
          flush=True)
    majority = np.bincount(ytr, minlength=classes).argmax()
    report("chance: majority class", yte, np.full_like(yte, majority))
    print(f"{'chance: uniform guess':30s} accuracy {1 / classes:6.3f}   "
          f"mean class accuracy {1 / classes:6.3f}")
    t0 = time.perf_counter()
    pred, C = pixel_classifier(xtr, ytr, xva, yva, xte, args.pixel_side)
    lin = report(f"logistic regression, {args.pixel_side}px", yte, pred)
    print(f"  (C={C} chosen on val, {time.perf_counter() - t0:.0f} s)", flush=True)
    t0 = time.perf_counter()
    model = train_cnn(xtr, ytr, classes, args.epochs, args.seed)
    cnn = report(f"small CNN, {args.epochs} epochs", yte, predict(model, xte))
    print(f"  ({time.perf_counter() - t0:.0f} s of training)")
    print(f"CNN / pixel-classifier accuracy ratio {cnn[0] / max(lin[0], 1e-9):.2f}, "
          f"mean class accuracy ratio {cnn[1] / max(lin[1], 1e-9):.2f}")


if __name__ == "__main__":
    main()
