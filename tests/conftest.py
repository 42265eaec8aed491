"""Shared test configuration: hypothesis profiles and namespaces.

Profiles (``HYPOTHESIS_PROFILE``):

* ``ci`` (default): deterministic (``derandomize=True``), ``CI_FACTOR`` times each
  property's base examples; the whole default run takes about a minute on 2 cores.
* ``thorough``: ``THOROUGH_FACTOR`` times the base examples, random seeds; a run of a few
  minutes before a release (``HYPOTHESIS_PROFILE=thorough python -m pytest``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
CI_FACTOR = 2
THOROUGH_FACTOR = 40

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, max_examples=10,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", deadline=None, print_blob=True, max_examples=10 * THOROUGH_FACTOR,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(PROFILE)


def factor() -> int:
    """Examples per base example under the active profile."""
    return THOROUGH_FACTOR if PROFILE == "thorough" else CI_FACTOR


def family_z(comparisons_per_example: int, base_examples: int, alpha: float = 0.01) -> float:
    """Two-sided z threshold keeping the family-wise false-alarm rate of one property at
    ``alpha`` over all its Monte Carlo comparisons in one run (Bonferroni).

    A fixed threshold is not enough: ``hypothesis.target`` *maximises* |z| over random
    seeds, so with thousands of comparisons a 4-SE threshold is crossed by noise alone
    (the thorough run found |z| = 4.05 between two exact simulators).
    """
    from scipy.stats import norm

    total = comparisons_per_example * base_examples * factor()
    return float(norm.isf(alpha / (2 * total)))


def examples(n: int) -> settings:
    """``CI_FACTOR * n`` examples under ``ci``, ``THOROUGH_FACTOR * n`` under ``thorough``."""
    return settings(max_examples=n * factor())


def _forbid_implicit_numpy_conversion() -> None:
    """Make ``np.*`` calls on ``array_api_strict`` arrays fail, as on Python >= 3.12.

    On Python 3.11 ``array_api_strict.Array.__array__`` still converts silently, so a
    NumPy-only call in the shared code path would go unnoticed.  Explicit conversion
    (``np.from_dlpack``, what ``molrg._backend.to_numpy`` uses) keeps working.
    """
    import array_api_strict

    array_type = type(array_api_strict.asarray(0.0))

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        raise TypeError("implicit NumPy conversion of an array_api_strict array (a NumPy-only "
                        "call on the array-API code path); use np.from_dlpack explicitly")

    array_type.__array__ = refuse  # type: ignore[method-assign]


_forbid_implicit_numpy_conversion()


def to_numpy(x: object) -> np.ndarray:
    """Explicit conversion for assertions (any namespace)."""
    from molrg._backend import to_numpy as convert

    return convert(x)


@pytest.fixture(params=["numpy", "array_api_strict"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a test on NumPy and on the strict array-API namespace."""
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def pytest_configure(config: pytest.Config) -> None:
    """Apply a planted bug when ``MOLRG_MUTANT`` is set (see tests/mutants.py)."""
    name = os.environ.get("MOLRG_MUTANT")
    if name:
        from tests import mutants

        mutants.apply(name)
