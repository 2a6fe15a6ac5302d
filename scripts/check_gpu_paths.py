"""Device check of fer-bench's GPU paths, in one run (not a test; prints as it goes).

1. kNN: exact search at n=280,000 x 512 (generated features, 8,192 queries, k=200 as the
   probe searches) on the CPU (FAISS, the reference) and on the GPU (torch matmul, and
   faiss-gpu when installed). Parity: predictions identical at every logged k; ids
   identical except where FAISS's float32 rounding swapped rows within its error bound
   (at most 1% of queries); on data of duplicated rows (exact ties) ids identical.
2. Linear probe (torch L-BFGS, C swept) on CUDA vs CPU on generated cases: the same
   chosen C, test mean class accuracy within 0.002.
3. Extraction: random-resnet18 fp32 vs bf16 (autocast, channels_last) images/s on the
   GPU, and bf16 vs fp32 feature cosine on generated faces, through the feature store.

Prints every figure as measured, the ratios (CPU time / GPU time, bf16 / fp32 speed),
a JSON summary (also to ``--json``), and exits 1 when a parity check fails or a part
breaks.

On a GPU machine, from the repo root (the device image has torch but not faiss; carry
its wheel, fetched here once with
``python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12
--implementation cp --platform manylinux_2_28_x86_64 -d .whl faiss-cpu==1.15.1``)::

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl &&
    PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 scripts/check_gpu_paths.py --json $OUT/gpu.json

(carry [".whl"], timeout_s 540; about 3-4 minutes). Here, on the CPU, the same code at
toy sizes (GPU paths run on the CPU: torch kNN, bf16 autocast)::

    .venv/bin/python scripts/check_gpu_paths.py --cpu-dry-run
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCORE_TOLERANCE = 0.002  # linear probe: |test mean class accuracy, GPU - CPU|
NEAR_TIE_ROWS = 0.01     # kNN: share of queries whose ids may differ by float32 near-ties
MIN_BF16_COSINE = 0.98   # extraction: a broken bf16 path gives unrelated features


class Report(dict):
    """Prints every figure as it is recorded: a run cut short still shows what it found."""

    def __setitem__(self, key, value):
        print(f"{key} = {value}", flush=True)
        super().__setitem__(key, value)


def import_fer_bench() -> None:
    """fer-bench installed, or else its source laid out as installed (encoders/ and
    protocols/ install as fer_bench.encoders and fer_bench.protocols) on sys.path."""
    try:
        import fer_bench.encoders  # noqa: F401
        return
    except ImportError:
        pass
    layout = Path(tempfile.mkdtemp(prefix="fer-src-"))
    shutil.copytree(REPO / "fer_bench", layout / "fer_bench")
    shutil.copytree(REPO / "encoders", layout / "fer_bench" / "encoders")
    shutil.copytree(REPO / "protocols", layout / "fer_bench" / "protocols")
    sys.path.insert(0, str(layout))


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(on: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its wall time, device ``on``'s queue drained both ends."""
    sync(on)
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    sync(on)
    return result, time.perf_counter() - start


# -- 1. kNN -------------------------------------------------------------------------------------
def clustered(rng, n: int, dim: int, classes: int = 7, per_class: int = 6):
    """Gaussian clusters, several per class (features of a decent encoder, roughly)."""
    centres = rng.standard_normal((classes * per_class, dim), dtype=np.float32)
    cluster = rng.integers(0, len(centres), n)
    X = centres[cluster] * 0.6 + rng.standard_normal((n, dim), dtype=np.float32)
    return X, cluster // per_class


def knn_data(kind: str, n: int, n_queries: int, dim: int, seed: int):
    rng = np.random.default_rng(seed)
    if kind == "clustered":
        bank, labels = clustered(rng, n, dim)
        return bank, labels, clustered(rng, n_queries, dim)[0]
    # every row about twice (exact ties), labels per copy; half the queries are copies
    base, _ = clustered(rng, n // 2, dim)
    bank = base[rng.integers(0, len(base), n)]
    queries = np.concatenate([base[rng.integers(0, len(base), n_queries // 2)],
                              clustered(rng, n_queries - n_queries // 2, dim)[0]])
    return bank, rng.integers(0, 7, n), queries


def knn_check(args, device: str, out: Report, failures: list[str]) -> None:
    from fer_bench.probes import gpu_faiss
    from fer_bench.probes.knn import DEFAULT_KS, DEFAULT_T, knn_search, weighted_knn_scores
    from fer_bench.probes.knn_device import float32_dot_error
    from fer_bench.probes.normalize import l2_normalize

    k = max(DEFAULT_KS)
    memory = args.knn_memory_mb * 2**20
    engines = ["torch"] + (["faiss-gpu"] if device != "cpu" and gpu_faiss.available() else [])
    out["knn_engines"] = engines
    for kind, n in (("clustered", args.knn_n), ("duplicated", args.tie_n)):
        tag = f"knn_{kind}"
        bank, labels, queries = knn_data(kind, n, args.knn_queries, args.dim, seed=1)
        out[f"{tag}_shape"] = f"bank {n} x {args.dim}, {len(queries)} queries, k={k}"
        (sims, idx), cpu_s = timed("cpu", knn_search, bank, queries, k)
        out[f"{tag}_cpu_faiss_s"] = round(cpu_s, 3)
        cpu_pred = {kk: weighted_knn_scores(sims[:, :kk], idx[:, :kk], labels, 7,
                                            DEFAULT_T).argmax(1) for kk in DEFAULT_KS}
        bound = float32_dot_error(args.dim)
        for engine in engines:
            name = f"{tag}_{engine}"
            knn_search(bank[:2000], queries[:64], 10, device=device, backend=engine)  # warm-up
            (dev_sims, dev_idx), dev_s = timed(device, knn_search, bank, queries, k,
                                               device=device, backend=engine,
                                               memory_bytes=memory)
            out[f"{name}_s"] = round(dev_s, 3)
            out[f"{name}_speedup_vs_cpu"] = round(cpu_s / dev_s, 2)
            differ = dev_idx != idx
            rows = np.flatnonzero(differ.any(axis=1))
            gap = 0.0
            if len(rows):  # the true (float64) similarities of the swapped rows
                b, q = l2_normalize(bank).astype(np.float64), l2_normalize(queries[rows])
                q = q.astype(np.float64)
                true_dev = np.einsum("qd,qkd->qk", q, b[dev_idx[rows]])
                true_cpu = np.einsum("qd,qkd->qk", q, b[idx[rows]])
                gap = float(np.abs(true_dev - true_cpu)[differ[rows]].max())
            out[f"{name}_queries_with_other_ids"] = f"{len(rows)} of {len(queries)}"
            out[f"{name}_largest_true_gap_of_swapped_rows"] = f"{gap:.3g} (bound {2 * bound:.3g})"
            out[f"{name}_max_abs_sim_diff"] = float(np.abs(dev_sims - sims).max())
            wrong = {kk: int((weighted_knn_scores(dev_sims[:, :kk], dev_idx[:, :kk], labels, 7,
                                                  DEFAULT_T).argmax(1) != p).sum())
                     for kk, p in cpu_pred.items()}
            out[f"{name}_predictions_differing_by_k"] = wrong
            ok = (not any(wrong.values()) and gap <= 2 * bound
                  and len(rows) <= NEAR_TIE_ROWS * len(queries)
                  and (kind != "duplicated" or len(rows) == 0))
            out[f"{name}_parity"] = "ok" if ok else "FAILED"
            if not ok:
                failures.append(name)
        del bank, queries, sims, idx


# -- 2. linear probe ----------------------------------------------------------------------------
def probe_case(seed: int, n: int, dim: int, classes: int, separation: float):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((classes, dim)) * separation
    share = rng.dirichlet(np.full(classes, 2.0))

    def part(m):
        y = rng.choice(classes, m, p=share)
        X = means[y] + rng.standard_normal((m, dim)) + 2.0
        return X.astype(np.float32), y

    return part(n), part(n // 4), part(n // 2)


def probe_check(args, device: str, out: Report, failures: list[str]) -> None:
    from fer_bench.metrics import classification_metrics
    from fer_bench.probes.linear import fit_logistic, linear_probe

    cases = {"7-class": (0, 7, 0.12), "binary": (1, 2, 0.08)}
    warm = probe_case(9, 200, 16, 3, 1.0)[0]
    fit_logistic(*warm, 3, 1.0, device=device)  # CUDA context, cuBLAS and cusolver up
    for name, (seed, classes, separation) in cases.items():
        tag = f"probe_{name}"
        (Xt, yt), (Xv, yv), (Xs, ys) = probe_case(seed, args.probe_n, args.dim, classes,
                                                  separation)
        out[f"{tag}_shape"] = f"train {len(yt)}, val {len(yv)}, test {len(ys)}, dim {args.dim}"
        # the dry run stands in for the GPU's other order of float32 sums by reversing rows
        sides = ("cpu", device) if device != "cpu" else ("cpu", "cpu-rows-reversed")
        runs = []
        for side in sides:
            on = "cpu" if side.startswith("cpu") else side
            order = slice(None, None, -1) if side == "cpu-rows-reversed" else slice(None)
            result, seconds = timed(on, linear_probe, Xt[order], yt[order], Xv[order],
                                    yv[order], Xs, classes, device=on)
            score = classification_metrics(ys, result.test_pred, classes)["mean_class_accuracy"]
            runs.append((result, score, seconds))
            out[f"{tag}_{side}"] = {"C": result.best_C, "score": round(score, 4),
                                    "s": round(seconds, 2), "fits": result.n_fits,
                                    "iterations": sum(p["n_iter"] for p in result.path)}
        (ref, ref_score, ref_s), (other, other_score, other_s) = runs
        out[f"{tag}_speedup_vs_cpu"] = round(ref_s / other_s, 2)
        out[f"{tag}_prediction_agreement"] = float((other.test_pred == ref.test_pred).mean())
        ok = other.best_C == ref.best_C and abs(other_score - ref_score) <= SCORE_TOLERANCE
        out[f"{tag}_parity"] = "ok" if ok else "FAILED"
        if not ok:
            failures.append(tag)


# -- 3. extraction ------------------------------------------------------------------------------
def extraction_check(args, device: str, out: Report, failures: list[str]) -> None:
    import torch

    from fer_bench.datasets.registry import load_dataset
    from fer_bench.encoder_registry import get_encoder
    from fer_bench.features.key import feature_key
    from fer_bench.features.store import FeatureStore

    def encoder(precision):
        enc = get_encoder("random-resnet18", device=device)
        enc.precision = precision
        return enc

    fp32, bf16 = encoder("fp32"), encoder("bf16")
    batch = torch.randint(0, 256, (args.batch, 3, 112, 112), dtype=torch.uint8)
    if device != "cpu":
        batch = batch.pin_memory()
    rates = {}
    for enc in (fp32, bf16):
        for _ in range(2):
            enc.embed(batch)  # weights, cuDNN's algorithm search
        _, seconds = timed(device, lambda enc: [enc.embed(batch) for _ in range(args.batches)],
                           enc)
        rates[enc.precision] = args.batch * args.batches / seconds
        out[f"embed_{enc.precision}_img_per_s"] = round(rates[enc.precision], 1)
    out["embed_bf16_speedup_vs_fp32"] = round(rates["bf16"] / rates["fp32"], 2)

    faces = load_dataset(f"synth-wild:n={args.faces},size=112,workers={args.workers}")
    store = FeatureStore(Path(tempfile.mkdtemp(prefix="fer-features-")))
    got = {}
    for enc in (fp32, bf16):
        feats, seconds = timed(device, store.get, enc, faces, batch_size=args.batch,
                               num_workers=args.workers, progress=False)
        got[enc.precision] = np.array(feats.X)  # a copy: the entry is a read-only map
        out[f"store_get_{enc.precision}_s"] = round(seconds, 2)
        if feats.key != feature_key(enc.info, faces, enc.precision):
            failures.append(f"store_key_{enc.precision}")
    a, b = torch.from_numpy(got["fp32"]), torch.from_numpy(got["bf16"])
    cosine = torch.nn.functional.cosine_similarity(a, b)
    out["bf16_vs_fp32_cosine_min"] = round(float(cosine.min()), 6)
    out["bf16_vs_fp32_cosine_mean"] = round(float(cosine.mean()), 6)
    out["bf16_vs_fp32_max_rel_diff"] = float((a - b).abs().max() / a.abs().max())
    if device != "cpu":  # for scale: how far fp32 on this GPU is from fp32 on the CPU
        m = min(64, len(faces))
        cpu = FeatureStore(Path(tempfile.mkdtemp(prefix="fer-features-"))).get(
            get_encoder("random-resnet18", device="cpu"), faces.subset(np.arange(len(faces)) < m),
            batch_size=32, num_workers=args.workers, progress=False)
        cpu_cos = torch.nn.functional.cosine_similarity(torch.from_numpy(np.array(cpu.X)), a[:m])
        out["gpu_fp32_vs_cpu_fp32_cosine_min"] = round(float(cpu_cos.min()), 6)
    ok = bool(cosine.min() >= MIN_BF16_COSINE) and not torch.equal(a, b)
    out["extraction_parity"] = "ok" if ok else "FAILED"
    if not ok:
        failures.append("extraction")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="toy sizes, GPU code paths on the CPU (torch kNN, bf16 autocast)")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--parts", default="knn,probe,extraction")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--knn-n", type=int, default=280_000)
    parser.add_argument("--tie-n", type=int, default=100_000)
    parser.add_argument("--knn-queries", type=int, default=8192)
    parser.add_argument("--knn-memory-mb", type=int, default=256, help="the probe's default")
    parser.add_argument("--probe-n", type=int, default=24_000, help="training rows")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--faces", type=int, default=512)
    parser.add_argument("--workers", type=int, default=min(14, os.cpu_count() or 1))
    args = parser.parse_args()
    if args.cpu_dry_run:
        args.dim, args.knn_n, args.tie_n, args.knn_queries = 64, 6000, 4000, 300
        args.probe_n, args.batch, args.batches, args.faces = 1600, 8, 1, 24
        args.workers = min(args.workers, 2)
    os.environ.setdefault("FER_BENCH_CACHE", tempfile.mkdtemp(prefix="fer-cache-"))
    import_fer_bench()
    import torch

    device = "cpu" if args.cpu_dry_run else "cuda"
    out, failures = Report(), []
    out["device"] = torch.cuda.get_device_name() if device == "cuda" else "cpu (dry run)"
    out["torch"] = torch.__version__
    out["cpu_threads"] = torch.get_num_threads()
    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device; use --cpu-dry-run on a machine without one", file=sys.stderr)
        return 2
    checks = {"knn": knn_check, "probe": probe_check, "extraction": extraction_check}
    started = time.perf_counter()
    for part in args.parts.split(","):
        t0 = time.perf_counter()
        try:
            checks[part](args, device, out, failures)
        except Exception:  # one broken part must not hide the others' figures
            out[f"{part}_error"] = traceback.format_exc(limit=-4)
            failures.append(part)
        out[f"{part}_total_s"] = round(time.perf_counter() - t0, 1)
    out["total_s"] = round(time.perf_counter() - started, 1)
    out["failures"] = failures
    summary = json.dumps(out, indent=1, default=str)
    print(summary)
    if args.json:
        args.json.write_text(summary)
    return 1 if failures else 0


if __name__ == "__main__":  # the face generator spawns workers: keep imports inert
    sys.exit(main())
