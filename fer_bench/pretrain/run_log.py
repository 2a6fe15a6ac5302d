"""The training log: one JSON object per line (``train_log.jsonl``), appended on resume.

Events: ``start`` (config, data summary), ``step`` (every ``log_every`` steps: lr, mean
loss terms since the last line, images/s), ``epoch``, ``checkpoint``, ``stop`` (reason).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

LOG_NAME = "train_log.jsonl"


class RunLog:
    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None

    def write(self, event: str, **fields) -> dict:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record, default=_plain) + "\n")
        return record


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def _plain(x):
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


class IntervalMeter:
    """Mean loss terms and images/s since the last flush. Terms stay summed on the device
    and are read at flush time only: one host sync per logging interval, not per step."""

    def __init__(self) -> None:
        self._reset(time.time())

    def _reset(self, now: float) -> None:
        self.sums: dict = {}
        self.steps = 0
        self.images = 0
        self.t0 = now

    def add(self, terms: dict, images: int) -> None:
        for k, v in terms.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.detach().clone()
        self.steps += 1
        self.images += images

    def flush(self) -> dict:
        now = time.time()
        record = {k: round(float(v) / self.steps, 5) for k, v in self.sums.items()}
        record["images_per_s"] = round(self.images / max(now - self.t0, 1e-9), 1)
        self._reset(now)
        return record
