"""fer-bench: benchmark harness for general facial-expression encoders.

From Python (the heavy imports happen on first use, so ``import fer_bench`` stays fast)::

    import fer_bench
    scores = fer_bench.evaluate(["pixels", "random-resnet18"], ["linear", "knn"],
                                ["synth-wild:n=400,size=48"], results_dir="my-results")
    fer_bench.list_encoders()       # name, revision, sizes, pre-training data, weights, licence
    fer_bench.list_datasets()
    fer_bench.load_results("my-results")   # the long leaderboard table
    fer_bench.get_encoder("pixels")

See :mod:`fer_bench.api`.
"""
__version__ = "0.1.0"

_API = ("evaluate", "load_results", "get_encoder", "list_encoders", "list_datasets")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from fer_bench import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fer_bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
