"""Shared test configuration: hypothesis profiles and namespaces.

Profiles (``HYPOTHESIS_PROFILE``):

* ``ci`` (default): deterministic (``derandomize=True``), few examples; the whole default
  run stays within a few minutes on 2 cores.
* ``thorough``: ``THOROUGH_FACTOR`` times the examples of every property, random seeds;
  for a long run before a release.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
THOROUGH_FACTOR = 10

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, max_examples=10,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", deadline=None, print_blob=True, max_examples=10 * THOROUGH_FACTOR,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(PROFILE)


def examples(n: int) -> settings:
    """``n`` examples under ``ci``, ``THOROUGH_FACTOR * n`` under ``thorough``."""
    return settings(max_examples=n * (THOROUGH_FACTOR if PROFILE == "thorough" else 1))


@pytest.fixture(params=["numpy", "array_api_strict"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a test on NumPy and on the strict array-API namespace."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
