"""molrg.montecarlo (molrg.snr): Monte Carlo SNR against brute force, honest errors, invariances."""

from __future__ import annotations

import importlib.util
import math
import tracemalloc

import numpy as np
import pytest

import molrg
from tests import reference_bayes

FIG3 = {"K": 3, "d": 5, "n": 50, "delta": 0.2}


def _agree(a: molrg.SNRResult, b: molrg.SNRResult, z: float = 4.0) -> bool:
    """Independent estimates agree within ``z`` combined standard errors everywhere."""
    return bool(np.all(np.abs(a.estimate - b.estimate) < z * np.hypot(a.stderr, b.stderr)))
FIG3_SIGMAS = np.geomspace(0.02, 5.0, 12)


@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_fig3_snr_matches_brute_force_bayes(input: str, method: str) -> None:
    """Acceptance: at n=50, d=5, K=3, delta=0.2 the SNR agrees with the SNR computed from the
    dense brute-force posterior within 3 combined standard errors at 12 noise levels."""
    m = molrg.MoLRG(**FIG3, seed=3)
    ours = molrg.snr(m, FIG3_SIGMAS, input=input, method=method, samples=60_000, seed=11)
    rng = np.random.default_rng(99)
    for s, est, se in zip(FIG3_SIGMAS, ours.estimate, ours.stderr, strict=True):
        ref, ref_se = reference_bayes.snr_by_bayes(m.basis, m.K, m.d, m.delta, s, input=input,
                                                   samples_per_class=4000, rng=rng)
        z = (est - ref) / math.hypot(se, ref_se)
        assert abs(z) < 3, (s, est, se, ref, ref_se)


@pytest.mark.parametrize("estimand", ["ratio-of-means", "mean-of-ratios"])
@pytest.mark.parametrize(("input", "method"),
                         [("noisy", "reduced"), ("clean", "reduced"), ("noisy", "ambient")])
def test_standard_error_matches_spread_over_200_seeds(estimand: str, input: str,
                                                     method: str) -> None:
    """Acceptance: the empirical spread of the estimate over 200 seeds matches the reported
    standard error within 20% (the ratio's own sampling error at 200 seeds is ~5%)."""
    m = molrg.MoLRG(3, 4, 16, 0.3)
    sigma = np.array([0.1, 0.5, 2.0])
    runs = [molrg.snr(m, sigma, input=input, estimand=estimand, method=method, samples=1500,
                      seed=seed) for seed in range(200)]
    est = np.array([r.estimate for r in runs])
    se = np.array([r.stderr for r in runs])
    ratio = est.std(axis=0, ddof=1) / np.sqrt(np.mean(se**2, axis=0))
    assert np.all(np.abs(ratio - 1) < 0.2), ratio


@pytest.mark.parametrize("transform", ["rotate", "embed"])
@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_rotating_or_embedding_the_model_leaves_snr_unchanged(transform: str, input: str) -> None:
    """Acceptance: one random orthogonal matrix applied to every basis, or extra empty
    directions (n = 12 -> 200), change nothing (ambient simulation in R^n, independent
    seeds, 4 combined SE)."""
    m = molrg.MoLRG(3, 3, 12, 0.25, kind="canonical")
    if transform == "rotate":
        q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((12, 12)))
        other = m.rotated(q)
    else:
        other = m.embedded(200)
    sigma = np.geomspace(0.05, 3, 8)
    a = molrg.snr(m, sigma, input=input, method="ambient", samples=30_000, seed=1)
    b = molrg.snr(other, sigma, input=input, method="ambient", samples=30_000, seed=2)
    assert _agree(a, b)


def test_reduced_agrees_with_ambient() -> None:
    m = molrg.MoLRG(4, 6, 64, 0.3)
    sigma = np.geomspace(0.05, 5, 10)
    for input in ("noisy", "clean"):
        a = molrg.snr(m, sigma, input=input, method="ambient", samples=40_000, seed=1)
        b = molrg.snr(m, sigma, input=input, method="reduced", samples=40_000, seed=2)
        assert _agree(a, b)


@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_array_api_strict_gives_identical_results(method: str) -> None:
    """The numerical core runs unchanged on the strict namespace (no NumPy-only call)."""
    m = molrg.MoLRG(3, 2, 10, 0.3)
    sigma = np.geomspace(1e-4, 1e3, 7)
    for dtype in ("float64", "float32"):
        a = molrg.snr(m, sigma, method=method, samples=600, seed=4, dtype=dtype)
        b = molrg.snr(m, sigma, method=method, samples=600, seed=4, dtype=dtype,
                      backend="array_api_strict")
        np.testing.assert_array_equal(a.estimate, b.estimate)
        np.testing.assert_array_equal(a.stderr, b.stderr)


@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_float32_is_finite_and_agrees_with_float64_from_1e_minus_4_to_1e3(input: str) -> None:
    m = molrg.MoLRG(8, 16, 128, 0.05)
    sigma = np.geomspace(1e-4, 1e3, 15)
    a = molrg.snr(m, sigma, input=input, method="ambient", samples=4000, seed=1, dtype="float32")
    b = molrg.snr(m, sigma, input=input, method="ambient", samples=4000, seed=2)
    assert np.all(np.isfinite(a.estimate)) and np.all(np.isfinite(a.stderr))
    assert _agree(a, b)


def test_denominators_coincide_for_the_optimal_denoiser_and_differ_for_a_perturbed_one() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    sigma = np.array([0.2, 1.0])
    kw = {"method": "ambient", "samples": 3000, "seed": 5}
    a = molrg.snr(m, sigma, denominator="others", **kw)
    b = molrg.snr(m, sigma, denominator="complement", **kw)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
    rng = np.random.default_rng(0)
    q, r = np.linalg.qr(m.basis + 0.3 * rng.standard_normal(m.basis.shape) / math.sqrt(m.n))
    other = q * np.sign(np.diag(r))
    c = molrg.snr(m, sigma, denominator="others", basis=other, **kw)
    d = molrg.snr(m, sigma, denominator="complement", basis=other, **kw)
    assert np.all(d.estimate < c.estimate)  # the complement also counts the leak off span(U)


def test_explicit_true_basis_equals_the_optimal_denoiser() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    a = molrg.snr(m, [0.3, 1.0], method="ambient", samples=900, seed=5)
    b = molrg.snr(m, [0.3, 1.0], method="ambient", samples=900, seed=5, basis=m.basis)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)


def test_result_is_shaped_like_sigma_and_reproducible() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    r0 = molrg.snr(m, 0.5, samples=500, seed=3)
    assert r0.estimate.shape == () and r0.stderr.shape == ()
    r1 = molrg.snr(m, [0.5, 1.0], samples=500, seed=3)
    assert r1.estimate.shape == (2,) and r1.n_samples == 500
    r2 = molrg.snr(m, [0.5, 1.0], samples=500, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(r1.estimate, r2.estimate)
    assert "delta method" in r1.error_method


def test_batches_do_not_change_the_estimate_beyond_error() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    a = molrg.snr(m, [0.3, 1.0], method="ambient", samples=9000, seed=1, batch=300)
    b = molrg.snr(m, [0.3, 1.0], method="ambient", samples=9000, seed=1)
    assert _agree(a, b)


@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_memory_does_not_grow_with_samples(method: str) -> None:
    """Chunking: peak traced memory at 10x the samples stays within 1.5x (batch fixed)."""
    m = molrg.MoLRG(4, 4, 256, 0.3)
    peaks = []
    for samples in (4000, 40_000):
        molrg.snr(m, [0.5], method=method, samples=64, seed=0, batch=64)  # warm caches
        tracemalloc.start()
        molrg.snr(m, [0.5, 1.0], method=method, samples=samples, seed=0, batch=1000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks


# Validation -----------------------------------------------------------------------------
MODEL = molrg.MoLRG(3, 2, 10, 0.2)


@pytest.mark.parametrize("sigma", [-0.5, 0.0, math.nan, math.inf, [0.1, -1.0]])
def test_invalid_sigma_raises(sigma: object) -> None:
    with pytest.raises(ValueError, match=r"sigma=.* is out of range; valid: \(0, inf\)"):
        molrg.snr(MODEL, sigma)


def test_samples_below_two_raises() -> None:
    with pytest.raises(ValueError, match=r"samples=1 is out of range; valid: \[2, inf\)"):
        molrg.snr(MODEL, 0.5, samples=1)


def test_ambient_needs_two_samples_per_class() -> None:
    with pytest.raises(ValueError, match=r"samples=5 .* valid: samples >= 2\*K = 6"):
        molrg.snr(MODEL, 0.5, samples=5, method="ambient")


@pytest.mark.parametrize(("name", "value"), [
    ("input", "dirty"), ("estimand", "median"), ("denominator", "all"), ("backend", "torch"),
    ("method", "exact"), ("dtype", "float16"),
])
def test_unknown_option_raises_naming_it_and_the_valid_values(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{name}='{value}' is not valid; valid: '"):
        molrg.snr(MODEL, 0.5, **{name: value})


def test_reduced_method_refuses_a_custom_basis() -> None:
    with pytest.raises(ValueError, match="method='reduced' is exact only for the optimal"):
        molrg.snr(MODEL, 0.5, method="reduced", basis=MODEL.basis)


def test_non_orthonormal_dae_basis_raises() -> None:
    with pytest.raises(ValueError, match="basis is not orthonormal"):
        molrg.snr(MODEL, 0.5, basis=2 * MODEL.basis)


def test_mean_of_ratios_with_infinite_mean_raises() -> None:
    with pytest.raises(ValueError, match=r"infinite mean for \(K-1\)\*d = 2"):
        molrg.snr(molrg.MoLRG(3, 1, 5, 0.2), 0.5, estimand="mean-of-ratios")


def test_mean_of_ratios_with_infinite_variance_warns() -> None:
    with pytest.warns(RuntimeWarning, match="infinite variance"):
        molrg.snr(molrg.MoLRG(3, 2, 6, 0.2), 0.5, estimand="mean-of-ratios", samples=100)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cupy_backend_without_cupy_says_how_to_install() -> None:
    with pytest.raises(ValueError, match=r"backend='cupy' is unavailable: .*pip install"):
        molrg.snr(MODEL, 0.5, backend="cupy")
