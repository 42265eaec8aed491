"""EmpiricalDenoiser against a dense direct evaluation, its limits, namespaces and memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from molrg._backend import namespace
from molrg.empirical import DEFAULT_MEMORY_BUDGET, EmpiricalDenoiser
from molrg.validation import ParameterError
from tests import reference_mixture as dense_bayes
from tests.conftest import examples as _examples
from tests.conftest import to_numpy


def examples(n: int) -> object:
    """The mixture suites' example counts: ``n`` under ``ci`` (the project's helper doubles)."""
    return _examples(max(1, n // 2))




@examples(40)
@given(N=st.integers(1, 60), n=st.integers(1, 12), m=st.integers(1, 40),
       chunk=st.integers(1, 17), budget=st.sampled_from([1024, 4096, 1 << 20]),
       log_sigma=st.floats(-1.0, 1.0), scale=st.sampled_from([0.1, 1.0, 5.0]),
       seed=st.integers(0, 2**31))
def test_matches_dense_direct(N: int, n: int, m: int, chunk: int, budget: int, log_sigma: float,
                              scale: float, seed: int) -> None:
    """Chunk boundaries over points (N not a multiple of chunk) and over samples (tiny budgets)."""
    rng = np.random.default_rng(seed)
    points = scale * rng.standard_normal((N, n))
    x = points[rng.integers(0, N, m)] + scale * rng.standard_normal((m, n))
    sigma = scale * 10.0**log_sigma
    den = EmpiricalDenoiser(points, chunk_points=chunk, memory_budget=budget)
    got = den(x, sigma)
    want = dense_bayes.empirical(points, x, sigma)
    assert got.shape == (m, n) and got.dtype == np.float64
    assert np.max(np.abs(got - want)) <= 1e-10 * np.max(np.abs(points))


def test_sample_chunking_really_happens() -> None:
    den = EmpiricalDenoiser(np.ones((10, 4)), chunk_points=3, memory_budget=1024)
    assert den.sample_chunk("float64") == 1024 // (8 * (2 * 3 + 4 * 4 + 8))
    assert den.sample_chunk("float64") < 20


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_hot_limit_small_sigma(dtype: str) -> None:
    rng = np.random.default_rng(0)
    points = rng.standard_normal((500, 10))
    idx = rng.integers(0, 500, 64)
    x = points[idx] + 1e-3 * rng.standard_normal((64, 10))
    got = EmpiricalDenoiser(points.astype(dtype), chunk_points=97)(x.astype(dtype), 1e-4)
    assert np.all(np.isfinite(got))
    tol = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(got, points[idx], rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_limit_large_sigma(dtype: str) -> None:
    rng = np.random.default_rng(1)
    points = rng.standard_normal((300, 8))
    x = 3.0 * rng.standard_normal((20, 8))
    got = EmpiricalDenoiser(points, chunk_points=64)(x.astype(dtype), 1e3)
    assert got.dtype == np.dtype(dtype) and np.all(np.isfinite(got))
    # deviation from the mean is about Cov(p) x / sigma^2 ~ 1e-5
    np.testing.assert_allclose(got, np.broadcast_to(points.mean(axis=0), got.shape), rtol=0, atol=1e-4)
    want = dense_bayes.empirical(points, x, 1e3)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_single_point_and_leading_dims() -> None:
    p = np.arange(5.0)[None, :]
    den = EmpiricalDenoiser(p)
    np.testing.assert_array_equal(den(np.zeros((3, 5)), 0.5), np.broadcast_to(p, (3, 5)))
    rng = np.random.default_rng(2)
    points = rng.standard_normal((30, 5))
    x = rng.standard_normal((2, 3, 5))
    den = EmpiricalDenoiser(points, chunk_points=7)
    np.testing.assert_allclose(np.reshape(den(x, 0.7), (6, 5)),
                               dense_bayes.empirical(points, np.reshape(x, (6, 5)), 0.7), atol=1e-13)
    assert den(x[0, 0], 0.7).shape == (5,)
    assert den(np.zeros((0, 5)), 0.7).shape == (0, 5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_api_strict_same_numbers(dtype: str) -> None:
    xps = namespace("array_api_strict")
    rng = np.random.default_rng(3)
    points = rng.standard_normal((41, 6))
    x = rng.standard_normal((13, 6)).astype(dtype)
    ref = EmpiricalDenoiser(points, chunk_points=8, memory_budget=2048)(x, 0.8)
    # points given in NumPy, input in array_api_strict (converted, cached copy) ...
    den = EmpiricalDenoiser(points, chunk_points=8, memory_budget=2048)
    got = den(xps.asarray(x), 0.8)
    assert got.dtype == getattr(xps, dtype)
    tol = 1e-14 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(to_numpy(got), ref, rtol=0, atol=tol)
    # ... and everything in array_api_strict
    den_s = EmpiricalDenoiser(xps.asarray(points), chunk_points=8, memory_budget=2048)
    np.testing.assert_allclose(to_numpy(den_s(xps.asarray(x), xps.asarray(0.8))), ref, rtol=0, atol=tol)


def test_float32_points_with_float64_input() -> None:
    rng = np.random.default_rng(4)
    points = rng.standard_normal((50, 4))
    x = rng.standard_normal((9, 4))
    den = EmpiricalDenoiser(points.astype(np.float32))
    got = den(x, 0.5)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, dense_bayes.empirical(points.astype(np.float32).astype(np.float64),
                                                          x, 0.5), atol=1e-13)


def test_working_set_stays_inside_the_budget() -> None:
    """tracemalloc peak of a call minus the (m, n) output stays below the budget."""
    rng = np.random.default_rng(5)
    N, n, m, budget = 10000, 32, 64, 1 << 18
    points = rng.standard_normal((N, n))
    x = rng.standard_normal((m, n))
    den = EmpiricalDenoiser(points, memory_budget=budget)
    tracemalloc.start()
    try:
        out = den(x, 1.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = 8 * N  # the per-call (N,) scaled half norms, documented as outside the budget
    assert peak <= budget + out.nbytes + extra + 64 * 1024


@pytest.mark.parametrize(("make", "match"), [
    (lambda: EmpiricalDenoiser(np.ones(5)), r"points has shape \(5,\)"),
    (lambda: EmpiricalDenoiser(np.ones((0, 5))), r"points has shape \(0, 5\)"),
    (lambda: EmpiricalDenoiser(np.ones((3, 0))), r"points has shape \(3, 0\)"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5), dtype=int)), "points has dtype int"),
    (lambda: EmpiricalDenoiser([[1.0, 2.0]]), "points is a list"),
    (lambda: EmpiricalDenoiser(np.array([[1.0, np.nan]])), "points has non-finite"),
    (lambda: EmpiricalDenoiser(np.array([[1.0, np.inf]])), "points has non-finite"),
    (lambda: EmpiricalDenoiser(np.array([[1e200, 1.0]])), "too large for float64"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)), memory_budget=10), r"memory_budget=10 is out of range"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)), chunk_points=0), r"chunk_points=0 is out of range"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 4)), 1.0), r"x has shape \(2, 4\)"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 5), dtype=int), 1.0), "x has dtype"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 5)), 0.0), r"sigma=0.0 is out of range"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 5)), np.nan), "sigma=nan"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 5)), [1.0, 2.0]), "sigma"),
    (lambda: EmpiricalDenoiser(np.ones((3, 5)))(np.ones((2, 5), np.float32), 1e-20), "sigma=1e-20"),
])
def test_validation(make, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        make()


def test_default_budget_is_the_host_default_and_an_explicit_budget_wins() -> None:
    points = np.random.default_rng(5).standard_normal((100, 8))
    den = EmpiricalDenoiser(points)
    assert den.memory_budget is None and den.budget() == DEFAULT_MEMORY_BUDGET
    per_row = 8 * (2 * den.chunk_points + 4 * 8 + 8)
    assert den.sample_chunk("float64") == DEFAULT_MEMORY_BUDGET // per_row
    assert den.budget(namespace("array_api_strict")) == DEFAULT_MEMORY_BUDGET
    small = EmpiricalDenoiser(points, memory_budget=4096)
    small_row = 8 * (2 * small.chunk_points + 4 * 8 + 8)  # the small budget also caps nb
    assert small.budget() == 4096 and small.sample_chunk("float64") == max(1, 4096 // small_row)
    with pytest.raises(ParameterError, match="memory_budget"):
        EmpiricalDenoiser(points, memory_budget=10)
