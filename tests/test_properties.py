"""Property suites: Theorem 1 and Proposition 1 against simulation over the whole box.

Properties 1 and 2 (posterior mean = brute-force Bayes; optimality of U = U* in the DAE
family) live in ``test_denoiser.py``; properties 3-8 are here.  Each test's name states
its property; ``docs/properties.md`` says what each protects and the measured worst case.

These are library properties: they use ``molrg`` only (the CLI's ``verify theorem1`` is
checked against the same library calls in ``test_verify.py``).  ``method="auto"`` means
quadrature, so every Monte Carlo call names its simulator.  "Theorem 1" below is the
``derived`` form (what the pre-refactor code evaluated; the envelopes were measured on it).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, target
from hypothesis import strategies as st

import molrg
from molrg import _generated
from tests.conftest import examples, family_z, monte_carlo
from tests.strategies import (
    invalid_deltas,
    invalid_K,
    invalid_samples,
    invalid_sigmas,
    invalid_words,
    model_params,
    seeds,
    sigmas,
    theory_params,
)

# Monte Carlo agreement thresholds, in combined standard errors: family-wise false-alarm
# rate 1% per property and run (tests/conftest.py::family_z).  ci: ~4.0-4.1; thorough: ~4.7.
Z_INVARIANCE = family_z(comparisons_per_example=10, base_examples=6)
Z_REDUCED = family_z(comparisons_per_example=12, base_examples=6)
Z_LIMITS = family_z(comparisons_per_example=4, base_examples=4)
Z_QUADRATURE = family_z(comparisons_per_example=12, base_examples=4)
Z_DTYPES = family_z(comparisons_per_example=8, base_examples=6)

GRID_POINTS = 30
GRID_HALF_WIDTH = 30.0
# The unimodality statistic is a maximum over the pairs of a curve's points of a
# combined-standard-error difference, each a comparison: 2 curves of GRID_POINTS points.
Z_UNIMODAL = family_z(comparisons_per_example=2 * GRID_POINTS * (GRID_POINTS - 1) // 2,
                      base_examples=4)


def _z(a: molrg.SNRResult, b: molrg.SNRResult) -> float:
    """Largest |difference| in combined standard errors."""
    return float(np.max(np.abs(a.estimate - b.estimate) / np.hypot(a.stderr, b.stderr)))


def _worst_z_both_inputs(first: tuple[molrg.MoLRG, str], second: tuple[molrg.MoLRG, str],
                         sigma: np.ndarray, samples: int, seed: int) -> float:
    """Worst |z| between two simulations (model, simulator) over both input modes, with
    independent seeds."""
    worst = 0.0
    for input in ("noisy", "clean"):
        a = molrg.snr(first[0], sigma, input=input,
                      method=monte_carlo(first[1], samples=samples, seed=seed))
        b = molrg.snr(second[0], sigma, input=input,
                      method=monte_carlo(second[1], samples=samples, seed=seed + 1))
        worst = max(worst, _z(a, b))
    return worst


def _default_grid(setting: molrg.Setting) -> np.ndarray:
    """Log grid of GRID_POINTS over ``[c / 30, 30 c]``, ``c`` the geometric mean of the
    derived form's interior peaks (both inputs; ``delta`` if none)."""
    peaks = [molrg.peak(setting, input=mode, form="derived").sigma for mode in ("noisy", "clean")]
    interior = [p for p in peaks if p > 0] or [setting.delta]
    centre = math.exp(float(np.mean(np.log(interior))))
    return np.geomspace(centre / GRID_HALF_WIDTH, centre * GRID_HALF_WIDTH, GRID_POINTS)


# Property 3 ------------------------------------------------------------------------------
@examples(6)
@given(params=model_params(K_max=6, d_max=6, n_max=48), seed=seeds,
       transform=st.sampled_from(["rotate", "embed", "relabel"]))
def test_snr_is_invariant_to_rotation_embedding_and_relabelling(params: dict, seed: int,
                                                                transform: str) -> None:
    """Property 3: a common rotation of the bases, embedding in a larger n, and relabelling
    the classes leave the SNR unchanged within standard error (ambient simulation in R^n).

    Every model is a rotation of its canonical counterpart, so the rotation case also
    compares with ``kind="canonical"`` (coordinate-aligned: sensitive to any anisotropy).
    """
    m = molrg.MoLRG(**params)
    rng = np.random.default_rng(seed)
    if transform == "rotate":
        q, _ = np.linalg.qr(rng.standard_normal((m.n, m.n)))
        other = m.rotated(q)
        m = m.replace(kind="canonical")
    elif transform == "embed":
        other = m.embedded(m.n + int(rng.integers(1, 64)))
    else:
        perm = rng.permutation(m.K)
        blocks = [m.block(int(k)) for k in perm]
        other = molrg.MoLRG(m.K, m.d, m.n, m.delta, basis=np.concatenate(blocks, axis=1))
    z = _worst_z_both_inputs((m, "ambient"), (other, "ambient"), np.geomspace(0.05, 5.0, 5),
                             samples=6000, seed=seed)
    target(z, label="property 3: |z| invariance")
    assert z <= Z_INVARIANCE, (transform, z)


@examples(6)
@given(params=model_params(K_max=8, d_max=12, n_max=96), seed=seeds)
def test_reduced_simulator_is_exact_against_ambient(params: dict, seed: int) -> None:
    """The reduced simulator (K chi-square energies) has the ambient simulation's law."""
    m = molrg.MoLRG(**params)
    z = _worst_z_both_inputs((m, "ambient"), (m, "reduced"), np.geomspace(0.03, 10.0, 6),
                             samples=8000, seed=seed)
    target(z, label="reduced vs ambient: |z|")
    assert z <= Z_REDUCED, z


# Property 4 ------------------------------------------------------------------------------
LIMIT_SLACK = 2.2
"""The exact SNR approaches its limits like ``O(sigma^2/delta^2)`` at 0 and ``O(1/sigma^2)``
at infinity; measured over the box (40 random settings, both inputs): relative gap at
``sigma = 1e-4`` at most ``1.99 sigma^2/delta^2``, at ``1e4`` at most ``1.99e-8``."""


@examples(8)
@given(params=theory_params())
def test_symbolic_limits_equal_the_exact_snr(params: tuple) -> None:
    """Property 4 (exact): the derived sigma -> 0 and sigma -> infinity limits equal the
    exact ratio-of-means SNR (quadrature) at sigma = 1e-4 and 1e4, up to the measured rate
    of approach."""
    setting = molrg.Setting(*params)
    for input in ("noisy", "clean"):
        res = molrg.snr(setting, [1e-4, 1e4], input=input, method="quadrature")
        want = np.array(molrg.exact_limits(setting, input=input))
        rel = np.abs(res.estimate / want - 1)
        target(float(rel[0] * setting.delta**2 / 1e-8), label=f"property 4: gap at 1e-4 ({input})")
        assert rel[0] <= LIMIT_SLACK * 1e-8 / setting.delta**2, (input, rel)
        assert rel[1] <= LIMIT_SLACK * 1e-8, (input, rel)


@examples(4)
@given(params=theory_params(), seed=seeds)
def test_symbolic_limits_match_the_simulated_mean_of_ratios(params: tuple, seed: int) -> None:
    """Property 4 (Monte Carlo): the derived limits of the mean of ratios (no deterministic
    evaluator) equal the simulated SNR at sigma = 1e-4 and 1e4, where its variance is finite,
    (K-1) d > 4."""
    K, d, delta = params
    if (K - 1) * d <= 4:
        K = 6
    m = molrg.Setting(K, d, delta)  # the reduced simulator needs no n (nor a basis)
    z = {}
    for input in ("noisy", "clean"):
        res = molrg.snr(m, [1e-4, 1e4], input=input, estimand="mean-of-ratios",
                        method=monte_carlo("reduced", samples=50_000, seed=seed))
        want = np.array(molrg.exact_limits(m, input=input, estimand="mean-of-ratios"))
        z[input] = float(np.max(np.abs(res.estimate - want) / res.stderr))
    target(max(z.values()), label="property 4: |z| limits (mean of ratios)")
    assert max(z.values()) <= Z_LIMITS, z


@examples(4)
@given(params=theory_params(), seed=seeds)
def test_reduced_monte_carlo_agrees_with_quadrature(params: tuple, seed: int) -> None:
    """The reduced simulator and the exact evaluator agree within the Monte Carlo error
    (family-wise threshold) on a grid around the peak, both inputs."""
    setting = molrg.Setting(*params)
    sigma = _default_grid(setting)[::5]
    worst = 0.0
    for input in ("noisy", "clean"):
        exact = molrg.snr(setting, sigma, input=input)
        mc = molrg.snr(setting, sigma, input=input,
                       method=monte_carlo("reduced", samples=20_000, seed=seed))
        worst = max(worst, float(np.max(np.abs(mc.estimate - exact.estimate) / mc.stderr)))
    target(worst, label="reduced vs quadrature: |z|")
    assert worst <= Z_QUADRATURE, worst


# Property 5 ------------------------------------------------------------------------------
@examples(8)
@given(params=theory_params())
@example(params=(16, 1, 0.9))  # the approximation has no interior peak here
def test_exact_snr_curve_is_unimodal(params: tuple) -> None:
    """Property 5 (exact): over the box the exact SNR curve (both modes) is unimodal: no dip
    before its argmax or rise after it beyond the curve's numerical error bound (measured
    over the 16 000 curves of the validity map: none)."""
    setting = molrg.Setting(*params)
    sigma = _default_grid(setting)
    for input in ("noisy", "clean"):
        res = molrg.snr(setting, sigma, input=input)
        z = molrg.unimodality(res.estimate, res.stderr).z
        target(z, label=f"property 5: unimodality z ({input})")
        assert z <= 1.0, (input, z)


@examples(4)
@given(params=theory_params(), seed=seeds)
def test_simulated_mean_of_ratios_curve_is_unimodal(params: tuple, seed: int) -> None:
    """Property 5 (Monte Carlo): the simulated mean-of-ratios curve is unimodal within the
    family-wise threshold (a Bonferroni bound over every pair of grid points)."""
    setting = molrg.Setting(*params)
    if (setting.K - 1) * setting.d <= 4:
        setting = molrg.Setting(6, setting.d, setting.delta)
    sigma = _default_grid(setting)
    for input in ("noisy", "clean"):
        res = molrg.snr(setting, sigma, input=input, estimand="mean-of-ratios",
                        method=monte_carlo("reduced", samples=20_000, seed=seed))
        z = molrg.unimodality(res.estimate, res.stderr).z
        target(z, label=f"property 5: unimodality z, mean of ratios ({input})")
        assert z <= Z_UNIMODAL, (input, z)


# Property 6 ------------------------------------------------------------------------------
# Measured over 210 box points: 150 random + 60 corners/edges (`python -m verify survey
# --cases 150` and `--cases 0 --corners`; docs/data/survey*.json; docs/properties.md).
# ratio = simulated / theory (derived form) peak location, where both have an interior
# peak, and excess = Delta_0 - log(K + 1), Delta_0 the derived margin as sigma -> 0 (the
# noisy approximation has an interior peak iff excess > 0):
#   noisy, ratio-of-means, excess >= 1: [0.249, 1.850]   (excess < 1: [0.213, 4.351])
#   noisy, mean-of-ratios, excess >= 1: [0.801, 2.630]   (excess < 1: [0.553, 7.252])
#   clean, ratio-of-means:              [0.515, 1.855]
#   clean, mean-of-ratios:              [0.831, 1.914]
# Within one nat of the boundary (0 < excess < 1) the theory's noisy peak is unreliable in
# either direction; the thorough run found ratio 0.139 at (5, 44, 0.852), excess 0.5.  The
# noisy envelope is asserted for excess >= 1 only.
# Patterns:
#   clean input: the ratio crosses 1 near excess = -1.5 -- for -1 <= excess < 10 it is in
#   [1.010, 1.909] (simulated peak right of theory), for excess < -2 in [0.829, 0.930]
#   noisy input, ratio of means, excess >= 10: ratio <= 1.129
#   noisy input, ratio of means: peak height simulated / theory <= 1.100
# Bounds: the measured extremes widened by 10% (sign patterns kept as measured).
# Ratio of means, checked on the EXACT peaks of the validity map (docs/data/map.json)
# restricted to this box (3094 grid cells): noisy, excess >= 1: [0.298, 1.866]; clean:
# [0.604, 1.874]; clean for -1 <= excess < 10: >= 1.016, for excess < -2: <= 0.917; noisy,
# excess >= 10: <= 0.967; noisy peak height exact / derived <= 1.086.  The random survey
# above reaches further between grid values (noisy 0.249, exact 0.264 at (2, 1, 0.0547);
# clean 0.515), so the lower bounds keep the survey's extremes, widened by 10%.
PEAK_RATIO_ENVELOPE = {  # noisy: for excess >= 1 (NOISY_ENVELOPE_MIN_EXCESS)
    ("noisy", "ratio-of-means"): (0.22, 2.05),
    ("noisy", "mean-of-ratios"): (0.72, 2.9),
    ("clean", "ratio-of-means"): (0.46, 2.06),
    ("clean", "mean-of-ratios"): (0.75, 2.1),
}
NOISY_ENVELOPE_MIN_EXCESS = 1.0
CLEAN_SMALL_EXCESS_RATIO_MIN = 1.0  # for -1 <= excess < 10
CLEAN_NEGATIVE_EXCESS_RATIO_MAX = 1.0  # for excess < -2
NOISY_LARGE_EXCESS_RATIO_MAX = 1.07
NOISY_HEIGHT_RATIO_MAX = 1.2
PEAK_SAMPLES = 40_000
PEAK_REPLICATES = 4


def _excess(setting: molrg.Setting) -> float:
    margin0 = float(molrg.margin(np.array([1e-6 * setting.delta]), setting, form="derived")[0])
    return margin0 - math.log(setting.K + 1)


@examples(5)
@given(params=theory_params(), seed=seeds,
       estimand=st.sampled_from(["ratio-of-means", "mean-of-ratios"]))
@example(params=(3, 5, 0.2), seed=0, estimand="ratio-of-means")  # the paper's Fig. 3
@example(params=(10, 5, 0.3), seed=0, estimand="ratio-of-means")  # the paper's Fig. 14
@example(params=(2, 1, 0.0546875), seed=0, estimand="ratio-of-means")  # found: ratio 0.62
@example(params=(4, 1, 0.75), seed=0, estimand="ratio-of-means")  # found: excess -1.44
@example(params=(7, 44, 0.701), seed=0, estimand="ratio-of-means")  # clean band, ratio 1.05
@example(params=(5, 44, 0.8515625), seed=0, estimand="mean-of-ratios")  # thorough: 0.139
def test_peak_location_follows_the_measured_relation_to_theorem1(params: tuple, seed: int,
                                                                 estimand: str) -> None:
    """Property 6: the simulated peak location over Theorem 1's stays in the measured
    envelope (for noisy input: at least one nat away from the boundary where the
    approximation gains its peak), with the measured failure patterns: the clean peak lies
    right of the theory when the margin at sigma -> 0 exceeds log(K+1) by less than 10
    (left when it falls short by more than 2); for noisy input (ratio of means) the
    theory's peak height is an upper bound within 10%.

    The SNR's peak is :func:`molrg.snr_peak`: exact (quadrature) for the ratio of means,
    reduced Monte Carlo (40 000 samples, 4 replicates) on the default 30-point grid for the
    mean of ratios; the theory's is :func:`molrg.peak` (derived form).
    """
    setting = molrg.Setting(*params)
    K, d = setting.K, setting.d
    if estimand == "mean-of-ratios" and (K - 1) * d < 3:
        estimand = "ratio-of-means"  # the mean of ratios is infinite there (property 8)
    sigma = _default_grid(setting)
    excess = _excess(setting)
    for input in ("noisy", "clean"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            method = "quadrature" if estimand == "ratio-of-means" else \
                monte_carlo("reduced", samples=PEAK_SAMPLES, seed=seed)
            sim = molrg.snr_peak(setting, input=input, estimand=estimand, grid=sigma,
                                 replicates=PEAK_REPLICATES, method=method)
        theory = molrg.peak(setting, input=input, form="derived")
        if input == "clean":
            assert theory.interior, "the clean approximation always peaks inside"
        if theory.interior and sim.interior:
            ratio = sim.sigma / theory.sigma
            target(abs(math.log(ratio)), label=f"property 6: |log ratio| ({input}, {estimand})")
            lo, hi = PEAK_RATIO_ENVELOPE[(input, estimand)]
            if input == "clean" or excess >= NOISY_ENVELOPE_MIN_EXCESS:
                assert lo <= ratio <= hi, (input, estimand, excess, ratio)
            if input == "clean" and -1 <= excess < 10:
                assert ratio >= CLEAN_SMALL_EXCESS_RATIO_MIN, (estimand, excess, ratio)
            if input == "clean" and excess < -2:
                assert ratio <= CLEAN_NEGATIVE_EXCESS_RATIO_MAX, (estimand, excess, ratio)
            if input == "noisy" and estimand == "ratio-of-means" and excess >= 10:
                assert ratio <= NOISY_LARGE_EXCESS_RATIO_MAX, (excess, ratio)
        if input == "noisy" and estimand == "ratio-of-means":
            height = sim.snr / theory.snr
            target(height, label="property 6: noisy height ratio sim/theory")
            assert height <= NOISY_HEIGHT_RATIO_MAX, height


# Property 7 ------------------------------------------------------------------------------
@examples(6)
@given(params=model_params(K_max=8, d_max=16, n_max=128), seed=seeds,
       method=st.sampled_from(["ambient", "reduced"]))
def test_float32_and_float64_agree_within_standard_error(params: dict, seed: int,
                                                         method: str) -> None:
    """Property 7a: float32 simulation agrees with float64 within error, no NaN, from
    sigma = 1e-4 to 1e3."""
    m = molrg.MoLRG(**params)
    sigma = np.geomspace(1e-4, 1e3, 8)
    a = molrg.snr(m, sigma, method=monte_carlo(method, samples=4000, seed=seed, dtype="float32"))
    b = molrg.snr(m, sigma, method=monte_carlo(method, samples=4000, seed=seed + 1))
    assert np.all(np.isfinite(a.estimate))
    target(_z(a, b), label="property 7a: |z| float32 vs float64")
    assert _z(a, b) <= Z_DTYPES


@examples(4)
@given(params=model_params(K_max=5, d_max=4, n_max=24), seed=seeds,
       method=st.sampled_from(["ambient", "reduced"]),
       input=st.sampled_from(["noisy", "clean"]), dtype=st.sampled_from(["float32", "float64"]))
def test_numpy_and_array_api_strict_give_identical_results(params: dict, seed: int, method: str,
                                                           input: str, dtype: str) -> None:
    """Property 7b: same seed, same numbers on NumPy and on the strict array-API namespace."""
    m = molrg.MoLRG(**params)
    mc = monte_carlo(method, samples=300, seed=seed, dtype=dtype)
    a = molrg.snr(m, [0.01, 0.3, 3.0], input=input, method=mc)
    b = molrg.snr(m, [0.01, 0.3, 3.0], input=input, method=mc.replace(backend="array_api_strict"))
    np.testing.assert_array_equal(a.estimate, b.estimate)


# Property 8 ------------------------------------------------------------------------------
@examples(10)
@given(data=st.data())
def test_every_invalid_input_raises_value_error(data: st.DataObject) -> None:
    """Property 8: invalid parameters raise ValueError (molrg.ParameterError) naming the
    parameter (never a NaN result, never a silent clip)."""
    good = molrg.MoLRG(3, 2, 8, 0.3)
    mc = monte_carlo("reduced", samples=10)
    case = data.draw(st.sampled_from(
        ["delta", "K", "sigma", "samples", "input", "estimand", "denominator", "backend",
         "dtype", "theory-delta", "theory-K", "theory-sigma", "theory-input", "theory-form"]))
    with pytest.raises(ValueError) as exc:
        if case == "delta":
            molrg.MoLRG(3, 2, 8, data.draw(invalid_deltas))
        elif case == "K":
            molrg.MoLRG(data.draw(invalid_K), 2, 8, 0.3)
        elif case == "sigma":
            molrg.snr(good, data.draw(invalid_sigmas), method=mc)
        elif case == "samples":
            molrg.snr(good, 0.5, method=monte_carlo("reduced", samples=data.draw(invalid_samples)))
        elif case in ("input", "estimand", "denominator"):
            molrg.snr(good, 0.5, method=mc, **{case: data.draw(invalid_words)})
        elif case in ("backend", "dtype"):
            molrg.snr(good, 0.5, method=mc.replace(**{case: data.draw(invalid_words)}))
        elif case == "theory-delta":
            molrg.approx_snr(0.5, molrg.Setting(3, 2, data.draw(invalid_deltas)))
        elif case == "theory-K":
            molrg.peak(molrg.Setting(data.draw(invalid_K), 2, 0.3))
        elif case == "theory-sigma":
            molrg.approx_snr(np.array([data.draw(invalid_sigmas)]), good.setting)
        else:
            molrg.peak(good, **{case.replace("theory-", ""): data.draw(invalid_words)})
    assert isinstance(exc.value, molrg.ParameterError)
    assert case.replace("theory-", "") in str(exc.value)


@examples(10)
@given(params=theory_params(), sigma=sigmas(1e-4, 1e3))
def test_theory_is_finite_and_positive_over_the_whole_range(params: tuple, sigma: float) -> None:
    """No NaN/overflow in the generated theory from sigma = 1e-4 to 1e3 (both closed forms)."""
    import array_api_compat.numpy as xnp

    setting = molrg.Setting(*params)
    s = np.array([sigma])
    for form in ("printed", "derived"):
        for input in ("noisy", "clean"):
            values = {
                "snr": molrg.approx_snr(s, setting, input=input, form=form),
                "dlogsnr_dlogsigma": molrg.dlogsnr_dlogsigma(s, setting, input=input, form=form),
                "margin": molrg.margin(s, setting, input=input, form=form),
                "what_plus": _generated.call(f"{input}_{form}_what_plus", xnp, sigma=s,
                                             K=float(setting.K), d=float(setting.d),
                                             delta=setting.delta),
            }
            for name, value in values.items():
                assert math.isfinite(float(np.asarray(value)[0])), (form, input, name)
            assert float(values["snr"][0]) > 0
