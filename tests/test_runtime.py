"""fer_bench.runtime: one meaning of "auto" and of torchrun's environment."""
from __future__ import annotations

import pytest
import torch

from fer_bench import runtime


@pytest.mark.parametrize("cuda", [True, False])
def test_auto_is_cuda_when_present(monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    expected = "cuda" if cuda else "cpu"
    assert runtime.resolve_device("auto") == runtime.resolve_device(None) == expected


def test_named_devices_pass_through_and_bare_cuda_takes_the_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.resolve_device("cpu", local_rank=1) == "cpu"
    assert runtime.resolve_device("cuda:0", local_rank=1) == "cuda:0"
    assert runtime.resolve_device("cuda") == "cuda"
    assert runtime.resolve_device("cuda", local_rank=1) == "cuda:1"
    assert runtime.resolve_device("auto", local_rank=2) == "cuda:2"


def test_ranks_come_from_torchrun_and_default_to_one_process(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert not runtime.under_torchrun()
    assert (runtime.world_size(), runtime.rank(), runtime.local_rank()) == (1, 0, 0)
    assert runtime.is_main_process()
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert runtime.under_torchrun()
    assert (runtime.world_size(), runtime.rank(), runtime.local_rank()) == (4, 3, 1)
    assert not runtime.is_main_process()
