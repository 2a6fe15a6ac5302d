"""faiss-gpu, when installed (the ``gpu`` extra): a flat inner-product index on a GPU.

Only a source of float32 candidates for :mod:`fer_bench.probes.knn_device`, which reranks
them into FAISS's CPU answer; without faiss-gpu that module's torch matmul does the same.
"""
from __future__ import annotations

import numpy as np

# faiss-gpu's scratch memory: enough for its tiles, leaving the rest of the GPU to torch
# (its default takes a share of the whole card).
TEMP_MEMORY_BYTES = 256 * 2**20
# The largest k a GPU flat index selects (1024 in older faiss-gpu builds, 2048 since).
MAX_K = 1024


def available() -> bool:
    """Whether the installed faiss has GPU support and sees a GPU."""
    try:
        import faiss
    except ImportError:
        return False
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def gpu_flat_index(bank: np.ndarray, device):
    """``GpuIndexFlatIP`` over ``bank`` (float32 rows) on the GPU of torch ``device``."""
    import faiss
    import torch

    device = torch.device(device)
    resources = faiss.StandardGpuResources()
    resources.setTempMemory(TEMP_MEMORY_BYTES)
    config = faiss.GpuIndexFlatConfig()
    config.device = device.index if device.index is not None else torch.cuda.current_device()
    index = faiss.GpuIndexFlatIP(resources, bank.shape[1], config)
    index.add(np.ascontiguousarray(bank, dtype=np.float32))
    index.referenced_objects = [resources]  # the resources live as long as the index
    return index
