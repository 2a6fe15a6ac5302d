"""The audit's settings and thresholds, with the measurements that chose them.

Measured on generated faces (48 and 112 px, 12 synth-lab subjects x 8 expressions and 96
synth-wild faces, 2 per identity) with planted copies, and on FERPlus (cached thumbnails
of all 31,373 majority-labelled faces; the pairs were looked at on contact sheets):

- Correlation of 24x24 grey thumbnails, **0.95**: every planted re-encoding (JPEG
  quality 90 to 30), brightness (x0.6 to x1.2), contrast (x0.7) or colour-to-grey copy
  kept 0.982 or more; distinct synth-wild faces stayed at or below 0.90 (same identity)
  and 0.87 (different identities). On FERPlus every sampled test-train pair at 0.95 or
  more was the same photo; 370 test faces (11.8%) have such a train face, 248 (7.9%) at
  0.995 (``NEAR_EXACT``), as measured before.
- Aligned correlation, **0.95** (:mod:`fer_bench.audit.align`): planted crops to 85% of
  the side, shifts of 1 to 3 px at 48 px and crops re-encoded at JPEG 50 kept 0.956 or
  more on synth-wild faces, where distinct faces of one identity stayed at or below
  0.92 (different identities: 99.9% at or below 0.91, the largest of 4,560 pairs
  0.951). On FERPlus, sampled pairs at 0.95 or more whose plain correlation was below
  0.95 were all the same photo, cropped or shifted; between 0.90 and 0.94 most still
  were, with a few different people.
- Encoder for the feature-space search, **random-resnet18**: cosine similarities of its
  features are no usable threshold (distinct synth-lab faces reach 0.9986, planted crops
  0.995), so its neighbours are candidates that alignment confirms. On FERPlus it found
  the train partner of 569 of the 585 test faces with an aligned partner at 0.95 among
  10 neighbours, thumbnails 565; together they find all of them.
- The DCT hash is a candidate search and a column, not a rule: at 24x24 a Hamming
  distance of 4 still joins FERPlus faces correlating below 0.8 (different photos),
  while same-photo pairs at correlation 0.95 to 0.98 reach 18.

Limits, measured on synth-lab: frames of one lab session (same person, pose, light,
only the expression differs) correlate up to 0.9999 (neutral and a one-sided contempt
smile at 48 px) and count as near-duplicates; distinct lab identities (one grey studio,
one framing) reach 0.96. Lab datasets are split by subject (subject folds), so this
matters for their within-split counts, not for leakage.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from fer_bench.audit.align import CENTRE, SCALES

AUDIT_FORMAT = 1             # bump when a change can move what an audit finds
THUMBNAIL_ENCODER = "pixels"   # 24x24 grey, block-averaged
NEAR_EXACT = 0.995           # the correlation of the earlier FERPlus figure, reported too
REPORT_FLOOR = 0.9           # pairs kept (and cached) below the thresholds, for judging


@dataclass(frozen=True)
class AuditSettings:
    encoder: str = "random-resnet18"   # feature-space candidate search (a spec)
    neighbours: int = 10               # per image and search
    correlation: float = 0.95          # perceptual stage
    aligned: float = 0.95              # aligned stage (crops, shifts)
    refine_above: float = 0.85         # pairs aligned again at half-pixel steps

    def __post_init__(self) -> None:
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be at least 1, got {self.neighbours}")
        for name in ("correlation", "aligned"):
            value = getattr(self, name)
            if not REPORT_FLOOR <= value <= 1:
                raise ValueError(f"{name} threshold must be in [{REPORT_FLOOR}, 1], got {value}")
        if self.refine_above > self.aligned:
            raise ValueError(f"refine_above ({self.refine_above}) must not exceed the "
                             f"aligned threshold ({self.aligned})")

    def identity(self) -> dict:
        """What changes the audit's answer (the cache key's settings part)."""
        return {"format": AUDIT_FORMAT, **asdict(self), "thumbnails": THUMBNAIL_ENCODER,
                "scales": list(SCALES), "centre": CENTRE, "floor": REPORT_FLOOR}
