"""A contact sheet of cross-split duplicate pairs, for a person to judge the thresholds.

One row per stage; each row spreads its pairs from the closest to the one nearest the
threshold (evenly by rank), each pair the two faces side by side as the encoders see
them (after the dataset's face crop), with their splits, ids and measures. The sheet
shows dataset images: write it outside any repository.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from fer_bench.audit.pairs import STAGES
from fer_bench.datasets.base import Dataset
from fer_bench.datasets.loader import BadImage, image_loader, raise_bad_image
from fer_bench.images.preprocess import Preprocessing

MEASURE = {"exact": "correlation", "perceptual": "correlation",
           "aligned": "aligned_correlation"}


def sheet_pairs(duplicates: pd.DataFrame, per_stage: int) -> pd.DataFrame:
    """Up to ``per_stage`` cross-split pairs of each stage, closest first, spread evenly
    down to the least close."""
    cross = duplicates[(duplicates["dataset_a"] != duplicates["dataset_b"])
                       | (duplicates["split_a"] != duplicates["split_b"])]
    chosen = []
    for stage in STAGES:
        rows = cross[cross["stage"] == stage].sort_values(MEASURE[stage], ascending=False,
                                                          kind="stable")
        if len(rows):
            picks = np.unique(np.linspace(0, len(rows) - 1, min(per_stage, len(rows))).round())
            chosen.append(rows.iloc[picks.astype(int)])
    return pd.concat(chosen, ignore_index=True) if chosen else duplicates.head(0)


def _faces(datasets: Mapping[str, Dataset], wanted: set[tuple[str, str]], size: int
           ) -> dict[tuple[str, str], np.ndarray]:
    """(dataset, id) -> uint8 (size, size, 3) face, read and cropped as for encoders."""
    pre = Preprocessing(input_size=size, channels="rgb")
    faces = {}
    for name, dataset in datasets.items():
        ids = dataset.manifest["id"].astype(str)
        rows = [int(r) for r in np.flatnonzero(ids.isin({i for d, i in wanted if d == name}))]
        if not rows:
            continue
        for batch in image_loader(dataset, pre, [rows], num_workers=0):
            if isinstance(batch, BadImage):
                raise_bad_image(dataset, batch)
            for row, image in zip(batch.rows.tolist(), batch.images):
                faces[(name, ids.iat[row])] = image.permute(1, 2, 0).numpy()
    return faces


def contact_sheet(duplicates: pd.DataFrame, datasets: Mapping[str, Dataset], path: str | Path,
                  *, per_stage: int = 8, size: int = 96) -> Path | None:
    """Write the sheet of ``duplicates`` (an audit's duplicates table) to ``path`` (PNG);
    None when no pair crosses splits."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = sheet_pairs(duplicates, per_stage)
    if pairs.empty:
        return None
    wanted = set(zip(pairs["dataset_a"], pairs["id_a"])) | set(zip(pairs["dataset_b"],
                                                                  pairs["id_b"]))
    faces = _faces(datasets, wanted, size)
    several = len(datasets) > 1
    stages = [s for s in STAGES if (pairs["stage"] == s).any()]
    columns = min(per_stage, int(pairs["stage"].value_counts().max()))
    fig, axes = plt.subplots(len(stages), columns, squeeze=False,
                             figsize=(1.75 * columns, 2.05 * len(stages)))
    for ax in axes.flat:
        ax.axis("off")
    gap = np.full((size, max(2, size // 24), 3), 255, np.uint8)
    for r, stage in enumerate(stages):
        rows = pairs[pairs["stage"] == stage]
        axes[r, 0].text(0.0, 1.32, stage, transform=axes[r, 0].transAxes, fontsize=9,
                        fontweight="bold", va="bottom")
        for c, pair in enumerate(rows.itertuples(index=False)):
            ax = axes[r, c]
            ax.imshow(np.concatenate([faces[(pair.dataset_a, pair.id_a)], gap,
                                      faces[(pair.dataset_b, pair.id_b)]], axis=1))
            ax.set_title(f"r {pair.correlation:.3f}  al {pair.aligned_correlation:.3f}"
                         f"  h {pair.hamming}", fontsize=6, pad=3)
            names = [f"{d}/{sp}: {i}" if several else f"{sp}: {i}" for d, sp, i in
                     ((pair.dataset_a, pair.split_a, pair.id_a),
                      (pair.dataset_b, pair.split_b, pair.id_b))]
            ax.text(0.5, -0.04, "\n".join(names), transform=ax.transAxes, ha="center",
                    va="top", fontsize=5)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.08, wspace=0.08,
                        hspace=0.75)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
