"""Every core busy for encoders whose model step is single-threaded Python or C++ (the
scikit-image descriptors, dlib): a batch is cut into one contiguous chunk per worker
process, each worker applies the same function to its chunk, and the chunks come back in
order. The output is the same bytes as one process computes (each image's descriptor
depends on that image only), whatever the number of workers.

A worker builds its function once, from a picklable ``factory`` (a module-level function
or a ``functools.partial`` of one), so a model with weights (dlib's) loads once per
worker, not once per batch. Workers start with ``spawn`` (never ``fork`` a process that
has started torch's thread pools) when the first batch arrives, and stop when the pool is
closed or collected.
"""
from __future__ import annotations

import multiprocessing
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from fer_bench.runtime import worker_count

ChunkFn = Callable[[np.ndarray], np.ndarray]
WORKERS_ENV = "FER_BENCH_ENCODER_WORKERS"
# Below this many images per batch the chunks are too small to pay for the transfer.
MIN_IMAGES_PER_WORKER = 4

_worker_fn: ChunkFn | None = None


def _start_worker(factory: Callable[[], ChunkFn]) -> None:
    global _worker_fn
    _worker_fn = factory()


def _run_chunk(chunk: np.ndarray) -> np.ndarray:
    assert _worker_fn is not None, "worker started without its function"
    return _worker_fn(chunk)


class ChunkPool:
    """``pool(images)`` = ``factory()(images)``, computed over ``workers`` processes.

    ``workers`` None: ``$FER_BENCH_ENCODER_WORKERS`` when set (the test suite sets 1:
    its batches are too small to pay for starting workers), else one per core
    (:func:`fer_bench.runtime.worker_count`); 1: in this process, no pool at all.
    """

    def __init__(self, factory: Callable[[], ChunkFn], workers: int | None = None):
        self.factory = factory
        if workers is None:
            workers = int(os.environ.get(WORKERS_ENV) or 0) or worker_count(64)
        self.workers = max(1, int(workers))
        self._local: ChunkFn | None = None
        self._executor: ProcessPoolExecutor | None = None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        n = len(images)
        parts = min(self.workers, n // MIN_IMAGES_PER_WORKER)
        if parts <= 1:
            if self._local is None:
                self._local = self.factory()
            return self._local(images)
        chunks = np.array_split(images, parts)
        return np.concatenate(list(self._pool().map(_run_chunk, chunks)))

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(self.factory,))
            weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __getstate__(self):       # a pool travels (e.g. in a module's state) without workers
        return {"factory": self.factory, "workers": self.workers}

    def __setstate__(self, state):
        self.__init__(state["factory"], state["workers"])
