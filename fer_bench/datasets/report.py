"""What `fer-bench datasets prepare` does: load a dataset the way a run would, then
report counts per class and split, what was skipped or dropped and why, and optionally
decode every image (and run the face detector) before any extraction starts."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.registry import dataset_entry, load_dataset


@dataclass
class PrepareReport:
    dataset: Dataset
    seconds: float                          # load time
    bad_images: pd.DataFrame | None = None  # id, path, error of images that fail to decode
    faces: pd.Series | None = None          # detector outcome counts

    def counts(self) -> pd.DataFrame:
        """Images per class (rows) and split (columns), with totals."""
        m = self.dataset.manifest
        return pd.crosstab(m["label"], m["split"], margins=True, margins_name="total")

    @property
    def ok(self) -> bool:
        return self.bad_images is None or self.bad_images.empty

    def render(self) -> str:
        d = self.dataset
        n_subjects = d.manifest["subject"].replace("", pd.NA).nunique()
        lines = [f"{d.name}: {len(d)} images, {n_subjects or 'no'} subjects, classes "
                 f"{', '.join(d.classes)} (loaded in {self.seconds:.2f} s)",
                 f"root: {d.root}", f"face crop: {d.face_crop}", "", self.counts().to_string()]
        for key in ("dropped", "skipped"):
            if d.info.get(key):
                lines += ["", f"{key}: " + ", ".join(f"{k} {v}" for k, v in d.info[key].items())]
        for message in d.info.get("skipped_examples", []):
            lines.append(f"  {message}")
        if self.bad_images is not None:
            lines += ["", f"decoded every image: {len(self.bad_images)} failed"]
            lines += [f"  {row.path}: {row.error}" for row in self.bad_images.head(20).itertuples()]
        if self.faces is not None:
            total = int(self.faces.sum())
            found = total - int(self.faces.get("no face", 0))
            lines += ["", f"face detector: found {found}/{total} "
                      f"({100.0 * found / max(total, 1):.1f}%): "
                      + ", ".join(f"{k} {v}" for k, v in self.faces.items())]
        return "\n".join(lines)


def prepare(spec: str, root: str | Path | None = None, check_images: bool = False,
            check_faces: bool = False, progress: bool = False, **options) -> PrepareReport:
    from fer_bench.datasets.validation import check_images as decode_all
    from fer_bench.datasets.validation import face_outcomes

    dataset_entry(spec)                      # import the adapters before timing the load
    start = time.perf_counter()
    dataset = load_dataset(spec, root, **options)
    report = PrepareReport(dataset, time.perf_counter() - start)
    if check_images:
        report.bad_images = decode_all(dataset, progress=progress)
    if check_faces and dataset.face_crop is not None:
        good = dataset if report.ok else dataset.subset(
            ~dataset.manifest["id"].isin(report.bad_images["id"]).to_numpy())
        report.faces = face_outcomes(good, progress=progress).value_counts()
    return report
