"""``linear-online``: the official CRS-CONT linear evaluation (opt-in). The augmentation
is the crop/flip it claims to be; the epoch rules pick what they say; the two records
share one training run and only the best-test-epoch one is stamped test-selected."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_bench.reporting.tables import TEST_SELECTED_MARK, long_table, wide_table
from fer_bench.protocols.base import get_protocol
from fer_bench.protocols.context import ProtocolError
from fer_bench.protocols.linear_online import CropFlipEmbed, LinearOnlineConfig, train_online_linear
from fer_bench.records import load_records
from fer_bench.runner import run_benchmark

WILD = "synth-wild:n=100,size=32"


def test_milestones_are_the_official_epochs_at_100_and_scale_with_epochs():
    assert LinearOnlineConfig().milestone_epochs() == [60, 75, 90]
    assert LinearOnlineConfig(epochs=10).milestone_epochs() == [6, 8, 9]
    assert LinearOnlineConfig(epochs=1).milestone_epochs() == [1]


def test_bad_config_is_refused():
    with pytest.raises(ProtocolError, match="select"):
        get_protocol("linear-online", select="best")
    with pytest.raises(ProtocolError, match="crop_scale"):
        get_protocol("linear-online", crop_scale=(0.6, 1.2))


def test_full_crop_without_flip_is_the_image_and_flip_mirrors_it():
    images = torch.randint(0, 256, (4, 1, 9, 9), dtype=torch.uint8)
    rows = np.arange(4)
    same = CropFlipEmbed(None, images, LinearOnlineConfig(crop_scale=(1.0, 1.0), flip_p=0.0))
    assert torch.equal(same.augment(rows, torch.Generator().manual_seed(0)), images)
    flip = CropFlipEmbed(None, images, LinearOnlineConfig(crop_scale=(1.0, 1.0), flip_p=1.0))
    assert torch.equal(flip.augment(rows, torch.Generator().manual_seed(0)), images.flip(-1))


def test_crops_differ_per_image_and_keep_dtype_and_size():
    images = torch.arange(64, dtype=torch.uint8).view(1, 1, 8, 8).repeat(16, 3, 1, 1) * 4
    aug = CropFlipEmbed(None, images, LinearOnlineConfig(crop_scale=(0.6, 0.6), flip_p=0.0))
    out = aug.augment(np.arange(16), torch.Generator().manual_seed(1))
    assert out.dtype == torch.uint8 and out.shape == images.shape
    assert len({tuple(o.flatten().tolist()) for o in out}) > 8   # one box per image


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = np.eye(3, 6)[y] * 2 + rng.normal(0, 0.8, (n, 6))
    return X.astype(np.float32), y


def train(config, seed=0):
    X, y = blobs(60, 0)
    Xv, yv = blobs(30, 1)
    Xt, yt = blobs(30, 2)
    def embed(rows, gen):
        return torch.as_tensor(X[rows])
    return train_online_linear(embed, len(y), y, 6, 3, Xv, yv, Xt, yt, config, seed)


def test_epoch_rules_pick_what_they_say():
    cfg = LinearOnlineConfig(epochs=6, lr=0.5, batch_size=16)
    run = train(cfg)
    assert len(run.val_curve) == len(run.test_curve) == len(run.loss_curve) == 6
    assert run.selected_epoch == int(np.argmax(run.val_curve)) + 1
    assert run.best_test_epoch == int(np.argmax(run.test_curve)) + 1
    assert max(run.test_curve) >= run.test_curve[run.selected_epoch - 1]
    assert run.loss_curve[-1] < run.loss_curve[0] and max(run.test_curve) > 0.8
    last = train(LinearOnlineConfig(epochs=6, lr=0.5, batch_size=16, select="last"))
    assert last.selected_epoch == 6 and last.val_curve == []
    again = train(cfg)
    assert again.test_curve == run.test_curve and again.loss_curve == run.loss_curve
    assert train(cfg, seed=1).loss_curve != run.loss_curve


def test_two_records_from_one_training_with_the_stamp_on_one(tmp_path):
    entries = run_benchmark(["pixels"], ["linear-online:epochs=2,n_boot=50"], [WILD],
                            results_dir=tmp_path / "records", cache_dir=tmp_path / "cache",
                            seeds=(0,), progress=False, device="cpu", num_workers=0)
    assert [e.status for e in entries] == ["computed", "computed"]
    records = {r.target: r for r in load_records(tmp_path / "records")}
    headline, stamped = records[WILD], records[f"{WILD}@best-test-epoch"]
    assert headline.flags.test_selected is False and stamped.flags.test_selected is True
    (a,), (b,) = headline.per_seed, stamped.per_seed
    assert a["details"]["loss_curve"] == b["details"]["loss_curve"]       # one training
    curve = b["details"]["test_curve"]
    assert b["hyperparameters"]["epoch"] == int(np.argmax(curve)) + 1
    assert a["hyperparameters"]["epoch"] == int(np.argmax(a["details"]["val_curve"])) + 1
    assert "test_curve" not in a["details"]        # the honest record never sees test scores
    assert headline.details["sample_sizes"]["val"] > 0      # synth-wild's official val
    assert stamped.metrics["accuracy"].mean >= headline.metrics["accuracy"].mean
    wide = wide_table(long_table(tmp_path / "records"))
    cells = wide.iloc[0]
    column = f"linear-online-v{get_protocol('linear-online').version}"
    assert TEST_SELECTED_MARK in cells[f"{column}/{WILD}@best-test-epoch"]
    assert TEST_SELECTED_MARK not in cells[f"{column}/{WILD}"]
