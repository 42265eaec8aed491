"""molrg/_threads.py: the BLAS thread limit around the quadrature and the simulators."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import molrg
from molrg import _threads


@pytest.fixture
def two_threads() -> None:
    """BLAS raised to 2 threads for the test (the suite runs with one, tests/conftest.py)."""
    with threadpool_limits(limits=2, user_api="blas"):
        if (_threads.blas_threads() or 0) < 2:
            pytest.skip("this BLAS cannot run 2 threads here")
        yield


def test_limit_blas_lowers_the_thread_count_inside_and_restores_it_after(two_threads,
                                                                         monkeypatch) -> None:
    monkeypatch.delenv(_threads.ENV, raising=False)
    with _threads.limit_blas(1):
        assert _threads.blas_threads() == 1
    assert _threads.blas_threads() == 2


@pytest.mark.parametrize(("value", "inside"), [("0", 2), ("2", 2), ("1", 1), ("junk", 1)])
def test_molrg_blas_threads_overrides_the_limit(two_threads, monkeypatch, value: str,
                                                inside: int) -> None:
    monkeypatch.setenv(_threads.ENV, value)
    with _threads.limit_blas(1):
        assert _threads.blas_threads() == inside
    assert _threads.blas_threads() == 2


def test_quadrature_and_exact_peak_run_with_one_blas_thread(two_threads, monkeypatch) -> None:
    """The quadrature's products are tiny: one thread (issue 24: 6x slower with the
    default threads on a busy 2-core machine)."""
    from molrg import quadrature

    monkeypatch.delenv(_threads.ENV, raising=False)
    seen: list[int | None] = []
    for name in ("snr_ratio_of_means", "exact_peak_details"):
        real = getattr(quadrature, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(_threads.blas_threads())
            return _real(*args, **kwargs)

        monkeypatch.setattr(quadrature, name, spy)
    st = molrg.Setting(2, 3, 0.3)
    molrg.snr(st, np.geomspace(0.1, 10, 5), method="quadrature")
    molrg.snr_peak(st)
    assert seen == [1, 1]
    assert _threads.blas_threads() == 2


@pytest.mark.parametrize(("n", "K", "d", "limited"), [(64, 2, 3, True), (4096, 4, 8, False)])
def test_ambient_simulator_limits_threads_only_for_small_products(
        two_threads, monkeypatch, n: int, K: int, d: int, limited: bool) -> None:
    """``rows x n x K d`` multiply-adds per batch: 64 x 64 x 6 is small; 2048 x 4096 x 32
    (rows = the 64 MiB budget / 8 n) is over the threshold."""
    from molrg import montecarlo

    monkeypatch.delenv(_threads.ENV, raising=False)
    seen: list[int | None] = []

    def spy(*args, **kwargs):
        seen.append(_threads.blas_threads())
        raise RuntimeError("stop")

    monkeypatch.setattr(montecarlo, "simulate_ambient_molrg", spy)
    model = molrg.MoLRG(n=n, K=K, d=d, delta=0.3, seed=0)
    with pytest.raises(RuntimeError, match="stop"):
        molrg.snr(model, 1.0, method=molrg.MonteCarlo(simulator="ambient", samples=n, seed=0))
    assert seen == [1 if limited else 2]


def test_custom_denoiser_products_are_not_limited() -> None:
    from molrg import estimators

    model = molrg.MoLRG(n=16, K=2, d=3, delta=0.3, seed=0)
    plan = estimators._iv(model, 1.0, "noisy", "ratio-of-means", "others",
                          lambda x, s: x, molrg.MonteCarlo(simulator="ambient", samples=64))
    assert estimators._largest_product(plan, 1 << 26) == float("inf")
