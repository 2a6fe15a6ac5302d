"""kNN probe: hand-computed votes, FAISS vs brute force, parity with scikit-learn."""

import math

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from fer_bench.probes.knn import (DEFAULT_K, DEFAULT_T, build_index, knn_probe, knn_search,
                                  search_index, weighted_knn_scores)

# Four unit vectors in 2-D; the class of each is in the comment.
BANK = np.array(
    [
        [1.0, 0.0],  # b0, class 0
        [0.0, 1.0],  # b1, class 1
        [-1.0, 0.0],  # b2, class 1
        [0.6, 0.8],  # b3, class 2
    ],
    dtype=np.float32,
)
BANK_Y = np.array([0, 1, 1, 2])
N_CLASSES = 4  # class 3 is declared but has no bank sample
QUERIES = np.array(
    [
        [1.0, 0.0],  # q0: cos to b0..b3 = 1, 0, -1, 0.6   -> order b0, b3, b1, b2
        [-0.6, 0.8],  # q1: cos = -0.6, 0.8, 0.6, 0.28      -> order b1, b2, b3, b0
        [0.8, 0.6],  # q2: cos = 0.8, 0.6, -0.8, 0.96       -> order b3, b0, b1, b2
    ],
    dtype=np.float32,
)


def test_defaults_are_the_papers():
    assert DEFAULT_K == 20 and DEFAULT_T == 0.07


def test_hand_computed_neighbours_in_order():
    sims, idx = knn_search(BANK, QUERIES, k=3)
    np.testing.assert_array_equal(idx, [[0, 3, 1], [1, 2, 3], [3, 0, 1]])
    np.testing.assert_allclose(sims, [[1.0, 0.6, 0.0], [0.8, 0.6, 0.28], [0.96, 0.8, 0.6]],
                               atol=1e-6)


def test_hand_computed_votes_with_unit_temperature():
    sims, idx = knn_search(BANK, QUERIES, k=3)
    e = math.exp
    # k=2 -- q0: class 0 e^1 = 2.71828, class 2 e^0.6 = 1.82212
    #        q1: class 1 e^0.8 + e^0.6 = 2.22554 + 1.82212 = 4.04766
    #        q2: class 2 e^0.96 = 2.61170, class 0 e^0.8 = 2.22554
    expected_k2 = [[e(1), 0, e(0.6), 0], [0, e(0.8) + e(0.6), 0, 0], [e(0.8), 0, e(0.96), 0]]
    np.testing.assert_allclose(
        weighted_knn_scores(sims[:, :2], idx[:, :2], BANK_Y, N_CLASSES, T=1.0), expected_k2,
        rtol=1e-6
    )
    # k=3 adds q0: class 1 e^0 = 1; q1: class 2 e^0.28 = 1.32313; q2: class 1 e^0.6 = 1.82212
    expected_k3 = [[e(1), 1, e(0.6), 0], [0, e(0.8) + e(0.6), e(0.28), 0],
                   [e(0.8), e(0.6), e(0.96), 0]]
    scores = weighted_knn_scores(sims, idx, BANK_Y, N_CLASSES, T=1.0)
    np.testing.assert_allclose(scores, expected_k3, rtol=1e-6)
    # The undeclared-in-bank class 3 still has its (zero) column.
    assert scores.shape == (3, N_CLASSES)
    preds = knn_probe(BANK, BANK_Y, QUERIES, N_CLASSES, ks=(2, 3), T=1.0)
    np.testing.assert_array_equal(preds[2], [0, 1, 2])
    np.testing.assert_array_equal(preds[3], [0, 1, 2])


def test_temperature_decides_between_one_close_and_two_far_neighbours():
    # One class-0 neighbour at cos 1, two class-1 neighbours at cos 0.5 each.
    sims = np.array([[1.0, 0.5, 0.5]])
    idx = np.array([[0, 1, 2]])
    y = np.array([0, 1, 1])
    # T=1: e^1 = 2.718 < 2 e^0.5 = 3.297 -> class 1.
    # T=0.1: e^10 = 22026 > 2 e^5 = 296.8 -> class 0.
    assert weighted_knn_scores(sims, idx, y, 2, T=1.0).argmax() == 1
    assert weighted_knn_scores(sims, idx, y, 2, T=0.1).argmax() == 0


def test_k_larger_than_bank_is_clamped():
    sims, idx = knn_search(BANK, QUERIES, k=50)
    assert sims.shape == idx.shape == (3, 4)
    preds = knn_probe(BANK, BANK_Y, QUERIES, N_CLASSES, ks=(4, 200), T=1.0)
    np.testing.assert_array_equal(preds[200], preds[4])


def test_unnormalised_inputs_are_normalised():
    sims, _ = knn_search(BANK * 7.0, QUERIES * 0.1, k=3)
    np.testing.assert_allclose(sims[0], [1.0, 0.6, 0.0], atol=1e-6)


def test_tiny_memory_budget_gives_the_same_answer():
    rng = np.random.default_rng(0)
    bank, queries = rng.normal(size=(300, 8)), rng.normal(size=(5, 8))
    y = rng.integers(0, 3, size=300)
    whole = knn_search(bank, queries, k=10)
    one_at_a_time = knn_search(bank, queries, k=10, memory_bytes=1)
    np.testing.assert_array_equal(whole[1], one_at_a_time[1])
    np.testing.assert_array_equal(whole[0], one_at_a_time[0])
    a = knn_probe(bank, y, queries, 3)
    b = knn_probe(bank, y, queries, 3, memory_bytes=1)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_blocks_follow_the_memory_budget():
    rng = np.random.default_rng(0)
    index = build_index(rng.normal(size=(100, 4)).astype(np.float32))
    queries = rng.normal(size=(10, 4)).astype(np.float32)
    per_query = 4 * 4 + 5 * (12 + 32)
    blocks = list(search_index(index, queries, 5, memory_bytes=3 * per_query))
    assert [start for start, _, _ in blocks] == [0, 3, 6, 9]


def _brute_force(bank, queries, k):
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    sims = queries @ bank.T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, axis=1), idx


def test_faiss_flat_matches_brute_force():
    rng = np.random.default_rng(1)
    bank, queries = rng.normal(size=(2000, 32)), rng.normal(size=(64, 32))
    sims, idx = knn_search(bank, queries, k=15)
    ref_sims, ref_idx = _brute_force(bank, queries, 15)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-5)
    # Ties aside (continuous random data has none at this precision) the order is equal.
    gaps = np.diff(ref_sims, axis=1)
    assert np.abs(gaps).min() > 1e-6
    np.testing.assert_array_equal(idx, ref_idx)


@pytest.mark.parametrize("k,T", [(1, 0.07), (10, 0.07), (20, 0.5)])
def test_predictions_match_sklearn_cosine_knn(k, T):
    rng = np.random.default_rng(k)
    centers = rng.normal(size=(4, 16))
    y_bank = rng.integers(0, 4, size=600)
    bank = centers[y_bank] + 1.5 * rng.normal(size=(600, 16))
    queries = centers[rng.integers(0, 4, size=200)] + 1.5 * rng.normal(size=(200, 16))
    ours = knn_probe(bank, y_bank, queries, 4, ks=(k,), T=T)[k]
    reference = KNeighborsClassifier(
        n_neighbors=k, metric="cosine", algorithm="brute", weights=lambda d: np.exp((1 - d) / T)
    ).fit(bank, y_bank)
    np.testing.assert_array_equal(ours, reference.predict(queries))


def _clustered(rng, n, d=16, n_clusters=20):
    centers = rng.normal(size=(n_clusters, d))
    assignment = rng.integers(0, n_clusters, size=n)
    return (centers[assignment] + 0.3 * rng.normal(size=(n, d))).astype(np.float32)


def test_ivf_visiting_every_cell_is_exact():
    rng = np.random.default_rng(2)
    bank = _clustered(rng, 2000)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    queries = bank[:50] + 0.01 * rng.normal(size=(50, 16)).astype(np.float32)
    index = build_index(bank, "ivf", nlist=8)
    [(_, _, idx)] = list(search_index(index, queries, 10, nprobe=8))
    _, ref_idx = _brute_force(bank, queries, 10)
    np.testing.assert_array_equal(np.sort(idx, axis=1), np.sort(ref_idx, axis=1))


def test_hnsw_finds_nearly_all_true_neighbours():
    rng = np.random.default_rng(3)
    bank = _clustered(rng, 2000)
    queries = _clustered(rng, 50)
    _, idx = knn_search(bank, queries, 10, index_kind="hnsw")
    _, ref_idx = _brute_force(bank, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx, ref_idx)])
    assert recall >= 0.95


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="dimension"):
        knn_search(BANK, np.ones((2, 3)), k=1)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        knn_probe(BANK, BANK_Y, QUERIES, n_classes=2)
    with pytest.raises(ValueError, match="NaN"):
        knn_search(np.array([[np.nan, 1.0]]), QUERIES, k=1)
    with pytest.raises(ValueError, match="index_kind"):
        knn_search(BANK, QUERIES, k=1, index_kind="lsh")


@pytest.mark.gpu
def test_cuda_exact_search_matches_faiss():
    rng = np.random.default_rng(4)
    bank, queries = rng.normal(size=(5000, 64)), rng.normal(size=(300, 64))
    sims, idx = knn_search(bank, queries, 20)
    gpu_sims, gpu_idx = knn_search(bank, queries, 20, device="cuda", memory_bytes=2**20)
    np.testing.assert_allclose(gpu_sims, sims, atol=1e-5)
    assert (gpu_idx == idx).mean() > 0.999


def test_ivf_cells_smaller_than_k_pad_with_minus_one():
    rng = np.random.default_rng(5)
    bank = _clustered(rng, 400, n_clusters=4)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    index = build_index(bank, "ivf", nlist=8)  # ~50 rows a cell
    [(_, sims, idx)] = list(search_index(index, bank[:20], 300, nprobe=1))
    cell_sizes = np.diff(index.offsets)
    assert ((idx >= 0).sum(axis=1) <= cell_sizes.max()).all() and (idx == -1).any()
    assert np.isneginf(sims[idx == -1]).all()
    assert (idx[:, 0] == np.arange(20)).all()  # each query's own row is in its own cell
    scores = weighted_knn_scores(sims, idx, np.zeros(400, dtype=int), 2, T=0.07)
    assert np.isfinite(scores).all() and (scores[:, 1] == 0).all()
