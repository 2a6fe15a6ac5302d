"""Fixtures of the reporting tests (tests/conftest.py applies here too)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from reporting_support import RESULTS

from fer_bench.reporting.results import read_results


@pytest.fixture(scope="module")
def results():
    """The fixture records, read once, with their long table."""
    return read_results(RESULTS)


@pytest.fixture(scope="module")
def long(results):
    return results.long


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")
