"""Registers the generated dataset families under their CLI names.

Options come from specs such as ``synth-wild:n=2000,seed=3,size=64`` (strings accepted):
``n`` images (synth-lab rounds to whole subjects of 7 sequences x 4 frames), ``seed``,
``size`` in pixels, ``workers`` (generation processes; does not change the images).
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
