"""Registers the generated dataset families under their CLI names.

Options come from specs such as ``synth-wild:n=2000,seed=3,size=64`` (strings accepted):
``n`` images (synth-lab rounds to whole subjects of 7 sequences x 4 frames), ``seed``,
``size`` in pixels, ``workers`` (generation processes; does not change the images).

Default sizes (all three render in well under a minute on 2 cores, see
scripts/bench_generate.py): synth-wild 6000 images of 3000 identities (2 each, so that
identity-disjoint splits still leave rare classes in the test split), synth-compound
2250 = 15 classes x 150 (450 identities posing 5 each), synth-lab 2800 = 100 subjects x
7 sequences x 4 frames.

Manifest columns besides id/path/label/split/subject: ``coarse`` (CRS-CONT group),
``intensity`` (expression intensity 0..1), ``facs`` (FACS code with letter grades and
R/L for one-sided AUs, e.g. ``R12B+R14C``), ``au_<N>`` (intensity 0..1, the stronger
side), ``yaw/pitch/roll`` (degrees), ``occluder``, ``background``, ``preset``; synth-lab
adds ``sequence`` and ``frame`` (frame 0 neutral, frame 1 unlabelled onset, 2-3 apex).
"""
from __future__ import annotations

from fer_bench.datasets.registry import register_dataset
from fer_bench.synth.dataset import SynthDataset, load_generated
from fer_bench.synth.preset_config import COMPOUND_PRESET, LAB, WILD


@register_dataset(LAB.name, LAB.description, generated=True)
def synth_lab(root=None, **options) -> SynthDataset:
    return load_generated(LAB.name, **options)


@register_dataset(WILD.name, WILD.description, generated=True)
def synth_wild(root=None, **options) -> SynthDataset:
    return load_generated(WILD.name, **options)


@register_dataset(COMPOUND_PRESET.name, COMPOUND_PRESET.description, generated=True)
def synth_compound(root=None, **options) -> SynthDataset:
    return load_generated(COMPOUND_PRESET.name, **options)
