"""GPU checks of the feature store, for a machine with CUDA (not a test; prints as it goes).

    python scripts/check_features_gpu.py        # N=2048 generated faces by default

Extraction on CUDA (pinned uint8 batches, channels_last, inference mode), throughput of
the loader alone / embed alone / the whole store.get, parity of the GPU entry with a CPU
extraction (cuDNN may use TF32), uint8 resize on GPU vs CPU, loader path vs direct
embed, a cache hit that must not load weights, and torchrun + nccl with a world of one.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


class Report(dict):
    """Prints every figure as it is recorded: a run cut short still shows what it found."""

    def __setitem__(self, key, value):
        print(f"{key} = {value}", flush=True)
        super().__setitem__(key, value)


def main() -> None:
    out = Report()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    out["torch"] = torch.__version__
    out["device_name"] = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
    from fer_bench.datasets.loader import image_loader
    from fer_bench.datasets.registry import load_dataset
    from fer_bench.encoder_registry import get_encoder
    from fer_bench.features.extract import shard_batches
    from fer_bench.features.store import FeatureStore
    from fer_bench.images.decode import decode_file

    N = int(os.environ.get("N", "2048"))
    t = time.perf_counter()
    ds = load_dataset(f"synth-wild:n={N},size=144,workers=14")
    out["generate_s"] = round(time.perf_counter() - t, 1)
    tmp = tempfile.mkdtemp()
    store = FeatureStore(tmp)
    enc = get_encoder("random-resnet18", device=dev)
    pre = enc.info.preprocessing
    # loader alone
    for w in (4, 8, 14):
        t = time.perf_counter()
        for _ in image_loader(ds, pre, shard_batches([(0, len(ds))], 256), num_workers=w,
                              pin_memory=dev == "cuda"):
            pass
        out[f"loader_only_img_s_w{w}"] = round(len(ds) / (time.perf_counter() - t), 1)
    _ = enc.model
    x = torch.randint(0, 256, (256, 3, 112, 112), dtype=torch.uint8)
    enc.embed(x)
    if dev == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(8):
        enc.embed(x)
    if dev == "cuda":
        torch.cuda.synchronize()
    out["embed_only_img_s_b256"] = round(8 * 256 / (time.perf_counter() - t), 1)
    for w in (4, 8, 14):
        s = FeatureStore(tempfile.mkdtemp())
        t = time.perf_counter()
        s.get(enc, ds, batch_size=256, num_workers=w, progress=False)
        out[f"store_get_img_s_w{w}"] = round(len(ds) / (time.perf_counter() - t), 1)
    gpu = store.get(enc, ds, batch_size=256, num_workers=14, progress=False)
    out["meta_device"] = gpu.meta["device"]
    # parity with CPU on the first 128 rows (cuDNN may use TF32)
    cpu_enc = get_encoder("random-resnet18", device="cpu")
    sub = ds.subset(np.arange(len(ds)) < 128)  # first rows
    cpu = FeatureStore(tempfile.mkdtemp()).get(cpu_enc, sub, batch_size=64, num_workers=4,
                                               progress=False)
    d = np.abs(np.asarray(cpu.X) - np.asarray(gpu.X[:len(sub)]))
    out["cpu_vs_gpu_max_abs"] = float(d.max())
    out["cpu_vs_gpu_rel"] = float(d.max() / np.abs(cpu.X).max())
    # resize_uint8 on GPU vs CPU for raw 144px images
    raw = torch.stack([decode_file(ds.image_path(i)) for i in range(min(64, len(ds)))])
    a = pre.resize_uint8(raw)
    b = pre.resize_uint8(raw.to(dev)).cpu()
    out["resize_gpu_vs_cpu_pixels_differing"] = int((a != b).sum())
    out["resize_pixels"] = a.numel()
    # loader path vs direct embed on the device
    direct = enc.embed(raw).numpy()
    out["loader_vs_direct_max_abs"] = float(np.abs(direct - np.asarray(gpu.X[:len(raw)])).max())
    # cache hit: new encoder object, must not load
    enc2 = get_encoder("random-resnet18", device=dev)
    t = time.perf_counter()
    store.get(enc2, ds, progress=False)
    out["hit_s"] = round(time.perf_counter() - t, 3)
    out["hit_loaded_weights"] = enc2.loaded
    # torchrun world of one with nccl through the module entry point
    env = {**os.environ}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
           "-m", "fer_bench.features.distributed", "--encoder", "random-resnet18", "--dataset",
           f"synth-wild:n={N},size=144", "--cache-dir", tempfile.mkdtemp(), "--device", dev,
           "--batch-size", "256", "--workers", "8"]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out["torchrun_rc"] = r.returncode
    out["torchrun_s"] = round(time.perf_counter() - t, 1)
    out["torchrun_stdout"] = r.stdout[-800:]
    out["torchrun_stderr"] = r.stderr[-1500:] if r.returncode else ""
    print(json.dumps(out, indent=1))


if __name__ == "__main__":  # the generator and DataLoader may spawn: keep imports inert
    main()
