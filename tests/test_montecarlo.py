"""molrg.snr by Monte Carlo (molrg.montecarlo, molrg.estimators): against brute force,
honest errors, invariances, validation.

``method="auto"`` means quadrature, so every test here names its simulator explicitly.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import molrg
from tests import reference_bayes
from tests.conftest import family_z, monte_carlo

FIG3 = {"K": 3, "d": 5, "n": 50, "delta": 0.2}
FIG3_SIGMAS = np.geomspace(0.02, 5.0, 12)


def _agree(a: molrg.SNRResult, b: molrg.SNRResult, z: float) -> bool:
    """Independent estimates agree within ``z`` combined standard errors everywhere."""
    return bool(np.all(np.abs(a.estimate - b.estimate) < z * np.hypot(a.stderr, b.stderr)))


@functools.cache
def _fig3_reference(input: str) -> tuple[tuple[float, float], ...]:
    """Brute-force SNR and its bootstrap error at FIG3_SIGMAS (shared by both methods)."""
    m = molrg.MoLRG(**FIG3, seed=3)
    rng = np.random.default_rng(99)
    return tuple(reference_bayes.snr_by_bayes(m.basis, m.K, m.d, m.delta, s, input=input,
                                              samples_per_class=4000, rng=rng)
                 for s in FIG3_SIGMAS)


# 12 noise levels x 2 inputs x 2 methods (family-wise 1%)
Z_FIG3 = family_z(comparisons_per_example=12 * 2 * 2)


@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_fig3_snr_matches_brute_force_bayes(input: str, method: str) -> None:
    """Acceptance: at n=50, d=5, K=3, delta=0.2 the SNR agrees with the SNR computed from the
    dense brute-force posterior (bootstrap error) at 12 noise levels, within the
    family-wise threshold in combined standard errors."""
    m = molrg.MoLRG(**FIG3, seed=3)
    ours = molrg.snr(m, FIG3_SIGMAS, input=input,
                     method=monte_carlo(method, samples=60_000, seed=11))
    for s, est, se, (ref, ref_se) in zip(FIG3_SIGMAS, ours.estimate, ours.stderr,
                                         _fig3_reference(input), strict=True):
        z = (est - ref) / math.hypot(se, ref_se)
        assert abs(z) < Z_FIG3, (s, est, se, ref, ref_se)


@pytest.mark.parametrize("estimand", ["ratio-of-means", "mean-of-ratios"])
@pytest.mark.parametrize(("input", "method"),
                         [("noisy", "reduced"), ("clean", "reduced"), ("noisy", "ambient")])
def test_standard_error_matches_spread_over_200_seeds(estimand: str, input: str,
                                                     method: str) -> None:
    """Acceptance: the empirical spread of the estimate over 200 seeds matches the reported
    standard error within 20% (the ratio's own sampling error at 200 seeds is ~5%)."""
    m = molrg.MoLRG(3, 4, 16, 0.3)
    sigma = np.array([0.1, 0.5, 2.0])
    runs = [molrg.snr(m, sigma, input=input, estimand=estimand,
                      method=monte_carlo(method, samples=1500, seed=seed))
            for seed in range(200)]
    est = np.array([r.estimate for r in runs])
    se = np.array([r.stderr for r in runs])
    ratio = est.std(axis=0, ddof=1) / np.sqrt(np.mean(se**2, axis=0))
    assert np.all(np.abs(ratio - 1) < 0.2), ratio


# 8 noise levels x 2 transforms x 2 inputs (family-wise 1%)
Z_TRANSFORM = family_z(comparisons_per_example=8 * 2 * 2)


@pytest.mark.parametrize("transform", ["rotate", "embed"])
@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_rotating_or_embedding_the_model_leaves_snr_unchanged(transform: str, input: str) -> None:
    """Acceptance: one random orthogonal matrix applied to every basis, or extra empty
    directions (n = 12 -> 200), change nothing (ambient simulation in R^n, independent
    seeds)."""
    m = molrg.MoLRG(3, 3, 12, 0.25, kind="canonical")
    if transform == "rotate":
        q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((12, 12)))
        other = m.rotated(q)
    else:
        other = m.embedded(200)
    sigma = np.geomspace(0.05, 3, 8)
    a = molrg.snr(m, sigma, input=input, method=monte_carlo("ambient", samples=30_000, seed=1))
    b = molrg.snr(other, sigma, input=input,
                  method=monte_carlo("ambient", samples=30_000, seed=2))
    assert _agree(a, b, Z_TRANSFORM)


def test_reduced_agrees_with_ambient() -> None:
    m = molrg.MoLRG(4, 6, 64, 0.3)
    sigma = np.geomspace(0.05, 5, 10)
    z = family_z(comparisons_per_example=10 * 2)
    for input in ("noisy", "clean"):
        a = molrg.snr(m, sigma, input=input, method=monte_carlo("ambient", samples=40_000, seed=1))
        b = molrg.snr(m, sigma, input=input, method=monte_carlo("reduced", samples=40_000, seed=2))
        assert _agree(a, b, z)


def test_a_setting_gives_the_reduced_simulation_of_any_model_with_it() -> None:
    """The exact SNR depends on (K, d, delta) only: a Setting and every MoLRG with it give
    the same reduced simulation, number for number."""
    mc = monte_carlo("reduced", samples=3000, seed=4)
    sigma = [0.1, 1.0]
    a = molrg.snr(molrg.Setting(3, 5, 0.2), sigma, method=mc)
    for model in (molrg.MoLRG(3, 5, 15, 0.2), molrg.MoLRG(3, 5, 80, 0.2, seed=9)):
        np.testing.assert_array_equal(a.estimate, molrg.snr(model, sigma, method=mc).estimate)


@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_array_api_strict_gives_identical_results(method: str) -> None:
    """The numerical core runs unchanged on the strict namespace (no NumPy-only call)."""
    m = molrg.MoLRG(3, 2, 10, 0.3)
    sigma = np.geomspace(1e-4, 1e3, 7)
    for dtype in ("float64", "float32"):
        mc = monte_carlo(method, samples=600, seed=4, dtype=dtype)
        a = molrg.snr(m, sigma, method=mc)
        b = molrg.snr(m, sigma, method=mc.replace(backend="array_api_strict"))
        np.testing.assert_array_equal(a.estimate, b.estimate)
        np.testing.assert_array_equal(a.stderr, b.stderr)


# 15 noise levels x 2 inputs (family-wise 1%)
Z_FLOAT32 = family_z(comparisons_per_example=15 * 2)


@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_float32_is_finite_and_agrees_with_float64_from_1e_minus_4_to_1e3(input: str) -> None:
    m = molrg.MoLRG(8, 16, 128, 0.05)
    sigma = np.geomspace(1e-4, 1e3, 15)
    a = molrg.snr(m, sigma, input=input,
                  method=monte_carlo("ambient", samples=4000, seed=1, dtype="float32"))
    b = molrg.snr(m, sigma, input=input, method=monte_carlo("ambient", samples=4000, seed=2))
    assert np.all(np.isfinite(a.estimate)) and np.all(np.isfinite(a.stderr))
    assert _agree(a, b, Z_FLOAT32)


def _perturbed(m: molrg.MoLRG, scale: float = 0.3) -> molrg.DAE:
    rng = np.random.default_rng(0)
    q, r = np.linalg.qr(m.basis + scale * rng.standard_normal(m.basis.shape) / math.sqrt(m.n))
    return molrg.DAE(q * np.sign(np.diag(r)), K=m.K, delta=m.delta)


def test_denominators_coincide_for_the_optimal_denoiser_and_differ_for_a_perturbed_one() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    sigma = np.array([0.2, 1.0])
    mc = monte_carlo("ambient", samples=3000, seed=5)
    a = molrg.snr(m, sigma, denominator="others", method=mc)
    b = molrg.snr(m, sigma, denominator="complement", method=mc)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
    dae = _perturbed(m)
    c = molrg.snr(m, sigma, denominator="others", denoiser=dae, method=mc)
    d = molrg.snr(m, sigma, denominator="complement", denoiser=dae, method=mc)
    assert np.all(d.estimate < c.estimate)  # the complement also counts the leak off span(U)


@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_a_perturbed_dae_at_several_noise_levels_equals_one_level_at_a_time(input: str) -> None:
    """Regression (CI, K=2, d=1): a clean input shares one ``y`` across the noise levels of a
    chunk; scaling its blocks by per-level weights must broadcast, not reshape to ``y``."""
    m = molrg.MoLRG(2, 1, 2, 0.37)
    dae = _perturbed(m)
    sigma = [0.05, 0.3, 1.0, 4.0]
    mc = monte_carlo("ambient", samples=400, seed=3)
    together = molrg.snr(m, sigma, input=input, denoiser=dae, method=mc)
    for i, s in enumerate(sigma):
        alone = molrg.snr(m, [s], input=input, denoiser=dae, method=mc)
        assert np.isfinite(alone.estimate[0])
        if input == "clean":  # the same draws whatever the grid
            np.testing.assert_allclose(together.estimate[i], alone.estimate[0], rtol=1e-12)


def test_explicit_true_basis_equals_the_optimal_denoiser() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    mc = monte_carlo("ambient", samples=900, seed=5)
    a = molrg.snr(m, [0.3, 1.0], method=mc)
    b = molrg.snr(m, [0.3, 1.0], method=mc, denoiser=molrg.DAE(m.basis, K=m.K, delta=m.delta))
    c = molrg.snr(m, [0.3, 1.0], method=mc, denoiser=molrg.OptimalDenoiser(m))
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-12)
    np.testing.assert_array_equal(a.estimate, c.estimate)


def test_result_is_shaped_like_sigma_reproducible_and_records_the_resolved_method() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    r0 = molrg.snr(m, 0.5, method=monte_carlo("reduced", samples=500, seed=3))
    assert r0.estimate.shape == () and r0.stderr.shape == () and r0.per_class.shape == (3,)
    r1 = molrg.snr(m, [0.5, 1.0], method=monte_carlo("reduced", samples=500, seed=3))
    assert r1.estimate.shape == (2,) and r1.n_samples == 500 and r1.per_class.shape == (2, 3)
    assert r1.per_class_stderr.shape == (2, 3)
    r2 = molrg.snr(m, [0.5, 1.0],
                   method=monte_carlo("reduced", samples=500, seed=np.random.SeedSequence(3)))
    np.testing.assert_array_equal(r1.estimate, r2.estimate)
    assert "delta method" in r1.error_method
    assert (r1.input, r1.estimand, r1.denominator) == ("noisy", "ratio-of-means", "others")
    np.testing.assert_array_equal(r1.sigma, [0.5, 1.0])
    method = r1.method
    assert isinstance(method, molrg.MonteCarlo)
    assert method.simulator == "reduced" and method.seed == 3 and method.samples == 500
    assert isinstance(method.batch, int) and method.batch > 0  # resolved, not None
    assert r1.to_json()["method"]["seed"] == 3


def test_simulator_auto_resolves_to_reduced_for_the_optimal_denoiser_else_ambient() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    auto = monte_carlo("auto", samples=300, seed=1)
    a = molrg.snr(m, 0.5, method=auto)
    assert a.method.simulator == "reduced"
    np.testing.assert_array_equal(
        a.estimate, molrg.snr(m, 0.5, method=auto.replace(simulator="reduced")).estimate)
    b = molrg.snr(m, 0.5, method=auto, denoiser=_perturbed(m))
    assert b.method.simulator == "ambient"


def test_method_words_mean_default_monte_carlo() -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    a = molrg.snr(m, 0.5, method="reduced")
    b = molrg.snr(m, 0.5, method=molrg.MonteCarlo(simulator="reduced"))
    np.testing.assert_array_equal(a.estimate, b.estimate)
    assert a.n_samples == molrg.MonteCarlo().samples


def test_progress_is_reported_after_each_batch() -> None:
    calls: list[tuple[int, int]] = []
    molrg.snr(molrg.MoLRG(3, 3, 30, 0.3), [0.5, 1.0],
              method=monte_carlo("ambient", samples=900, seed=1, batch=300,
                                 progress=lambda done, total: calls.append((done, total))))
    assert calls == [(300, 900), (600, 900), (900, 900)]


# 2 noise levels x 2 (family-wise 1%)
Z_BATCH = family_z(comparisons_per_example=2 * 2)


@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_batches_do_not_change_the_estimate_beyond_error(method: str) -> None:
    m = molrg.MoLRG(3, 3, 30, 0.3)
    a = molrg.snr(m, [0.3, 1.0], method=monte_carlo(method, samples=9000, seed=1, batch=300))
    b = molrg.snr(m, [0.3, 1.0], method=monte_carlo(method, samples=9000, seed=1))
    assert a.method.batch == 300
    assert _agree(a, b, Z_BATCH)


@pytest.mark.parametrize("method", ["ambient", "reduced"])
def test_memory_does_not_grow_with_samples(method: str) -> None:
    """Chunking: peak traced memory at 10x the samples stays within 1.5x (batch fixed)."""
    m = molrg.MoLRG(4, 4, 256, 0.3)
    peaks = []
    for samples in (4000, 40_000):
        molrg.snr(m, [0.5], method=monte_carlo(method, samples=64, seed=0, batch=64))  # warm
        tracemalloc.start()
        molrg.snr(m, [0.5, 1.0], method=monte_carlo(method, samples=samples, seed=0, batch=1000))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0], peaks


# Regression: the refactor reproduces the old simulators ---------------------------------
LEGACY = json.loads((Path(__file__).parent / "data" / "legacy_snr.json").read_text())


@pytest.mark.parametrize("case", LEGACY["cases"],
                         ids=[f"{c['method']}-{c['input']}-{c['estimand']}"
                              f"{'-' + c['dtype'] if 'dtype' in c else ''}"
                              f"{'-dae-' + c['denominator'] if 'dae_basis' in c else ''}"
                              for c in LEGACY["cases"]])
def test_monte_carlo_reproduces_the_legacy_snr(case: dict) -> None:
    """tests/data/legacy_snr.json holds outputs of the pre-refactor molrg.snr; the same
    model, seed, samples and (default) batch give the same numbers: 1e-12 relative in
    float64, 1e-6 in float32 (summation order)."""
    K, d, n, delta, seed = case["model"]
    model = molrg.MoLRG(K, d, n, delta, seed=seed)
    denoiser = (molrg.DAE(np.array(case["dae_basis"]), K=K, delta=delta)
                if "dae_basis" in case else None)
    dtype = case.get("dtype", "float64")
    res = molrg.snr(model, np.array(case["sigma"]), input=case["input"],
                    estimand=case["estimand"], denominator=case.get("denominator", "others"),
                    denoiser=denoiser,
                    method=monte_carlo(case["method"], samples=case["samples"],
                                       seed=case["seed"], dtype=dtype))
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(res.estimate, case["estimate"], rtol=rtol, atol=0)
    np.testing.assert_allclose(res.stderr, case["stderr"], rtol=rtol, atol=0)


# Validation -----------------------------------------------------------------------------
MODEL = molrg.MoLRG(3, 2, 10, 0.2)
MC = monte_carlo("reduced", samples=100)


@pytest.mark.parametrize("sigma", [-0.5, 0.0, math.nan, math.inf, [0.1, -1.0]])
def test_invalid_sigma_raises(sigma: object) -> None:
    with pytest.raises(molrg.ParameterError, match=r"sigma=.* is out of range; valid: \(0, inf\)"):
        molrg.snr(MODEL, sigma, method=MC)


@pytest.mark.parametrize("sigma", [None, "0.5", 1 + 1j, [[0.5]], []])
def test_malformed_sigma_raises(sigma: object) -> None:
    with pytest.raises(molrg.ParameterError, match="sigma"):
        molrg.snr(MODEL, sigma, method=MC)


@pytest.mark.parametrize("samples", [1, 0, -3, 10**11])
def test_samples_out_of_range_raises(samples: int) -> None:
    with pytest.raises(molrg.ParameterError,
                       match=rf"samples={samples} is out of range; valid: \[2, 10000000000\]"):
        monte_carlo("reduced", samples=samples)


def test_ambient_needs_two_samples_per_class() -> None:
    with pytest.raises(molrg.ParameterError, match=r"samples=5 .* valid: samples >= 2\*K = 6"):
        molrg.snr(MODEL, 0.5, method=monte_carlo("ambient", samples=5))


@pytest.mark.parametrize(("name", "value"), [
    ("input", "dirty"), ("estimand", "median"), ("denominator", "all"), ("method", "exact"),
])
def test_unknown_option_raises_naming_it_and_the_valid_values(name: str, value: str) -> None:
    with pytest.raises(molrg.ParameterError, match=rf"{name}='{value}' is not valid; valid: '"):
        molrg.snr(MODEL, 0.5, **{"method": MC, name: value})


@pytest.mark.parametrize(("name", "value"), [
    ("backend", "torch"), ("dtype", "float16"), ("simulator", "exact"),
])
def test_unknown_monte_carlo_option_raises_naming_it_and_the_valid_values(name: str,
                                                                        value: str) -> None:
    with pytest.raises(molrg.ParameterError, match=rf"{name}='{value}' is not valid; valid: '"):
        molrg.MonteCarlo(**{name: value})


@pytest.mark.parametrize(("name", "value"), [
    ("seed", -1), ("seed", 1.5), ("batch", 0), ("memory", 1024),
])
def test_out_of_range_monte_carlo_option_raises_naming_it(name: str, value: object) -> None:
    with pytest.raises(molrg.ParameterError, match=rf"{name}="):
        molrg.MonteCarlo(**{name: value})


def test_reduced_method_refuses_a_dae() -> None:
    with pytest.raises(molrg.ParameterError, match="method='reduced' is exact only for the optimal"):
        molrg.snr(MODEL, 0.5, method=MC, denoiser=molrg.DAE(MODEL.basis, K=3, delta=0.2))


def test_a_setting_refuses_the_ambient_simulator_and_denoisers() -> None:
    setting = molrg.Setting(3, 2, 0.2)
    with pytest.raises(molrg.ParameterError, match="method='ambient' needs a model with n"):
        molrg.snr(setting, 0.5, method=monte_carlo("ambient", samples=100))
    with pytest.raises(molrg.ParameterError, match="a denoiser needs a model with n"):
        molrg.snr(setting, 0.5, method=MC, denoiser=molrg.DAE(MODEL.basis, K=3, delta=0.2))


def test_dae_of_another_dimension_raises() -> None:
    other = molrg.MoLRG(3, 2, 12, 0.2)
    with pytest.raises(molrg.ParameterError, match="denoiser basis has n=12; valid: the model's n=10"):
        molrg.snr(MODEL, 0.5, method=monte_carlo("ambient", samples=100),
                  denoiser=molrg.DAE(other.basis, K=3, delta=0.2))


@pytest.mark.parametrize(("name", "value"), [
    ("model", None), ("denoiser", "optimal"), ("progress", 3),
])
def test_wrongly_typed_arguments_raise_a_type_error(name: str, value: object) -> None:
    kwargs = {"method": MC, name: value}
    model = kwargs.pop("model", MODEL)
    with pytest.raises(molrg.ParameterTypeError, match=name):
        if name == "progress":  # a Monte Carlo setting
            kwargs["method"] = MC.replace(progress=kwargs.pop("progress"))
        molrg.snr(model, 0.5, **kwargs)


def test_non_orthonormal_dae_basis_raises() -> None:
    with pytest.raises(molrg.ParameterError, match="basis is not orthonormal"):
        molrg.DAE(2 * MODEL.basis, K=3, delta=0.2)


def test_mean_of_ratios_with_infinite_mean_raises() -> None:
    with pytest.raises(molrg.ParameterError, match=r"infinite mean for \(K-1\)\*d = 2"):
        molrg.snr(molrg.MoLRG(3, 1, 5, 0.2), 0.5, estimand="mean-of-ratios", method=MC)


def test_mean_of_ratios_with_infinite_variance_warns() -> None:
    with pytest.warns(RuntimeWarning, match="infinite variance"):
        molrg.snr(molrg.MoLRG(3, 2, 6, 0.2), 0.5, estimand="mean-of-ratios", method=MC)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_cupy_backend_without_cupy_says_how_to_install() -> None:
    with pytest.raises(molrg.ParameterError, match=r"backend='cupy' is unavailable: .*pip install"):
        molrg.snr(MODEL, 0.5, method=monte_carlo("reduced", samples=100, backend="cupy"))


def test_progress_is_a_monte_carlo_setting_outside_its_identity() -> None:
    """``progress`` moved from ``snr``/``snr_peak`` into :class:`molrg.MonteCarlo`: not
    compared, hashed or recorded; ``"auto"`` is :class:`molrg.Auto` with the defaults."""
    with pytest.raises(TypeError):
        molrg.snr(MODEL, 0.5, method=MC, progress=print)  # type: ignore[call-arg]
    traced = MC.replace(progress=print)
    assert traced == MC and hash(traced) == hash(MC) and traced.to_json() == MC.to_json()
    assert "progress" not in repr(traced)
    a = molrg.snr(MODEL, [0.5, 1.0], method=traced)
    assert a.method.progress is None and a.method == MC.replace(batch=a.method.batch)
    np.testing.assert_array_equal(a.estimate, molrg.snr(MODEL, [0.5, 1.0], method=MC).estimate)
    np.testing.assert_array_equal(molrg.snr(MODEL, [0.5, 1.0]).estimate,
                                  molrg.snr(MODEL, [0.5, 1.0], method=molrg.Auto()).estimate)
    mor = molrg.Auto(monte_carlo("reduced", samples=500, seed=2))
    assert molrg.choose_method(mor, estimand="mean-of-ratios") == mor.fallback
    with pytest.raises(molrg.ParameterTypeError, match="fallback"):
        molrg.Auto("reduced")  # type: ignore[arg-type]


def test_every_method_takes_a_progress_callback_or_says_why_not() -> None:
    """``with_progress``: Monte Carlo carries the callback (outside equality), quadrature
    has none and stays itself, ``Auto`` passes it to its fallback and refuses without one."""
    calls: list[int] = []

    def cb(done: int, total: int) -> None:
        calls.append(done)

    mc = molrg.MonteCarlo(samples=600, seed=1)
    assert mc.with_progress(cb).progress is cb and mc.with_progress(cb) == mc
    quad = molrg.Quadrature()
    assert quad.with_progress(cb) is quad
    auto = molrg.Auto(mc).with_progress(cb)
    assert auto.fallback is not None and auto.fallback.progress is cb
    with pytest.raises(molrg.ParameterError, match="fallback"):
        molrg.Auto().with_progress(cb)
    molrg.snr(molrg.Setting(3, 2, 0.3), [0.5], estimand="mean-of-ratios",
              method=mc.with_progress(cb))
    assert calls
