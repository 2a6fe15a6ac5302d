"""fer-bench from Python (notebooks, scripts): the functions ``import fer_bench`` offers.

Everything here is a thin layer over what the command line uses:
:func:`fer_bench.runner.run_benchmark` computes and writes the records,
:mod:`fer_bench.reporting.tables` turns records into the long table, so a frame returned
here holds the same rows and columns as ``leaderboard_long.csv`` (scores as fractions; ``std``
NaN where the seeds give one value; flags as booleans; see the README, "Results format").
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_bench.paths import DEFAULT_RESULTS_DIR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from fer_bench.encoder import Encoder



def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (str, Path)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def evaluate(encoders: str | Encoder | Sequence[str | Encoder],
             protocols: str | Sequence[str],
             datasets: str | Sequence[str] | None = None, *,
             results_dir: str | Path = DEFAULT_RESULTS_DIR, overwrite: str = "missing",
             data_root: str | Path | None = None, cache_dir: str | Path | None = None,
             device: str = "auto", seeds: Sequence[int] | None = None, progress: bool = True,
             weights: dict[str, str] | None = None, batch_size: int = 64,
             num_workers: int | None = None) -> pd.DataFrame:
    """Run ``protocols`` for ``encoders`` on ``datasets`` and return the scores.

    - ``encoders``: names (``"pixels"``, ``"crs-cont"``, ``"pkg.module:factory"``) or
      :class:`fer_bench.encoder.Encoder` objects, one or a list;
    - ``protocols``: specs such as ``"linear"``, ``"knn"``, ``"few-shot:shots=1/5"``;
    - ``datasets``: specs (``"synth-wild:n=200,size=48"``, ``"ferplus"``,
      ``"folder:/path/to/faces"``), one or a list; None: each protocol's defaults (the
      generated presets at full size);
    - the rest as ``fer-bench run``: records go to ``results_dir`` (existing ones are
      kept unless stale, ``overwrite="missing"``), ``seeds`` (one or a list) default to (0, 1, 2),
      ``weights`` = {encoder name: weights path}.

    Returns one row per record x metric with the columns of the long leaderboard table
    (encoder, revision, protocol, target, metric, mean, std, ci_low, ci_high, n_test,
    n_classes, the flags as booleans, ...) plus ``status`` (computed, kept, kept-stale,
    not-applicable), ``note`` and ``seconds``; a planned record without scores is one
    row with NaN scores. Filter with ``frame[frame.headline]`` for the headline metric.
    """
    from fer_bench.protocols.context import DEFAULT_SEEDS
    from fer_bench.runner import entries_frame, run_benchmark

    entries = run_benchmark(
        _as_list(encoders), _as_list(protocols), [str(d) for d in _as_list(datasets)] or None,
        results_dir=results_dir, overwrite=overwrite, data_root=data_root,
        cache_dir=cache_dir, device=device,
        seeds=tuple(_as_list(seeds)) or DEFAULT_SEEDS, progress=progress,
        weights=weights, batch_size=batch_size, num_workers=num_workers)
    return entries_frame(entries, results_dir)


def load_results(results_dir: str | Path = DEFAULT_RESULTS_DIR, *,
                 strict: bool = False) -> pd.DataFrame:
    """Every record under ``results_dir`` as the long leaderboard table (the frame
    ``fer-bench leaderboard`` writes as ``leaderboard_long.csv``). An unreadable record
    file is skipped with a warning naming it (``strict``: an error)."""
    import warnings

    from fer_bench.reporting.tables import long_table
    from fer_bench.records import scan_records

    scan = scan_records(results_dir, strict=strict)
    for path, reason in scan.skipped:
        warnings.warn(f"skipped {path}: {reason}", stacklevel=2)
    return long_table(results_dir, scan.records)


def get_encoder(spec: str, weights: str | None = None, device: str = "cpu",
                **options) -> Encoder:
    """The encoder named ``spec`` (a name or ``pkg.module:factory``), built cheaply: its
    weights load on the first ``embed``. ``options`` go to its factory (e.g.
    ``revision=...`` for crs-cont, ``size=32`` for pixels)."""
    from fer_bench.encoder_registry import get_encoder as build

    return build(spec, weights=weights, device=device, **options)


def list_encoders(details: bool = True) -> pd.DataFrame | list[str]:
    """Every encoder name ``evaluate`` accepts; ``details``: a frame with name,
    revision, embed_dim, input_size, channels, pretrained_on, pretrain_classes, weights
    (shipped, present, to fetch, not needed, missing), licence, description, source and
    note, read from metadata without loading any weights."""
    from fer_bench.encoder_registry import encoder_names

    if not details:
        return encoder_names()
    import pandas as pd

    from fer_bench.encoder_catalogue import describe_encoders

    return pd.DataFrame([s.to_dict() for s in describe_encoders()])


def list_datasets() -> pd.DataFrame:
    """Every dataset name ``evaluate`` accepts: name, kind (generated, real, folder),
    where it is read from and what it is."""
    import pandas as pd

    from fer_bench.datasets.registry import dataset_entry, dataset_names

    rows = []
    for name in dataset_names():
        entry = dataset_entry(name)
        if entry.generated:
            kind, where = "generated", "cache (rendered on first use)"
        elif entry.default_folder is None:
            kind, where = "folder", f"{name}:/path/to/folder"
        else:
            kind, where = "real", f"<data-root>/{entry.default_folder}"
        rows.append({"name": name, "kind": kind, "where": where,
                     "description": entry.description})
    return pd.DataFrame(rows)
