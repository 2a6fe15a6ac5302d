"""The kNN search of GPUs (fer_bench.probes.knn_device), run here on the CPU through the
same code (backend="torch", device="cpu"), against FAISS's CPU search, the reference."""

import faiss
import numpy as np
import pytest
import torch

from fer_bench.probes import gpu_faiss, knn_device
from fer_bench.probes.fp32 import full_fp32, matmul_precision_flags
from fer_bench.probes.knn import (DEFAULT_KS, KnnProbe, knn_probe, knn_search, search_engine,
                                  weighted_knn_scores)
from fer_bench.probes.normalize import l2_normalize

pytestmark = pytest.mark.usefixtures("one_torch_thread")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _random(seed, n=3000, nq=200, dim=64):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, dim)).astype(np.float32),
            rng.normal(size=(nq, dim)).astype(np.float32), rng.integers(0, 7, n))


def _duplicated(seed, n=3000, nq=200, dim=37, distinct=1500):
    """Every bank row a copy of one of ``distinct`` rows (exact ties everywhere; about two
    copies a row by default), labels drawn per copy (tied rows vote for different classes);
    queries: half copies of bank rows (similarity 1 to a whole tied group), half fresh."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(distinct, dim)).astype(np.float32)
    bank = base[rng.integers(0, distinct, n)]
    queries = np.concatenate([base[rng.integers(0, distinct, nq // 2)],
                              rng.normal(size=(nq - nq // 2, dim)).astype(np.float32)])
    return bank, queries, rng.integers(0, 7, n)


def _exact(bank, queries, idx):
    """float64 cosine similarity of each query to the bank rows ``idx`` (nq, k)."""
    b, q = l2_normalize(bank).astype(np.float64), l2_normalize(queries).astype(np.float64)
    return np.einsum("qd,qkd->qk", q, b[idx])


def _torch_search(bank, queries, k, memory_bytes=2**20):
    return knn_search(bank, queries, k, device="cpu", backend="torch", memory_bytes=memory_bytes)


def _bound(bank):
    return knn_device.float32_dot_error(bank.shape[1])


@pytest.fixture
def sent_to_faiss(monkeypatch):
    """Counts the queries the device search hands to FAISS (a tied group cut at k)."""
    sent = []
    original = knn_device._Search._faiss_on_cpu

    def counting(self, q_np):
        sent.append(len(q_np))
        return original(self, q_np)

    monkeypatch.setattr(knn_device._Search, "_faiss_on_cpu", counting)
    return sent


@pytest.mark.parametrize("k", [20, 200])
@pytest.mark.parametrize("nq", [7, 200])  # FAISS searches few queries with other kernels
def test_duplicated_rows_give_faiss_ids_in_faiss_order(k, nq, sent_to_faiss):
    bank, queries, _ = _duplicated(1, nq=nq)
    sims, idx = knn_search(bank, queries, k)
    dev_sims, dev_idx = _torch_search(bank, queries, k)
    np.testing.assert_array_equal(dev_idx, idx)
    np.testing.assert_allclose(dev_sims, sims, rtol=0, atol=_bound(bank))
    # the lists do hold ties (FAISS: larger id first), ordered by the device path itself
    # for most queries; only those whose k-th row ties with the next went to FAISS
    inside = sims[:, :-1] == sims[:, 1:]
    assert inside.sum() > nq and (idx[:, :-1] > idx[:, 1:])[inside].all()
    assert 0 < sum(sent_to_faiss) < nq


def test_tied_groups_wider_than_the_candidate_margin():
    """60 copies of each row: the k + margin first candidates are all one tied value, so
    the candidates widen to the whole group before the rerank."""
    bank, queries, _ = _duplicated(2, n=1200, nq=40, dim=16, distinct=20)
    for k in (5, 20, 30):
        assert knn_device.candidate_margin(k) + k < 50
        np.testing.assert_array_equal(_torch_search(bank, queries, k)[1],
                                      knn_search(bank, queries, k)[1])


@pytest.mark.parametrize("seed,k", [(3, 20), (4, 200), (5, 100)])
def test_random_rows_give_faiss_ids_but_float32_near_ties(seed, k):
    """Different rows whose similarities lie within float32 rounding of each other are
    ordered by FAISS's own rounding; the device path orders them truly (float64). Every
    other position holds FAISS's id."""
    bank, queries, _ = _random(seed)
    sims, idx = knn_search(bank, queries, k)
    dev_sims, dev_idx = _torch_search(bank, queries, k)
    true_dev, true_faiss = _exact(bank, queries, dev_idx), _exact(bank, queries, idx)
    assert (np.diff(true_dev, axis=1) <= 0).all()  # the device list is in the true order
    differ = dev_idx != idx
    # where the ids differ, FAISS's float32 error (at most the bound on each side) swapped
    # rows that are within it of each other
    assert np.abs(true_dev - true_faiss)[differ].max(initial=0) <= 2 * _bound(bank)
    assert differ.any(axis=1).mean() <= 0.01
    np.testing.assert_allclose(dev_sims, sims, rtol=0, atol=_bound(bank))


@pytest.mark.parametrize("data", [_random, _duplicated])
def test_predictions_are_faiss_predictions(data):
    bank, queries, labels = data(6)
    cpu = knn_probe(bank, labels, queries, 7)
    dev = knn_probe(bank, labels, queries, 7, device="cpu", backend="torch", memory_bytes=2**20)
    assert set(dev) == set(DEFAULT_KS)
    for k in DEFAULT_KS:
        np.testing.assert_array_equal(dev[k], cpu[k], err_msg=f"k={k}")


def test_faiss_candidates_give_the_same_answer_as_torch_candidates():
    """faiss-gpu's code path, fed by a CPU flat index (any flat index proposes the same
    kind of float32 candidates)."""
    bank, queries, _ = _duplicated(7, nq=60)
    b, q = l2_normalize(bank), l2_normalize(queries)
    index = faiss.IndexFlatIP(b.shape[1])
    index.add(b)
    source = knn_device.FaissCandidates(index, torch.device("cpu"))
    for k in (10, 200):
        via_faiss = _gather(knn_device.exact_search_blocks(b, q, k, "cpu", memory_bytes=2**18,
                                                           candidates=source))
        via_torch = _gather(knn_device.exact_search_blocks(b, q, k, "cpu", memory_bytes=2**18))
        np.testing.assert_array_equal(via_faiss[1], via_torch[1])
        np.testing.assert_array_equal(via_faiss[0], via_torch[0])
        np.testing.assert_array_equal(via_faiss[1], knn_search(bank, queries, k)[1])


class _CoarseIndex:
    """A flat index whose similarities are rounded to bf16, like reduced-precision GPU
    products: past the error bound the search must not trust them."""

    def __init__(self, bank):
        self.index = faiss.IndexFlatIP(bank.shape[1])
        self.index.add(bank)

    def search(self, q, k):
        sims, idx = self.index.search(q, k)
        return torch.from_numpy(sims).bfloat16().float().numpy(), idx


def test_reduced_precision_candidates_are_replaced_by_full_float32_ones():
    bank, queries, _ = _random(8, n=800, nq=30)
    b, q = l2_normalize(bank), l2_normalize(queries)
    source = knn_device.FaissCandidates(_CoarseIndex(b), torch.device("cpu"))
    with pytest.warns(RuntimeWarning, match="searching with torch instead"):
        sims, idx = _gather(knn_device.exact_search_blocks(b, q, 20, "cpu",
                                                           memory_bytes=2**18,
                                                           candidates=source))
    np.testing.assert_array_equal(idx, _torch_search(bank, queries, 20)[1])


def test_ties_are_broken_by_faiss_rule_in_hand_made_case():
    """Four equal rows and one better: FAISS lists the better one, then the equal ones by
    decreasing id; k=3 cuts the tied group, which FAISS itself decides."""
    bank = np.array([[1, 0], [1, 0], [2, 1], [1, 0], [1, 0]], dtype=np.float32)
    query = np.array([[1.0, 0.6]], dtype=np.float32)
    for k in (5, 3):
        dev = _torch_search(bank, query, k)[1]
        np.testing.assert_array_equal(dev, knn_search(bank, query, k)[1])
    np.testing.assert_array_equal(_torch_search(bank, query, 5)[1], [[2, 4, 3, 1, 0]])


@pytest.fixture
def reduced_precision_matmuls():
    """The process asked for TF32 (CUDA) and bf16 (oneDNN) float32 matmuls."""
    flags = matmul_precision_flags()
    if not flags:
        pytest.skip("torch < 2.9: no per-backend matmul precision")
    before = [f.fp32_precision for f in flags]
    reduced = ["bf16" if f is torch.backends.mkldnn.matmul else "tf32" for f in flags]
    for f, value in zip(flags, reduced):
        f.fp32_precision = value
    yield flags, reduced
    for f, value in zip(flags, before):
        f.fp32_precision = value


def test_full_fp32_overrides_a_reduced_precision_setting_and_restores_it(
        reduced_precision_matmuls):
    flags, reduced = reduced_precision_matmuls
    with full_fp32():
        assert [f.fp32_precision for f in flags] == ["ieee"] * len(flags)
    assert [f.fp32_precision for f in flags] == reduced


def test_search_is_exact_under_a_reduced_precision_setting(reduced_precision_matmuls):
    bank, queries, _ = _duplicated(9, n=800, nq=20)
    _, idx = _torch_search(bank, queries, 20)
    np.testing.assert_array_equal(idx, knn_search(bank, queries, 20)[1])


def test_engine_follows_device_and_backend():
    assert search_engine("auto", "flat", None) == "faiss"
    assert search_engine("auto", "flat", "cpu") == "faiss"
    assert search_engine("auto", "ivf", "cuda:0") == "faiss"  # approximate: CPU only
    assert search_engine("torch", "flat", "cpu") == "torch"
    expected = "faiss-gpu" if gpu_faiss.available() else "torch"
    assert search_engine("auto", "flat", "cuda") == expected
    with pytest.raises(ValueError, match="backend"):
        search_engine("cupy", "flat", "cuda")
    with pytest.raises(ValueError, match="flat"):
        search_engine("torch", "hnsw", "cuda")
    with pytest.raises(ValueError, match="faiss-gpu"):
        search_engine("faiss-gpu", "flat", "cpu")


def test_default_cpu_search_is_faiss_bit_for_bit():
    """device "cpu" (what a CPU run passes) and None are the same FAISS search."""
    bank, queries, labels = _duplicated(10, nq=50)
    index = faiss.IndexFlatIP(bank.shape[1])
    index.add(l2_normalize(bank))
    sims, idx = index.search(l2_normalize(queries), 20)
    for device in (None, "cpu"):
        got_sims, got_idx = knn_search(bank, queries, 20, device=device)
        np.testing.assert_array_equal(got_idx, idx)
        np.testing.assert_array_equal(got_sims, sims)
    probe = KnnProbe(device="cpu").fit(bank, labels, 7)
    expected = weighted_knn_scores(sims, idx, labels, 7).argmax(axis=1)
    np.testing.assert_array_equal(probe.predict(queries), expected)


def test_knn_probe_on_a_cuda_device_runs_the_device_search(monkeypatch):
    """The probe's device (the run's, from protocols) takes it to the device search; here
    that search is pointed at the CPU, and answers as FAISS does."""
    seen = []
    search = knn_device.exact_search_blocks

    def on_the_cpu(bank, queries, k, device, **options):
        seen.append(str(device))
        return search(bank, queries, k, "cpu", **options)

    monkeypatch.setattr(knn_device, "exact_search_blocks", on_the_cpu)
    monkeypatch.setattr(gpu_faiss, "available", lambda: False)
    bank, queries, labels = _duplicated(13, nq=60)
    probe = KnnProbe(device="cuda:1", ks=(1, 200)).fit(bank, labels, 7)
    reference = KnnProbe(device="cpu", ks=(1, 200)).fit(bank, labels, 7)
    for k, (predictions, _) in probe.variant_predictions(queries).items():
        np.testing.assert_array_equal(predictions,
                                      reference.variant_predictions(queries)[k][0])
    # votes exp(sim / T) from similarities a few float32 units apart
    rtol = np.expm1(2 * _bound(bank) / probe.T)
    np.testing.assert_allclose(probe.scores(queries), reference.scores(queries), rtol=rtol)
    assert seen and set(seen) == {"cuda:1"}


def test_float32_error_bound_holds_for_unit_rows():
    rng = np.random.default_rng(11)
    for dim in (8, 512, 2048):
        a = l2_normalize(rng.normal(size=(200, dim)))
        b = l2_normalize(rng.normal(size=(300, dim)) + 3 * a[:1])  # similar rows too
        err = np.abs((a @ b.T).astype(np.float64) - a.astype(np.float64) @ b.T.astype(np.float64))
        assert err.max() < knn_device.float32_dot_error(dim) / 4


def _gather(blocks):
    parts = list(blocks)
    return (np.concatenate([s for _, s, _ in parts]), np.concatenate([i for _, _, i in parts]))


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_cuda_search_gives_faiss_neighbours_and_predictions(backend):
    for data in (_duplicated, _random):
        bank, queries, labels = data(12, n=20000, nq=500)
        sims, idx = knn_search(bank, queries, 200)
        gpu_sims, gpu_idx = knn_search(bank, queries, 200, device="cuda", backend=backend)
        differ = gpu_idx != idx
        near = np.abs(_exact(bank, queries, gpu_idx) - _exact(bank, queries, idx))
        assert near[differ].max(initial=0) <= 2 * _bound(bank)
        if data is _duplicated:
            assert not differ.any()
        np.testing.assert_allclose(gpu_sims, sims, rtol=0, atol=_bound(bank))
        cpu = knn_probe(bank, labels, queries, 7)
        gpu = knn_probe(bank, labels, queries, 7, device="cuda", backend=backend)
        for k in DEFAULT_KS:
            np.testing.assert_array_equal(gpu[k], cpu[k])
