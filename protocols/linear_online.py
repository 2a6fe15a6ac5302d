"""``linear-online``: the official CRS-CONT linear evaluation, as an opt-in.

The recipe of the authors' code (SupContrast's ``main_linear.py`` with CRS-CONT's
settings; docs/crs-cont.md): the encoder is frozen in eval mode and a
``Linear(D, n)`` is trained on its raw features of *augmented* training images for 100
epochs, SGD lr 4, momentum 0.9, no weight decay, lr x0.2 at epochs 60, 75 and 90,
batch 128; training images get RandomResizedCrop(scale 0.6-1) + horizontal flip, test
images a plain resize. Unlike the ``linear`` protocol nothing is cached or normalised:
every epoch embeds freshly augmented crops with ``Encoder.embed``, which costs ``epochs``
passes of the encoder over the train split (a GPU job at paper scale; ``epochs`` can be
cut for a smoke run, and the lr milestones scale with it: 0.6, 0.75 and 0.9 of ``epochs``).

The official code reports the best *test* accuracy over all epochs, i.e. it selects the
epoch on the test split. This protocol writes two records per dataset from one training
run per seed:
- ``<dataset>``: the epoch chosen on validation data (official val, else a seeded
  stratified part of train held out of training) or, with ``select=last``, the last
  epoch; this is the score to compare;
- ``<dataset>@best-test-epoch``: the epoch with the best test score, stamped
  ``test_selected`` (leaderboards mark it with a dagger): the number the paper's code
  prints, kept only to reproduce it.

Augmentation is batched on the device: the training images are decoded, face-cropped
and resized to the encoder's input size once (the loader's integer stage) and kept in
memory as uint8; each batch is cropped and flipped per image with one affine resampling
(:func:`fer_bench.images.augment.crop_flip_resize`, torchvision's RandomResizedCrop
box sampling) back to the input size, rounded to uint8 and embedded with the encoder's
own sealed preprocessing. Test and validation features are the feature store's (plain
resize), identical to what the other protocols read.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from fer_bench.metrics import METRICS, classification_metrics
from fer_bench.protocols.base import ProbeConfig, Protocol, Task, register_protocol
from fer_bench.protocols.context import LabelledSplit, ProtocolError, RunContext
from fer_bench.protocols.scoring import Evaluation, SeedRun
from fer_bench.protocols.data_parts import dataset_parts, fit_splits

SELECTIONS = ("val", "last")
BEST_TEST_SUFFIX = "@best-test-epoch"


@dataclass(frozen=True)
class LinearOnlineConfig(ProbeConfig):
    epochs: int = 100
    lr: float = 4.0
    momentum: float = 0.9
    weight_decay: float = 0.0
    milestones: tuple[float, ...] = (0.6, 0.75, 0.9)   # fractions of epochs (60/75/90 of 100)
    gamma: float = 0.2
    batch_size: int = 128
    crop_scale: tuple[float, ...] = (0.6, 1.0)
    flip_p: float = 0.5
    select: str = "val"                  # "val": best validation epoch; "last": last epoch
    select_metric: str = "accuracy"      # the official metric: overall top-1
    val_fraction: float = 0.1            # carved from train when there is no official val
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.select not in SELECTIONS:
            raise ProtocolError(f"linear-online select must be one of {SELECTIONS}, "
                                f"got {self.select!r}")
        if self.select_metric not in METRICS:
            raise ProtocolError(f"linear-online select_metric must be one of {METRICS}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ProtocolError("linear-online needs epochs >= 1 and batch_size >= 1")
        if len(self.crop_scale) != 2 or not 0 < self.crop_scale[0] <= self.crop_scale[1] <= 1:
            raise ProtocolError(f"crop_scale must be (low, high) in (0, 1], got {self.crop_scale}")

    def milestone_epochs(self) -> list[int]:
        return sorted({max(1, round(f * self.epochs)) for f in self.milestones})


@dataclass(frozen=True)
class OnlineTask(Task):
    test_selected: bool = False


@dataclass
class OnlineRun:
    """One seed's training: the scores of every epoch and the test predictions of the
    epochs that either rule picks."""
    seed: int
    val_curve: list[float]                 # per epoch (empty with select=last)
    test_curve: list[float]                # per epoch, select_metric on test
    loss_curve: list[float]                # mean training loss per epoch
    selected_epoch: int                    # 1-based
    best_test_epoch: int
    selected_pred: np.ndarray
    best_test_pred: np.ndarray
    n_train: int
    n_val: int


def _select(curve: list[float]) -> int:
    """1-based epoch of the best score; ties go to the earlier epoch."""
    return int(np.argmax(curve)) + 1


def train_online_linear(embed_batch: Callable[[np.ndarray, torch.Generator], torch.Tensor],
                        n_train: int, y_train: np.ndarray, dim: int, n_classes: int,
                        X_val: np.ndarray | None, y_val: np.ndarray | None,
                        X_test: np.ndarray, y_test: np.ndarray, config: LinearOnlineConfig,
                        seed: int, device="cpu") -> OnlineRun:
    """Train ``Linear(dim, n_classes)`` on ``embed_batch(rows, generator)`` (features of
    freshly augmented training rows) with the official schedule; score val and test
    after every epoch. Initialisation, shuffling and augmentation all draw from one
    generator seeded with ``seed``."""
    device = torch.device(device)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    linear = torch.nn.Linear(dim, n_classes).to(device)
    bound = 1.0 / dim ** 0.5  # nn.Linear's default init, drawn from our generator
    with torch.no_grad():
        for p in linear.parameters():
            p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen))
    opt = torch.optim.SGD(linear.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, config.milestone_epochs(), config.gamma)
    labels = torch.as_tensor(np.asarray(y_train, dtype=np.int64))
    X_test_t = torch.as_tensor(np.asarray(X_test, dtype=np.float32), device=device)
    X_val_t = None if X_val is None else torch.as_tensor(np.asarray(X_val, np.float32),
                                                        device=device)
    val_curve, test_curve, loss_curve = [], [], []
    best_test, selected = (-1.0, None), (-1.0, None)
    for epoch in range(1, config.epochs + 1):
        linear.train()
        losses = []
        for batch in torch.randperm(n_train, generator=gen).split(config.batch_size):
            rows = batch.numpy()
            feats = embed_batch(rows, gen).to(device)
            loss = torch.nn.functional.cross_entropy(linear(feats), labels[batch].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        sched.step()
        loss_curve.append(float(np.mean(losses)))
        linear.eval()
        with torch.no_grad():
            test_pred = linear(X_test_t).argmax(1).cpu().numpy()
            val_pred = None if X_val_t is None else linear(X_val_t).argmax(1).cpu().numpy()
        test_score = classification_metrics(y_test, test_pred, n_classes)[config.select_metric]
        test_curve.append(test_score)
        if test_score > best_test[0]:
            best_test = (test_score, (epoch, test_pred))
        if config.select == "val":
            val_score = classification_metrics(y_val, val_pred, n_classes)[config.select_metric]
            val_curve.append(val_score)
            if val_score > selected[0]:
                selected = (val_score, (epoch, test_pred))
        else:
            selected = (0.0, (epoch, test_pred))
    return OnlineRun(seed, val_curve, test_curve, loss_curve, selected[1][0],
                     best_test[1][0], selected[1][1], best_test[1][1], n_train,
                     0 if y_val is None else len(y_val))


# -- images and augmentation ----------------------------------------------------------
def load_images(ctx: RunContext, spec: str, part: LabelledSplit) -> torch.Tensor:
    """uint8 (N, C, S, S) images of ``part``'s rows at the encoder's input size, in row
    order (decoded, face-cropped and resized by the same loader as feature extraction)."""
    from fer_bench.datasets.loader import ImageBatch, image_loader, raise_bad_image

    dataset = ctx.dataset(spec)
    positions = pd.Index(dataset.manifest["id"].astype(str)).get_indexer(part.ids)
    if (positions < 0).any():
        raise ProtocolError(f"{part.name}: rows missing from the {spec} manifest")
    batches = [positions[i:i + ctx.batch_size].tolist()
               for i in range(0, len(positions), ctx.batch_size)]
    out = []
    for batch in image_loader(dataset, ctx.encoder.info.preprocessing, batches,
                              num_workers=ctx.num_workers):
        if not isinstance(batch, ImageBatch):
            raise_bad_image(dataset, batch)
        out.append(batch.images)
    return torch.cat(out)


class CropFlipEmbed:
    """Features of augmented training images: RandomResizedCrop(scale) + flip per image,
    batched, then the encoder's sealed ``embed``."""

    def __init__(self, encoder, images: torch.Tensor, config: LinearOnlineConfig):
        from fer_bench.images.augment import AugmentConfig, BatchAugment

        self.encoder, self.images = encoder, images
        self.size = int(images.shape[-1])
        self.sampler = BatchAugment(AugmentConfig(size=self.size,
                                                  scale=tuple(config.crop_scale),
                                                  flip_p=config.flip_p))

    def augment(self, rows: np.ndarray, gen: torch.Generator) -> torch.Tensor:
        from fer_bench.images.augment import crop_flip_resize

        x = self.images[torch.as_tensor(rows)]
        p = self.sampler.sample(len(rows), "cpu", gen)
        crops = crop_flip_resize(x.float(), p.box, p.flip, self.size)
        return crops.round_().clamp_(0, 255).to(torch.uint8)

    def __call__(self, rows: np.ndarray, gen: torch.Generator) -> torch.Tensor:
        return self.encoder.embed(self.augment(rows, gen))


@register_protocol
class LinearOnlineProtocol(Protocol):
    name = "linear-online"
    version = 2  # 2: class-averaged intervals resampled within each class
    Config = LinearOnlineConfig
    opt_in = True   # paper reproduction: never part of an "every protocol" run

    def tasks(self, datasets: Sequence[str]) -> list[Task]:
        return [OnlineTask(self.name, (spec,), spec + suffix, suffix != "")
                for spec in datasets for suffix in ("", BEST_TEST_SUFFIX)]

    def evaluate(self, ctx: RunContext, task: OnlineTask) -> Evaluation:
        (spec,) = task.datasets
        cfg = self.config
        classes = tuple(cfg.classes or ctx.dataset(spec).classes)
        parts = dataset_parts(ctx, spec, classes, cfg.holdout_fraction)
        runs, used = [], None
        for seed in ctx.seeds:
            key = (self.name, spec, classes, cfg, seed)
            if key not in ctx.memo:
                ctx.memo[key] = self._train(ctx, spec, parts, seed)
            online, fit_train, fit_val = ctx.memo[key]
            used = used or (fit_train, fit_val)
            epoch = online.best_test_epoch if task.test_selected else online.selected_epoch
            y_pred = online.best_test_pred if task.test_selected else online.selected_pred
            details = {"loss_curve": online.loss_curve}
            if task.test_selected:
                details["test_curve"] = online.test_curve
            else:
                details["val_curve"] = online.val_curve
            runs.append(SeedRun(seed, y_pred, {"epoch": epoch}, details))
        train, val = used
        return Evaluation(
            target=task.target, roles={spec: "eval"}, class_set=classes, scored=parts.test,
            parts=[p for p in (train, val, parts.test) if p is not None],
            dropped=parts.dropped, runs=runs,
            sample_sizes={"train": len(train), "val": 0 if val is None else len(val),
                          "test": len(parts.test)},
            hyperparameters={"epoch": [r.hyperparameters["epoch"] for r in runs]},
            details={"selection": "best-test-epoch" if task.test_selected else cfg.select,
                     "milestone_epochs": cfg.milestone_epochs(),
                     "test_origin": parts.test_origin},
            test_selected=task.test_selected)

    def _train(self, ctx: RunContext, spec: str, parts, seed: int):
        cfg = self.config
        if cfg.select == "val":
            fit = fit_splits(parts, seed, cfg.val_fraction)
            train, val = fit.train, fit.val
        else:
            train, val = parts.train, None
        images = load_images(ctx, spec, train)
        embed = CropFlipEmbed(ctx.encoder, images, cfg)
        online = train_online_linear(
            embed, len(train), train.y, ctx.encoder.info.embed_dim, len(train.classes),
            None if val is None else val.X, None if val is None else val.y,
            parts.test.X, parts.test.y, cfg, seed, device=ctx.device)
        return online, train, val
