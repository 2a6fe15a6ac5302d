"""What `fer-bench datasets prepare` does: load a dataset the way a run would, then
report counts per class and split, what was skipped or dropped and why, and optionally
decode every image and run the face detector (filling the detection cache that feature
extraction reads) before any extraction starts."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fer_bench.datasets.base import Dataset
from fer_bench.datasets.registry import dataset_entry, load_dataset
from fer_bench.datasets.validation import DetectionPass


@dataclass
class PrepareReport:
    dataset: Dataset
    seconds: float                          # load time
    bad_images: pd.DataFrame | None = None  # id, path, error of images that fail to decode
    faces: pd.Series | None = None          # detector outcome counts
    detection: DetectionPass | None = None  # the detector pass (cached / run, time, file)

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
        classes = ", ".join(d.classes) or "none (no expression labels)"
        lines = [f"{d.name}: {len(d)} images, {n_subjects or 'no'} subjects, classes "
                 f"{classes} (loaded in {self.seconds:.2f} s)",
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
            lines += self._detection_lines(total - found)
        return "\n".join(lines)

    def _detection_lines(self, faceless: int) -> list[str]:
        lines = []
        policy = (self.dataset.face_crop or {}).get("no_face", "full-image")
        if faceless and policy == "full-image":
            lines.append(f"no face: {_images(faceless)} use the no_face=full-image fallback "
                         "(the whole image)")
        elif faceless and policy == "error":
            lines.append(f"no face: {_images(faceless)} stop an extraction (no_face=error)")
        p = self.detection
        if p is not None:
            total = p.cached + p.detected
            if p.detected == 0:
                lines.append(f"detections: all {total} cached, none run ({p.seconds:.1f} s)")
            else:
                lines.append(f"detections: {p.cached} cached, {p.detected} run in "
                             f"{p.seconds:.1f} s")
            if p.cache_file is not None:
                lines.append(f"detection cache: {p.cache_file}")
        return lines


def _images(n: int) -> str:
    return f"{n} image" + ("" if n == 1 else "s")


def prepare(spec: str, root: str | Path | None = None, check_images: bool = False,
            check_faces: bool = False, progress: bool = False, detect: bool = False,
            **options) -> PrepareReport:
    """``detect`` (or ``check_faces``, the same): run the face detector on every image
    (datasets with a detector crop), filling the detection cache, and report its rate."""
    from fer_bench.datasets.validation import check_images as decode_all
    from fer_bench.datasets.validation import detect_rows, face_outcomes
    from fer_bench.images.detections import detector_spec

    dataset_entry(spec)                      # import the adapters before timing the load
    start = time.perf_counter()
    dataset = load_dataset(spec, root, **options)
    report = PrepareReport(dataset, time.perf_counter() - start)
    if check_images:
        report.bad_images = decode_all(dataset, progress=progress)
    if (check_faces or detect) and dataset.face_crop is not None:
        good = dataset if report.ok else dataset.subset(
            ~dataset.manifest["id"].isin(report.bad_images["id"]).to_numpy())
        if detector_spec(good.face_crop) is not None:
            report.detection = detect_rows(good, progress=progress)
            report.faces = report.detection.outcomes.value_counts()
        else:
            report.faces = face_outcomes(good, progress=progress).value_counts()
    return report
