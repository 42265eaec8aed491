"""Shared test configuration: hypothesis profiles, thresholds and namespaces.

Profiles (``HYPOTHESIS_PROFILE``):

* ``ci`` (default): deterministic (``derandomize=True``), ``CI_FACTOR`` times each
  property's base examples; the whole default run takes about a minute on 2 cores.
* ``thorough``: ``THOROUGH_FACTOR`` times the base examples, random seeds; a run of a few
  minutes before a release (``HYPOTHESIS_PROFILE=thorough python -m pytest``).

Every Monte Carlo comparison is judged against :func:`family_z` (a family-wise false-alarm
rate per test), never against a fixed number of standard errors.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import molrg

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

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded_blas() -> None:
    """One BLAS thread per test process unless the caller chose a count.

    The tests multiply small matrices; on a shared 2-core machine OpenBLAS's threads
    oversubscribe the cores and were measured 2x slower (a 1024 x 1024 QR: 0.5 s with one
    thread, 18 s with the default under load).  Numbers agree to rounding either way.
    """
    if any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's test stack
        return
    threadpool_limits(limits=1, user_api="blas")


_single_threaded_blas()


def factor() -> int:
    """Examples per base example under the active profile."""
    return THOROUGH_FACTOR if PROFILE == "thorough" else CI_FACTOR


def family_z(comparisons_per_example: int, base_examples: int | None = None,
             alpha: float = 0.01) -> float:
    """Two-sided z threshold keeping the family-wise false-alarm rate of one test at
    ``alpha`` over all its Monte Carlo comparisons in one run (Bonferroni).

    For a hypothesis property, ``base_examples`` is its base example count (the active
    profile multiplies it, see :func:`examples`); for a fixed (non-hypothesis) test leave
    it ``None`` and give the total number of comparisons the test (all its parametrised
    cases together) makes.

    A fixed threshold is not enough: ``hypothesis.target`` *maximises* |z| over random
    seeds, so with thousands of comparisons a 4-SE threshold is crossed by noise alone
    (the thorough run found |z| = 4.05 between two exact simulators).
    """
    from scipy.stats import norm

    total = comparisons_per_example * (1 if base_examples is None else base_examples * factor())
    return float(norm.isf(alpha / (2 * total)))


def examples(n: int) -> settings:
    """``CI_FACTOR * n`` examples under ``ci``, ``THOROUGH_FACTOR * n`` under ``thorough``."""
    return settings(max_examples=n * factor())


def monte_carlo(simulator: str = "reduced", **options: object) -> molrg.MonteCarlo:
    """An explicit Monte Carlo method (``method="auto"`` means quadrature)."""
    return molrg.MonteCarlo(simulator=simulator, **options)  # type: ignore[arg-type]


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
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (int, float)):
        return np.asarray(x)
    return np.from_dlpack(x)


def is_strict(x: object) -> bool:
    """Whether ``x`` is an ``array_api_strict`` array."""
    import array_api_strict

    return type(x) is type(array_api_strict.asarray(0.0))


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
