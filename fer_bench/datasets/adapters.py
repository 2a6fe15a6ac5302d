"""Imports every adapter module so that their registrations run. Add new adapters here."""
# isort: off
from fer_bench.synth import presets as _synth_presets  # noqa: F401  generated faces
# Real datasets read where the user keeps them (issue 5).
from fer_bench.datasets import rafdb  # noqa: F401,E402
from fer_bench.datasets import fer2013  # noqa: F401,E402
from fer_bench.datasets import ferplus  # noqa: F401,E402
