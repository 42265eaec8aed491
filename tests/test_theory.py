"""molrg.theory: limits, peak finder, peak law -- against numerics and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

import molrg
from molrg import theory
from tests.conftest import examples
from tests.strategies import theory_params

BOX = np.random.default_rng(2024)
CASES = [(int(BOX.integers(2, 33)), round(math.exp(BOX.uniform(0, math.log(256)))),
          float(BOX.uniform(0.05, 0.9))) for _ in range(200)]


@examples(25)
@given(params=theory_params())
def test_derived_limits_match_the_evaluated_approximation(params: tuple) -> None:
    """Limits as sigma -> 0 / infinity vs the lambdified approximation at sigma = 1e-4 / 1e4.

    At 1e4 they agree to 1e-6.  At 1e-4 the curve is still ``O(s / delta^2)`` from its limit
    (``s = sigma^2``): the small-``s`` expansion bounds ``|log SNR - log SNR_0|`` by
    ``2 s (1 - delta^2) / delta^2``, so the 1e-6 agreement holds for ``delta >= 0.15`` only;
    below, the test asserts the expansion's bound (measured worst: 4e-6 at delta = 0.05).
    """
    K, d, delta = params
    s = 1e-8
    bound = max(1e-6, 1.01 * 2 * s * (1 - delta**2) / delta**2)
    for input in ("noisy", "clean"):
        zero, inf = theory.limits(K, d, delta, input)
        at = theory.approx_snr(np.array([1e-4, 1e4]), K, d, delta, input)
        assert abs(at[0] / zero - 1) < bound
        if delta >= 0.15:
            assert abs(at[0] / zero - 1) < 1e-6
        assert abs(at[1] / inf - 1) < 1e-6


def test_exact_limits_equal_the_approximation_limits_for_ratio_of_means() -> None:
    for K, d, delta in CASES[:20]:
        for input in ("noisy", "clean"):
            assert np.allclose(theory.exact_limits(K, d, delta, input),
                               theory.limits(K, d, delta, input), rtol=1e-12)


def _dense_argmax(K: int, d: int, delta: float, input: str) -> float:
    """Nested dense grids: 4001 points over (1e-4 delta, 1e4), then three zooms."""
    lo, hi = math.log(1e-4 * delta), math.log(1e4)
    for _ in range(4):
        u = np.linspace(lo, hi, 4001)
        j = int(np.argmax(theory.approx_snr(np.exp(u), K, d, delta, input)))
        step = u[1] - u[0]
        lo, hi = u[max(j - 2, 0)], u[min(j + 2, u.size - 1)]
    del step
    return float(math.exp(u[j]))


@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_root_found_peak_matches_dense_grid_argmax_on_200_cases(input: str) -> None:
    """Acceptance: 200 random (K, d, delta) in the box, relative agreement 1e-6."""
    worst = 0.0
    for K, d, delta in CASES:
        p = theory.peak(K, d, delta, input)
        grid = _dense_argmax(K, d, delta, input)
        if not p.interior:  # the maximum is the sigma -> 0 limit: grid argmax at the left end
            assert grid <= 1e-4 * delta * 1.01, (K, d, delta, grid)
            continue
        worst = max(worst, abs(p.sigma / grid - 1))
    assert worst < 1e-6, worst


def test_clean_mode_always_has_one_interior_peak() -> None:
    for K, d, delta in CASES:
        p = theory.peak(K, d, delta, "clean")
        assert p.interior and p.n_local_max == 1


def test_noisy_mode_lacks_an_interior_peak_exactly_when_its_initial_slope_is_negative() -> None:
    """Derived from the sigma -> 0 expansion: the noisy approximation first rises iff
    2 (what_plus - what_minus) > 1 at sigma -> 0, i.e. exp(Delta_0) > K + 1."""
    for K, d, delta in CASES:
        delta0 = d * (1 - delta**2) ** 2 / (2 * delta**2)
        rises = delta0 > math.log(K + 1)
        assert theory.peak(K, d, delta, "noisy").interior == rises, (K, d, delta)


@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("K,d,delta", [(3, 5, 0.2), (10, 5, 0.3), (2, 16, 0.5), (6, 3, 0.1)])
def test_derived_limits_match_monte_carlo_of_the_optimal_denoiser(input: str, K: int, d: int,
                                                                  delta: float) -> None:
    """Acceptance: the exact SNR at sigma = 1e-4 and 1e4 equals the derived limits within 3 SE
    (ratio of means), and the mean-of-ratios limits likewise where (K-1) d > 4."""
    m = molrg.MoLRG(K, d, K * d, delta)
    for estimand in ("ratio-of-means", "mean-of-ratios"):
        if estimand == "mean-of-ratios" and (K - 1) * d <= 4:
            continue
        res = molrg.snr(m, [1e-4, 1e4], input=input, estimand=estimand, samples=200_000, seed=7)
        want = theory.exact_limits(K, d, delta, input, estimand)
        z = (res.estimate - np.array(want)) / res.stderr
        assert np.all(np.abs(z) < 3), (estimand, res.estimate, want, z)


def test_mean_of_ratios_limit_is_infinite_when_it_diverges() -> None:
    assert theory.exact_limits(2, 2, 0.3, "noisy", "mean-of-ratios") == (math.inf, math.inf)


def test_peak_law_error_in_its_regime() -> None:
    """Where the margin at the peak is >= 6 (first order in exp(-Delta) valid) the law is
    within 3%: measured worst over 1500 random box draws 2.5% (noisy) and 1.0% (clean);
    below a margin of ~4 the law breaks (docs/peak_law.md)."""
    worst = 0.0
    for K, d, delta in CASES:
        for input in ("noisy", "clean"):
            p = theory.peak(K, d, delta, input)
            if not p.interior or float(theory.margin(p.sigma, d, delta, input)) < 6:
                continue
            law = theory.peak_law(K, d, delta, input)
            assert math.isfinite(law)
            worst = max(worst, abs(law / p.sigma - 1))
    assert worst < PEAK_LAW_REGIME_BOUND, worst


PEAK_LAW_REGIME_BOUND = 0.03


@pytest.mark.parametrize("bad", [{"K": 1}, {"d": 0}, {"delta": 1.0}, {"input": "both"}])
def test_theory_validates_its_parameters(bad: dict) -> None:
    kw = {"K": 3, "d": 5, "delta": 0.2, "input": "noisy"} | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        theory.peak(**kw)


def test_exact_limits_validate_before_the_divergence_shortcut() -> None:
    with pytest.raises(ValueError, match="K=1 is out of range"):
        theory.exact_limits(1, 2, 0.3, "noisy", "mean-of-ratios")
