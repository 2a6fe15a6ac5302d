"""The result record: one JSON file per encoder x revision x protocol x version x target.

A record holds everything needed to read a score without rerunning anything: which
encoder (full metadata, weights digest), which protocol (name, version, resolved
config), which data (manifest, image-content and label digests, split sizes, the exact
ordered class set, rows dropped for lying outside it), per-seed scores with their mean,
std and bootstrap interval, selected hyper-parameters, flags, timings and the software
environment.

Scores are fractions in [0, 1]. The headline metric is mean class accuracy (balanced
accuracy): FER test sets are imbalanced (FER2013 has 1.5% disgust, AffectNet's train set
is 45% happiness), so plain accuracy rewards predicting the majority class; accuracy and
macro-F1 are stored alongside for comparison with papers that report them.

``SCHEMA_VERSION`` changes when the layout below changes; ``fer_bench.records.migrate``
upgrades older files on load, so records written by earlier versions stay readable.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fer_bench.metrics import HEADLINE_METRIC, METRICS

SCHEMA_VERSION = 3
SCORE_METRICS = METRICS          # (a record's scores: the one list in fer_bench.metrics)


def portable_encoder(info: dict) -> dict:
    """An encoder's record entry without a path of the machine that ran it: a weights
    path in ``extra`` keeps its last part (``weights_digest`` is what identifies them)."""
    extra = dict(info.get("extra") or {})
    if isinstance(extra.get("weights"), str) and ("/" in extra["weights"]
                                                    or "\\" in extra["weights"]):
        extra["weights"] = extra["weights"].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return {**info, "extra": extra}


@dataclass(frozen=True)
class DatasetRef:
    """One dataset a record used, in a role: "eval" (train and test on it), "source" or
    "target" (cross-dataset). The three digests are those of
    :class:`fer_bench.datasets.base.Dataset`; "unknown" in records older than schema 2."""
    name: str                      # the dataset's record name, e.g. "synth-wild",
                                   # "ferplus:mode=probability", "folder-x-1a2b3c4d" (no path)
    role: str
    manifest_digest: str           # rows, paths, boxes, face crop, reader facts
    image_family: str
    split_sizes: dict[str, int]    # rows used per split, after the class-set filter
    content_digest: str            # the bytes of every row's image file
    labels_digest: str             # every manifest column (labels, splits, subjects, ...),
                                   # declared classes, official val


@dataclass(frozen=True)
class MetricSummary:
    """A score over seeds: mean, sample std (0 for one seed), per-seed values, and the
    bootstrap (1 - alpha) interval over test items (None when not computed)."""
    mean: float
    std: float
    values: tuple[float, ...]
    interval: tuple[float, float] | None = None


# The sides of a record's data that pre-training can overlap: "source", the rows the
# probe was fitted on (train and validation parts), and "target", the rows it scored.
SIDES = ("source", "target")


@dataclass(frozen=True)
class Overlap:
    """One place where the encoder's pre-training data meet a record's data.

    ``dataset``: the record name of the dataset; ``side``: one of :data:`SIDES`;
    ``matched``: what matched, "dataset ferplus" or "image family fer2013-images";
    ``pretrained_on``: the ``EncoderInfo.pretrained_on`` entry that matched (e.g.
    "ferplus/train"); ``splits``: the splits of this side that the entry covers (empty
    when unknown, as for records written before sides were recorded)."""
    dataset: str
    side: str
    matched: str
    pretrained_on: str = ""
    splits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flags:
    # True when anything (epoch, C, k) was chosen by looking at test scores; only
    # paper-faithful opt-in protocols set it, and tables stamp such scores.
    test_selected: bool = False
    # Datasets whose rows used by this record (on either side) the encoder was
    # pre-trained on (EncoderInfo.pretrained_on vs name / image_family, and split when
    # the entry names one); `overlap` says on which side and what matched.
    pretraining_overlap: tuple[str, ...] = ()
    # Classes that had fewer train rows than the protocol asked for (few-shot: fewer than
    # the shots, so the support holds all of them); tables stamp such records.
    short_classes: tuple[str, ...] = ()
    # Every overlap, side by side (schema 3). None: the record predates sides;
    # fer_bench.records.overlap.record_overlaps derives them from the datasets' roles.
    overlap: tuple[Overlap, ...] | None = None


@dataclass(frozen=True)
class RecordKey:
    """What identifies a record (and its file path)."""
    encoder: str
    revision: str
    protocol: str
    protocol_version: int
    target: str                    # dataset spec, or "<source>__to__<target>"


@dataclass
class ResultRecord:
    encoder: dict[str, Any]        # EncoderInfo.to_dict()
    protocol: str
    protocol_version: int
    config: dict[str, Any]         # the protocol's resolved config
    target: str
    datasets: list[DatasetRef]
    class_set: list[str]           # ordered; index = class id in predictions/confusion
    seeds: list[int]
    metrics: dict[str, MetricSummary]
    per_seed: list[dict[str, Any]]           # {"seed", "metrics", "interval", "hyperparameters"}
    per_class_recall: dict[str, float]       # mean over seeds; NaN for absent classes
    confusion: list[list[int]]               # summed over seeds, rows = true class
    class_counts: dict[str, dict[str, int]]  # "<dataset>/<split>" -> class -> rows
    dropped_labels: dict[str, dict[str, int]]  # "<dataset>/<split>" -> label -> rows dropped
    hyperparameters: dict[str, Any]          # selected values, e.g. {"C": [...]} or {"k": 20}
    details: dict[str, Any] = field(default_factory=dict)  # protocol extras (val curves, all k)
    flags: Flags = field(default_factory=Flags)
    timings: dict[str, float] = field(default_factory=dict)  # extract_s, audit_s?, probe_s, total_s
    environment: dict[str, Any] = field(default_factory=dict)
    feature_keys: list[str] = field(default_factory=list)
    predictions_file: str | None = None      # file name next to the record
    created: str = ""                        # ISO 8601, UTC
    headline_metric: str = HEADLINE_METRIC
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> RecordKey:
        return RecordKey(self.encoder["name"], self.encoder["revision"], self.protocol,
                         self.protocol_version, self.target)

    @property
    def headline(self) -> MetricSummary:
        return self.metrics[self.headline_metric]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultRecord:
        """Build from a dict of the *current* schema (see ``migrate`` for older ones)."""
        d = dict(data)
        d["datasets"] = [DatasetRef(**x) for x in d["datasets"]]
        d["metrics"] = {name: MetricSummary(m["mean"], m["std"], tuple(m["values"]),
                                            tuple(m["interval"]) if m.get("interval") else None)
                        for name, m in d["metrics"].items()}
        flags = d.get("flags") or {}
        overlap = flags.get("overlap")
        d["flags"] = Flags(bool(flags.get("test_selected", False)),
                           tuple(flags.get("pretraining_overlap", ())),
                           tuple(flags.get("short_classes", ())),
                           None if overlap is None else tuple(
                               Overlap(**{**o, "splits": tuple(o.get("splits", ()))})
                               for o in overlap))
        return cls(**d)
