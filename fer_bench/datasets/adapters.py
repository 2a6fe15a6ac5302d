"""Imports every adapter module so that their registrations run. Add new adapters here."""
# isort: off
from fer_bench.synth import presets as _synth_presets  # noqa: F401  generated faces
