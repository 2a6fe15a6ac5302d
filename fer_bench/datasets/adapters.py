"""Imports every adapter module so that their registrations run. Add new adapters here."""
# isort: off
from fer_bench.datasets import generated  # noqa: F401  generated faces (fer_bench.synth)
# Real datasets, read where the user keeps them (formats: docs/datasets.md).
from fer_bench.datasets import rafdb  # noqa: F401
from fer_bench.datasets import fer2013  # noqa: F401
from fer_bench.datasets import ferplus  # noqa: F401
from fer_bench.datasets import affectnet  # noqa: F401
from fer_bench.datasets import ckplus  # noqa: F401
from fer_bench.datasets import ck48  # noqa: F401
from fer_bench.datasets import jaffe  # noqa: F401
from fer_bench.datasets import oulu  # noqa: F401
from fer_bench.datasets import sfew  # noqa: F401
from fer_bench.datasets import expw  # noqa: F401
from fer_bench.datasets import cfee  # noqa: F401
from fer_bench.datasets import folder  # noqa: F401
