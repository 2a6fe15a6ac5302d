"""The one-shot GPU pre-training script, run end to end in its CPU dry-run mode on a tiny
pack of generated faces: it trains on its budget, the watcher and the final export leave
loadable shards in $OUT, the probe runs, and $OUT holds at most the 8 files a device call
returns."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_script_dry_run_returns_weights_log_and_summary(tmp_path):
    from fer_bench.pretrain.packed import save_packed
    from fer_bench.synth import sample_faces
    from fer_bench.weights import load_encoder_weights

    images, labels = sample_faces(96, size=32, seed=3, preset="synth-lab")
    grey = images[:, 0].numpy()
    splits = ["train"] * 64 + ["val"] * 32
    pack = save_packed(tmp_path / "pack.npz.xz", grey, labels, splits,
                       [str(i) for i in range(96)],
                       {"dataset": "ferplus", "image_family": "synth-lab"})
    out = tmp_path / "out"
    env = {**os.environ, "FER_GPU_DRYRUN": "1", "OUT": str(out), "PACK": str(pack),
           "RUN_DIR": str(tmp_path / "run"), "TOTAL_S": "110", "PY": sys.executable,
           "FER_BENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", "scripts/gpu_pretrain.sh"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"]["train"] == "ok" and summary["status"]["export"] == "ok"
    assert summary["train"]["plan"]["reason"] in ("plan", "replan")
    shards = out / "crs-cont-gpu-ferplus-112"
    tensors, meta = load_encoder_weights(shards)
    assert meta["revision"] == "gpu-ferplus-112" and "conv1.weight" in tensors
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) <= 8, files
    assert not np.isnan(summary["train"]["health"][-1]["effective_rank"])
