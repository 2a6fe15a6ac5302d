"""The audit's settings and thresholds, and the measurements that chose them.

Generated faces: synth-wild-like identities with four expressions each, every face in a
scene of its own (150 identities at 48 px, 100 at 112 px), and 64 planted copies per
size (8 each: byte copy, JPEG 50, brightness x0.7 and x1.2, crop to 90% centred and
shifted, 2 px shift, crop to 92% + JPEG 70). FERPlus: all 31,373 majority-labelled
faces; pairs at each threshold were looked at on contact sheets.

- Thumbnail correlation (24x24 grey), **0.95**: planted re-encodings and brightness
  changes kept 0.989 or more (JPEG 30, contrast x0.7 and colour to grey: 0.98 or
  more); distinct faces stayed at or below 0.93 (of one identity: 0.83). On FERPlus 370
  test faces (11.8%) have a train face at 0.95 or more and 248 (7.9%) at 0.995
  (``NEAR_EXACT``), the earlier figures; 16 sampled cross-split pairs at 0.95-0.96 were
  all the same photo.
- Aligned correlation (:mod:`fer_bench.audit.align`), **0.95**: planted crops and
  shifts kept 0.951 or more but one 90% crop at 48 px (0.949), 0.961 or more at
  112 px; distinct faces reached 0.941 at 48 px (none called) and 0.951 at 112 px (one
  pair of two identities called); faces of one identity 0.944. On FERPlus 16 sampled
  cross-split pairs at 0.950-0.955 were all the same photo, cropped or shifted; at
  0.93-0.94 about half were different people, so the counts are a lower bound.
- Encoder, **random-resnet18**: its cosine is no threshold (distinct synth-lab faces
  reach 0.9986, planted crops 0.995), but its neighbours tolerate crops: on FERPlus
  its search found 190 aligned pairs that ``--encoder pixels`` missed (median thumbnail
  correlation 0.58), against 126 the other way. Its features are cached by any
  protocol run of the encoder.
- The DCT hash is a candidate search and a column, not a rule: at 24x24 a Hamming
  distance of 4 still joins FERPlus faces correlating below 0.8 (different photos),
  while same-photo pairs at correlation 0.95-0.98 reach 18.

Limits, measured on synth-lab: frames of one lab session (same person, pose and light,
only the expression changes) correlate up to 0.9999 (neutral and a one-sided contempt
smile at 48 px) and count as near-duplicates; distinct lab identities (one grey studio,
one framing) reach 0.96. Lab datasets are split by subject (subject folds), so this
touches their within-split counts, not leakage between splits.
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
