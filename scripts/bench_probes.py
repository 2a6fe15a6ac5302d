"""Benchmark the probes against scikit-learn on synthetic clustered features.

Not a test: prints times and ratios measured in one run, with the thread counts used.

    python scripts/bench_probes.py                    # both parts, issue sizes (slow)
    python scripts/bench_probes.py --part knn --n 20000 --queries 1000   # quick check

kNN: exact FAISS search vs ``KNeighborsClassifier(algorithm="brute", metric="cosine")``
(identical predictions expected), its speed as a fraction of a float32 matrix-product
ceiling measured here, and an IVF index side by side (recall of the exact neighbours,
accuracy, speed-up).

Linear: the whole regularisation sweep (the Cs of DEFAULT_CS up to where the probe stops
climbing, plus the refit on train + val) with the warm-started torch L-BFGS vs
scikit-learn's lbfgs fitting every C of DEFAULT_CS from scratch with its defaults, both
choosing C by the probe's tie rule; every fit's objective is compared with a float64 fit
to a tight tolerance.

Data: Gaussian clusters in a 32-dimensional latent space (several clusters per class,
classes overlapping) embedded in d dimensions with isotropic noise and 10% label noise, so
neither probe is perfect and accuracy differences mean something. Real embeddings have a
low intrinsic dimension too, which is what approximate indexes rely on.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits


def clustered_features(n, d, n_classes, seed=0, latent_dim=32, clusters_per_class=16,
                       class_spread=0.5, cluster_spread=1.0, within=0.5, noise=0.1,
                       label_noise=0.1):
    rng = np.random.default_rng(seed)
    class_means = class_spread * rng.standard_normal((n_classes, latent_dim))
    centres = np.repeat(class_means, clusters_per_class, axis=0) + cluster_spread * (
        rng.standard_normal((n_classes * clusters_per_class, latent_dim)))
    basis = np.linalg.qr(rng.standard_normal((d, latent_dim)))[0].T
    cluster = rng.integers(0, len(centres), size=n)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 65536):
        c = cluster[s : s + 65536]
        latent = centres[c] + within * rng.standard_normal((len(c), latent_dim))
        X[s : s + 65536] = latent @ basis + noise * rng.standard_normal((len(c), d),
                                                                        dtype=np.float32)
    y = cluster // clusters_per_class
    flip = rng.random(n) < label_noise
    y[flip] = rng.integers(0, n_classes, size=int(flip.sum()))
    return X, y


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def matmul_ceiling(queries: np.ndarray, bank: np.ndarray, block: int = 16384) -> float:
    """GFLOP/s of float32 numpy products queries @ bank.T over the whole bank, in blocks
    (the full product would not fit in memory); the best of two passes."""
    flops = 2.0 * len(queries) * len(bank) * queries.shape[1]
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        for s in range(0, len(bank), block):
            queries @ bank[s : s + block].T
        best = min(best, time.perf_counter() - started)
    return flops / best / 1e9


def bench_knn(args) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    from fer_bench.probes.knn import (DEFAULT_K, DEFAULT_T, build_index, knn_probe, search_index,
                                      weighted_knn_scores)
    from fer_bench.probes.normalize import l2_normalize

    n, nq, k, T = args.n, args.queries, DEFAULT_K, DEFAULT_T
    X, y = clustered_features(n + nq, args.d, args.classes, seed=1)
    bank, bank_y, queries, query_y = X[:n], y[:n], X[n:], y[n:]
    print(f"\n== kNN: bank {n} x {args.d}, {nq} queries, k={k}, T={T}, {args.classes} classes")

    bank_n, queries_n = l2_normalize(bank), l2_normalize(queries)
    ceiling = matmul_ceiling(queries_n, bank_n)
    print(f"float32 matmul ceiling (numpy, same shape): {ceiling:.1f} GFLOP/s")

    preds, t_probe = timed(knn_probe, bank, bank_y, queries, args.classes, ks=(k,), T=T,
                           device=args.device)
    ours = preds[k]
    engine = "FAISS flat" if args.device is None else f"torch exact on {args.device}"
    print(f"fer-bench knn_probe ({engine}, k={k}, incl. normalising + index): {t_probe:.2f} s, "
          f"accuracy {np.mean(ours == query_y):.4f}")
    _, t_all = timed(knn_probe, bank, bank_y, queries, args.classes, device=args.device)
    print(f"fer-bench knn_probe, all k in (1,10,20,100,200) from one k=200 search: {t_all:.2f} s")

    index = build_index(bank_n, "flat")
    # Best of two, like the ceiling: other processes on a shared machine only slow things down.
    blocks, t_search = min((timed(lambda: list(search_index(index, queries_n, k)))
                            for _ in range(2)),
                           key=lambda r: r[1])
    exact_idx = np.concatenate([b[2] for b in blocks])
    rate = 2.0 * n * nq * args.d / t_search / 1e9
    print(f"FAISS flat search only: {t_search:.2f} s = {rate:.1f} GFLOP/s = "
          f"{rate / ceiling:.0%} of the ceiling")

    if not args.skip_sklearn:
        clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric="cosine",
                                   weights=lambda dist: np.exp((1 - dist) / T))
        ref, t_sk = timed(lambda: clf.fit(bank, bank_y).predict(queries))
        same = int(np.sum(ref == ours))
        print(f"sklearn KNeighborsClassifier(brute, cosine): {t_sk:.2f} s; "
              f"speed-up {t_sk / t_probe:.1f}x; identical predictions {same}/{nq}")

    print("IVF (approximate) vs exact flat, search time only:")
    ivf, t_ivf_build = timed(build_index, bank_n, "ivf")
    print(f"  IVF build (nlist {ivf.nlist}, k-means on <= 64 points per cell): "
          f"{t_ivf_build:.2f} s; default nprobe {ivf.nprobe}")
    exact_acc = np.mean(ours == query_y)
    for nprobe in args.nprobes:
        blocks, t = timed(lambda p=nprobe: list(search_index(ivf, queries_n, k, nprobe=p)))
        sims = np.concatenate([b[1] for b in blocks])
        idx = np.concatenate([b[2] for b in blocks])
        recall = np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(idx, exact_idx)])
        acc = np.mean(weighted_knn_scores(sims, idx, bank_y, args.classes, T).argmax(1) == query_y)
        print(f"  nprobe {nprobe:4d}: {t:.3f} s, {t_search / t:5.1f}x faster, "
              f"recall@{k} {recall:.4f}, accuracy {acc:.4f} "
              f"({100 * (acc - exact_acc):+.2f} points vs exact)")


def objective64(X, y, model, C) -> float:
    """scikit-learn's objective of a fitted model, in float64, blockwise."""
    coef = np.asarray(model.coef, np.float64)
    b = np.asarray(model.intercept, np.float64)
    total = 0.0
    for s in range(0, len(X), 32768):
        Z = X[s : s + 32768].astype(np.float64) @ coef.T + b
        log_norm = np.logaddexp.reduce(Z, axis=1)
        total += np.sum(log_norm - Z[np.arange(len(Z)), y[s : s + 32768]])
    return C * total + 0.5 * np.sum(coef**2)


class _Coefs:  # a scikit-learn model seen through LogisticModel's attribute names
    def __init__(self, clf):
        self.coef, self.intercept = clf.coef_, clf.intercept_


def bench_linear(args) -> None:
    from sklearn.linear_model import LogisticRegression

    from fer_bench.metrics import classification_metrics
    from fer_bench.probes.linear import DEFAULT_CS, fit_logistic, linear_probe, select_C
    from fer_bench.probes.normalize import l2_normalize
    from fer_bench.splits import stratified_val_split

    n = args.n
    X, y = clustered_features(n + 10000, args.d, args.classes, seed=2)
    X_test, y_test = X[n:], y[n:]
    X, y = l2_normalize(X[:n]), y[:n]
    tr, va = stratified_val_split(y, 0.1, seed=0)
    print(f"\n== Linear: {len(tr)} train + {len(va)} val (refit on {n}) x {args.d}, "
          f"{args.classes} classes, {len(DEFAULT_CS)} values of C "
          f"({DEFAULT_CS[0]:g}..{DEFAULT_CS[-1]:g}) + refit")

    result, t_ours = timed(linear_probe, X[tr], y[tr], X[va], y[va], X_test, args.classes,
                           device=args.device)
    iters = [e["n_iter"] for e in result.path]
    codes = {"tol": "t", "precision": "p", "max_iter": "m"}
    stops = "".join(codes[e.get("stop", "tol")] for e in result.path)
    print(f"fer-bench linear_probe (torch L-BFGS float32 on {args.device or 'cpu'}, "
          f"warm-started path): {t_ours:.1f} s, "
          f"iterations per fit {iters} (stopped on: {stops}; t tol, p float precision, "
          f"m max_iter), "
          f"best C {result.best_C:g}, test accuracy {np.mean(result.test_pred == y_test):.4f}")

    sk_models, t_sk = {}, 0.0
    if not args.skip_sklearn:
        for C in DEFAULT_CS:
            clf, t = timed(LogisticRegression(C=C).fit, X[tr], y[tr])
            t_sk += t
            sk_models[C] = clf
        val = {C: classification_metrics(y[va], m.predict(X[va]), args.classes)[
                   "mean_class_accuracy"]
               for C, m in sk_models.items()}
        sk_best = select_C(val)  # the probe's own tie rule
        refit, t = timed(LogisticRegression(C=sk_best).fit, X, y)
        t_sk += t
        sk_iters = [int(m.n_iter_[0]) for m in sk_models.values()] + [int(refit.n_iter_[0])]
        print(f"sklearn LogisticRegression(lbfgs, defaults) from scratch per C: {t_sk:.1f} s, "
              f"iterations {sk_iters}, "
              f"best C {sk_best:g}; speed-up {t_sk / t_ours:.2f}x")

    if args.no_reference:
        return
    print("float64 reference (own torch fit, tol 1e-12, warm-started) and relative objective gaps:")
    ref_started = time.perf_counter()
    ref_model, worst_ours, worst_sk = None, 0.0, 0.0
    fits = [(e["C"], "sweep") for e in result.path if e["stage"] == "sweep"]
    fits.append((result.best_C, "refit"))
    for (C, stage), entry in zip(fits, result.path):
        rows = slice(None) if stage == "refit" else tr
        ref_model = fit_logistic(X[rows], y[rows], args.classes, C, init=ref_model,
                                 dtype=torch.float64,
                                 tol=1e-12, max_iter=20000, device=args.device)
        ref = objective64(X[rows], y[rows], ref_model, C)
        gap_ours = (entry["objective"] - ref) / ref
        line = f"  {stage:5s} C={C:<9.3g} ours {gap_ours:+.1e}"
        worst_ours = max(worst_ours, gap_ours)
        if stage == "sweep" and C in sk_models:
            gap_sk = (objective64(X[rows], y[rows], _Coefs(sk_models[C]), C) - ref) / ref
            worst_sk = max(worst_sk, gap_sk)
            line += f"  sklearn {gap_sk:+.1e}"
        print(line)
    print(f"  worst gap: ours {worst_ours:.1e}, sklearn {worst_sk:.1e} "
          f"(reference took {time.perf_counter() - ref_started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["knn", "linear", "all"], default="all")
    parser.add_argument("--n", type=int, default=280_000, help="bank / training samples")
    parser.add_argument("--d", type=int, default=512)
    parser.add_argument("--queries", type=int, default=4000)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="for torch, FAISS and BLAS")
    parser.add_argument("--nprobes", type=int, nargs="+", default=[2, 4, 8, 16])
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the float64 reference fits")
    parser.add_argument("--device", default=None, help="torch device for our probes, e.g. cuda")
    args = parser.parse_args()

    import faiss

    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        pools = ", ".join(f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info())
        coretype = os.environ.get("OPENBLAS_CORETYPE", "unset")
        print(f"threads: torch={torch.get_num_threads()} faiss={faiss.omp_get_max_threads()} "
              f"{pools} (cpu_count {os.cpu_count()}, OPENBLAS_CORETYPE={coretype})")
        if args.part in ("knn", "all"):
            bench_knn(args)
        if args.part in ("linear", "all"):
            bench_linear(args)


if __name__ == "__main__":
    main()
