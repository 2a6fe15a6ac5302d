"""Fitted sweeps kept on disk: a kept fit answers exactly as the fit did; anything that
could change a fit changes its key; unreadable entries are fitted again; a second run
fits nothing and writes the same records."""
from __future__ import annotations

import json

import numpy as np
import pytest
from protocol_fakes import ArrayStore, NeverBuilt, blob_dataset

import fer_bench.probes.fit_store as fit_store
from fer_bench.probes.fit_store import FitStore, arrays_digest, fit_key
from fer_bench.probes.knn import KnnProbe
from fer_bench.probes.linear import LinearProbe
from fer_bench.runner import run_benchmark
from fer_bench.vocabulary import BASIC7


def problem(seed=0, n=300, d=20, k=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X @ rng.normal(size=(k, d)).T + rng.gumbel(size=(n, k))).argmax(axis=1)
    return X, y


def test_a_kept_linear_probe_answers_exactly_as_the_fitted_one(tmp_path):
    X, y = problem()
    fitted = LinearProbe(Cs=(0.1, 1.0, 10.0)).fit(X[:200], y[:200], 4, X_val=X[200:250],
                                                  y_val=y[200:250])
    store = FitStore(tmp_path)
    store.save("ab" + "0" * 62, fitted)
    kept = store.load("ab" + "0" * 62, LinearProbe(Cs=(0.1, 1.0, 10.0)))
    assert kept is not None and kept is not fitted
    np.testing.assert_array_equal(kept.scores(X[250:]), fitted.scores(X[250:]))
    np.testing.assert_array_equal(kept.predict(X[250:]), fitted.predict(X[250:]))
    assert kept.hyperparameters() == fitted.hyperparameters()
    assert json.dumps(kept.fit_details()) == json.dumps(fitted.fit_details())
    assert kept.fit_summary() == fitted.fit_summary()
    assert store.load("cd" + "0" * 62, LinearProbe()) is None  # no such entry


def test_every_input_of_a_fit_is_in_its_key():
    X, y = problem()
    digest = arrays_digest(X[:200], y[:200], X[200:], y[200:])
    base = fit_key(LinearProbe(), 4, 0, digest)
    assert fit_key(LinearProbe(), 4, 0, digest) == base
    others = [fit_key(LinearProbe(Cs=(1.0, 10.0)), 4, 0, digest),     # an option
              fit_key(LinearProbe(search="coarse-fine"), 4, 0, digest),
              fit_key(LinearProbe(), 5, 0, digest),                    # the class count
              fit_key(LinearProbe(), 4, 1, digest),                    # the seed
              fit_key(LinearProbe(), 4, 0, arrays_digest(X[:200], y[:200], X[200:],
                                                         (y[200:] + 1) % 4)),  # labels
              fit_key(KnnProbe(), 4, 0, digest)]                       # the probe
    assert len({base, *others}) == 1 + len(others)


def test_the_code_that_fits_is_in_the_key(monkeypatch):
    digest = arrays_digest(*problem())
    before = fit_key(LinearProbe(), 4, 0, digest)
    fit_store._code_digest.cache_clear()
    monkeypatch.setattr(fit_store.Path, "read_bytes", lambda self: b"edited " + self.name.encode())
    try:
        assert fit_key(LinearProbe(), 4, 0, digest) != before
    finally:
        fit_store._code_digest.cache_clear()


@pytest.mark.parametrize("damage", [b"", b"not a zip file", None])
def test_an_unreadable_entry_is_reported_and_fitted_again(tmp_path, damage):
    X, y = problem()
    probe = LinearProbe(Cs=(1.0,)).fit(X[:200], y[:200], 4, X_val=X[200:], y_val=y[200:])
    store = FitStore(tmp_path)
    key = "ef" + "1" * 62
    store.save(key, probe)
    if damage is None:  # a valid archive without the metadata
        np.savez(store.path(key), coef=probe.result.model.coef)
    else:
        store.path(key).write_bytes(damage)
    with pytest.warns(UserWarning, match=str(store.path(key)).replace("\\", "\\\\")):
        assert store.load(key, LinearProbe(Cs=(1.0,))) is None


def test_a_second_run_fits_nothing_and_writes_the_same_records(tmp_path, monkeypatch):
    datasets = {"a": blob_dataset("a", BASIC7, {"train": 6, "test": 3}, official_val=False),
                "b": blob_dataset("b", BASIC7, {"train": 6, "val": 2, "test": 3}, seed=1)}
    fits = []
    real_fit = LinearProbe.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(LinearProbe, "fit", counting_fit)

    def run(results):
        return run_benchmark([NeverBuilt()], ["linear:Cs=0.1/1/10", "cross-dataset:Cs=0.1/1/10"],
                             ["a", "b"], results_dir=tmp_path / results, seeds=(0, 1),
                             progress=False, store=ArrayStore(), load=datasets.__getitem__,
                             device="cpu", cache_dir=tmp_path / "cache")

    first = run("first")
    # a: carved validation, one fit per seed; b: official validation, one fit; the
    # cross-dataset diagonals reuse them; a -> b and b -> a fit their 7 shared classes
    # (all of them here: the same rows, so the same fits again)
    assert len(fits) == 3
    assert len(list((tmp_path / "cache" / "probe-fits").glob("*/*.npz"))) == 3
    second = run("second")
    assert len(fits) == 3  # every fit read back
    for a, b in zip(first, second, strict=True):
        assert a.status == b.status == "computed"
        one, two = (json.loads(e.path.read_text()) for e in (a, b))
        for record in (one, two):
            for volatile in ("created", "timings", "environment"):
                record.pop(volatile)
        assert one == two, a.path.name


def test_arrays_digest_sees_bytes_shape_and_dtype():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    digest = arrays_digest
    assert digest(a, np.array([0, 1])) == digest(a.copy(), np.array([0, 1]))
    assert digest(a, np.array([0, 1])) != digest(a, np.array([1, 0]))  # labels
    assert digest(a) != digest(a.reshape(3, 2))                          # shape
    assert digest(a) != digest(a.astype(np.float64))                     # dtype
    b = a.copy()
    b[1, 2] = np.nextafter(b[1, 2], np.float32(np.inf))                  # one ulp
    assert digest(a) != digest(b)
    assert digest(np.asfortranarray(a)) == digest(a)                     # layout is not content
