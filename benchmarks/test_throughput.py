"""Monte Carlo throughput of the SNR estimators (pytest-benchmark).

Run: ``python -m pytest benchmarks --benchmark-only`` (a few minutes on 2 cores).
Each configuration ``(n, K, d, dtype, backend)`` times, for one ``sigma``:

* ``ambient`` -- :func:`molrg.snr` with ``method="ambient"`` (full simulation in R^n);
* ``reduced`` -- ``method="reduced"`` (K chi-square energies per sample);
* ``floor`` -- n-dimensional noise with the same generator plus one ``U^T x``;
* ``dense_naive`` / ``dense_batched`` -- dense n x n baselines (n <= 1024 only: 16 dense
  16384 x 16384 float64 matrices would need 34 GB).

The conftest prints the ratios measured in this same run; no timing is asserted.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import molrg
from benchmarks.baselines import DenseBatched, DenseNaive, floor

CONFIGS = [(64, 4, 8), (1024, 10, 16), (16384, 16, 32)]
DTYPES = ["float64", "float32"]
BACKENDS = ["numpy"] + (["cupy"] if importlib.util.find_spec("cupy") else [])
SIGMA = 0.5
# samples per timed call, chosen so a call takes ~0.05-0.5 s on 2 CPU cores
AMBIENT_SAMPLES = {64: 40_000, 1024: 8_000, 16384: 600}
REDUCED_SAMPLES = 400_000
DENSE_SAMPLES = {64: 2_000, 1024: 40}
DENSE_BATCHED_SAMPLES = {64: 8_000, 1024: 400}


def _key(n: int, K: int, d: int, dtype: str, backend: str) -> str:
    return f"n={n},K={K},d={d},{dtype},{backend}"


def _sync(backend: str) -> None:
    if backend == "cupy":  # pragma: no cover - GPU only
        import cupy

        cupy.cuda.Device().synchronize()


def _size(full: int, smoke: bool, least: int) -> int:
    """Samples per call: ``full`` when timing, a tiny count in smoke mode."""
    return max(least, full // 200) if smoke else full


def _params() -> list:
    return [pytest.param(n, K, d, dt, be, id=_key(n, K, d, dt, be))
            for (n, K, d) in CONFIGS for dt in DTYPES for be in BACKENDS]


def _bench(benchmark: Any, record: Any, key: str, method: str, samples: int,
           run: Callable[[], object], backend: str) -> None:
    """Time ``run`` (3 rounds, device synchronised) and record its per-sample cost."""

    def timed() -> None:
        run()
        _sync(backend)

    benchmark.group = key
    benchmark.pedantic(timed, rounds=3, iterations=1)
    record(key, method, samples)


@pytest.mark.parametrize(("n", "K", "d", "dtype", "backend"), _params())
def test_ambient(benchmark, record, smoke, n: int, K: int, d: int, dtype: str,
                 backend: str) -> None:
    model = molrg.MoLRG(K, d, n, 0.3)
    samples = _size(AMBIENT_SAMPLES[n], smoke, 2 * K)
    molrg.snr(model, SIGMA, method="ambient", samples=2 * K, backend=backend)  # warm up
    _bench(benchmark, record, _key(n, K, d, dtype, backend), "ambient", samples,
           lambda: molrg.snr(model, SIGMA, method="ambient", samples=samples, seed=1,
                             dtype=dtype, backend=backend), backend)


@pytest.mark.parametrize(("n", "K", "d", "dtype", "backend"), _params())
def test_floor(benchmark, record, smoke, n: int, K: int, d: int, dtype: str,
               backend: str) -> None:
    model = molrg.MoLRG(K, d, n, 0.3)
    samples = _size(AMBIENT_SAMPLES[n], smoke, 2 * K)
    rng = np.random.default_rng(1)
    _bench(benchmark, record, _key(n, K, d, dtype, backend), "floor", samples,
           lambda: floor(model, samples, rng, dtype, backend), backend)


@pytest.mark.parametrize(("n", "K", "d", "dtype", "backend"), _params())
def test_reduced(benchmark, record, smoke, n: int, K: int, d: int, dtype: str,
                 backend: str) -> None:
    model = molrg.MoLRG(K, d, n, 0.3)
    samples = _size(REDUCED_SAMPLES, smoke, 10)
    molrg.snr(model, SIGMA, method="reduced", samples=10, backend=backend)  # warm up
    _bench(benchmark, record, _key(n, K, d, dtype, backend), "reduced", samples,
           lambda: molrg.snr(model, SIGMA, method="reduced", samples=samples, seed=1,
                             dtype=dtype, backend=backend), backend)


@pytest.mark.parametrize(("n", "K", "d"), [c for c in CONFIGS if c[0] <= 1024])
@pytest.mark.parametrize("kind", ["dense_naive", "dense_batched"])
def test_dense_baseline(benchmark, record, smoke, n: int, K: int, d: int, kind: str) -> None:
    """Dense float64 NumPy baselines; their one-off inversions happen before timing."""
    if smoke and n > 64:
        pytest.skip("smoke mode: the dense set-up at n=1024 alone takes seconds")
    model = molrg.MoLRG(K, d, n, 0.3)
    impl = (DenseNaive if kind == "dense_naive" else DenseBatched)(model, SIGMA)
    full = (DENSE_SAMPLES if kind == "dense_naive" else DENSE_BATCHED_SAMPLES)[n]
    samples = _size(full, smoke, 2 * K)
    rng = np.random.default_rng(1)
    benchmark.group = _key(n, K, d, "float64", "numpy")
    benchmark.pedantic(impl.run, args=(samples, rng), rounds=3, iterations=1)
    record(_key(n, K, d, "float64", "numpy"), kind, samples)


def test_dense_baseline_computes_the_same_snr() -> None:
    """The baselines estimate the same quantity (so the speed ratio compares like with like)."""
    model = molrg.MoLRG(3, 2, 12, 0.3)
    ours = molrg.snr(model, SIGMA, method="ambient", samples=30_000, seed=1)
    for cls, samples in ((DenseNaive, 3000), (DenseBatched, 30_000)):
        value = cls(model, SIGMA).run(samples, np.random.default_rng(2))
        assert abs(value - float(ours.estimate)) < 0.05 * float(ours.estimate)


@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("name", ["snr_approx", "dlogsnr_dlogsigma"])
def test_lambdified_theory_on_a_million_sigmas(benchmark, smoke, name: str, input: str) -> None:
    """Issue 3: the lambdified Theorem-1 expressions on 10**6 noise levels (NumPy)."""
    sigma = np.geomspace(1e-4, 1e3, 1000 if smoke else 10**6)
    molrg.theory.evaluate(name, sigma[:10], 3, 5, 0.2, input)  # derive + lambdify once
    benchmark.group = "lambdified theory, 10**6 sigma values"
    out = benchmark.pedantic(molrg.theory.evaluate, args=(name, sigma, 3, 5, 0.2, input),
                             rounds=5, iterations=1)
    assert out.shape == sigma.shape and np.all(np.isfinite(out))
