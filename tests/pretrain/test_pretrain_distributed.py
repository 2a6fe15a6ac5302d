"""DDP on the CPU (gloo, 2 processes): the global-batch loss makes a 2-rank step equal to a
one-process step on the whole batch, and ``fer-bench pretrain`` runs under torchrun."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from fer_bench.pretrain.distributed import DistContext
from fer_bench.pretrain.losses import Objective
from fer_bench.pretrain.model import build_model
from fer_bench.pretrain.step import TrainStep

N_PER_RANK, SIZE = 3, 16


def batch():
    """Two views of 6 images, view-major, with labels (fixed by a seed)."""
    g = torch.Generator().manual_seed(5)
    views = torch.randn(2, 2 * N_PER_RANK, 3, SIZE, SIZE, generator=g)
    fine = torch.tensor([0, 1, 2, 0, 1, 3])
    coarse = torch.tensor([0, 1, 1, 0, 2, 3])
    return views, fine, coarse


def one_step(ctx: DistContext, views, fine, coarse) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = build_model(Objective(), n_fine_classes=4).eval()  # BN on running stats
    net = model
    if ctx.enabled:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    step = TrainStep(net, Objective(), opt, ctx, amp="off", channels_last=False)
    terms = step(torch.cat([views[0], views[1]]), fine, coarse, lr=0.1)
    return {"total": terms["total"], **{k: v.detach().clone()
                                        for k, v in model.state_dict().items()}}


def _worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    views, fine, coarse = batch()
    mine = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
    state = one_step(DistContext(rank, world), views[:, mine], fine[mine], coarse[mine])
    torch.save(state, Path(out_dir) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow  # ~30 s on a busy 2-core box: two interpreters import torch
def test_two_rank_step_equals_one_process_step_on_the_global_batch(tmp_path):
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = one_step(DistContext(), *batch())
    finally:
        torch.set_num_threads(n)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    for r in ranks:
        assert r["total"].item() == pytest.approx(single["total"].item(), rel=1e-5)
    for k, v in single.items():
        if k != "total" and v.is_floating_point():
            for r in ranks:
                assert torch.allclose(r[k], v, atol=1e-6, rtol=1e-4), k
    torch.manual_seed(0)
    initial = build_model(Objective(), n_fine_classes=4).state_dict()
    assert not torch.allclose(single["trunk.conv1.weight"], initial["trunk.conv1.weight"])


@pytest.mark.slow
def test_pretrain_cli_runs_under_torchrun_with_gloo(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cli = str(Path(sys.executable).with_name("fer-bench"))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", "29517", cli, "pretrain",
           "--data", "synth-wild:n=40,size=32", "--input-size", "16", "--batch-size", "8",
           "--epochs", "1", "--lr", "0.05", "--device", "cpu", "--out", str(out),
           "--export", str(tmp_path / "enc.safetensors")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "checkpoint.pt").is_file() and (tmp_path / "enc.safetensors").is_file()
    from fer_bench.pretrain.run_log import read_log
    start = read_log(out / "train_log.jsonl")[0]
    assert start["world"] == 2
