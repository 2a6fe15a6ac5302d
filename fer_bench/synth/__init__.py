"""fer-bench's own faces: a FACS-driven 2-D face renderer and the presets planned with it
(synth-lab, synth-wild, synth-compound). It knows nothing of datasets:
:mod:`fer_bench.datasets.adapters.generated` registers the presets as datasets. ``sample_faces``
gives in-memory faces (test fixtures, encoder checks)."""
from __future__ import annotations

from fer_bench.vocabulary import BASIC


def sample_faces(n: int, size: int = 112, seed: int = 0, preset: str = "synth-wild"):
    """``n`` faces rendered in memory: uint8 tensor (n, 3, size, size) and their labels.

    Labels cycle through neutral, the six basic expressions and contempt; the preset sets
    the look (grey frontal synth-lab faces, varied synth-wild ones). Deterministic.
    """
    import numpy as np
    import torch

    from fer_bench.synth.plan import plan_stills
    from fer_bench.synth.preset_config import PRESETS
    from fer_bench.synth.render import render_face

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
    labels = [BASIC[i % len(BASIC)] for i in range(n)]
    specs = plan_stills(PRESETS[preset], n, seed, labels=labels)
    images = np.stack([render_face(s.identity, s.aus, s.scene, size) for s in specs]) if n else \
        np.zeros((0, size, size, 3), np.uint8)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels
