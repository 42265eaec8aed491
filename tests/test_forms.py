"""Theorem 1's three forms: printed and derived against independent evaluations of their
formulas, their qualitative consequences, and the corrected form's measured coverage."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import molrg
from tests.conftest import examples
from tests.strategies import sigmas, theory_params


def _printed(sigma: float, K: int, d: int, delta: float) -> mp.mpf:
    """The formula as the NeurIPS / arXiv v3 text prints it (docs/math.md section 4b),
    typed here independently at 40 digits: D_t = (1 - delta^2) d / (2 s^2 (1 + s^2)),
    C_t = (1 + s^2)/(delta^2 + s^2), h(w) = (1 - delta^2) w + delta^2."""
    s2, d2 = mp.mpf(sigma) ** 2, mp.mpf(delta) ** 2
    D = (1 - d2) * d / (2 * s2 * (1 + s2))
    w_plus = 1 / (1 + (K - 1) * mp.e ** (-D))
    w_minus = mp.e ** (-D) * w_plus
    h = lambda w: (1 - d2) * w + d2  # noqa: E731
    bracket = (1 + s2 / d2 * h(w_plus)) / (1 + s2 / d2 * h(w_minus))
    return (1 + s2) / (d2 + s2) / (K - 1) * bracket**2


def _derived(sigma: float, K: int, d: int, delta: float, input: str) -> mp.mpf:
    """The paper's step applied to the model, from the posterior-mean coefficients
    (science.md section 2) and the input variances: beta(w) = xi + (zeta - xi) w, margin
    E g_k - E g_l with g = phi r_own + psi r_other, SNR = beta(w+)^2 E r_k / ((K-1)
    beta(w-)^2 E r_l)."""
    s2, d2 = mp.mpf(sigma) ** 2, mp.mpf(delta) ** 2
    zeta, xi = 1 / (1 + s2), d2 / (d2 + s2)
    phi, psi = 1 / (2 * s2 * (1 + s2)), d2 / (2 * s2 * (d2 + s2))
    v_own, v_other = (1 + s2, d2 + s2) if input == "noisy" else (mp.mpf(1), d2)
    e_own, e_other = d * v_own, d * v_other
    total = e_own + (K - 1) * e_other
    margin = (phi * e_own + psi * (total - e_own)) - (phi * e_other + psi * (total - e_other))
    w_plus = 1 / (1 + (K - 1) * mp.e ** (-margin))
    w_minus = mp.e ** (-margin) * w_plus
    beta = lambda w: xi + (zeta - xi) * w  # noqa: E731
    return beta(w_plus) ** 2 * e_own / ((K - 1) * beta(w_minus) ** 2 * e_other)


@examples(20)
@given(params=theory_params(), sigma=sigmas(1e-3, 1e2),
       input=st.sampled_from(["noisy", "clean"]))
def test_printed_and_derived_forms_equal_independent_evaluations_to_1e_12(
        params: tuple, sigma: float, input: str) -> None:
    """Issue 10: the lambdified forms against 40-digit evaluations of their formulas."""
    setting = molrg.Setting(*params)
    with mp.workdps(40):
        want = {"printed": _printed(sigma, *params), "derived": _derived(sigma, *params, input)}
    for form, value in want.items():
        got = float(molrg.approx_snr(sigma, setting, input=input, form=form))
        assert abs(got / float(value) - 1) <= 1e-12, (form, got, value)


@examples(10)
@given(params=theory_params(), input=st.sampled_from(["noisy", "clean"]))
def test_printed_form_always_peaks_inside(params: tuple, input: str) -> None:
    """Its log-slope at small sigma is 2 s (1/delta^2 - 1) > 0 and it falls at large sigma:
    an interior peak everywhere -- also where the exact noisy SNR has none."""
    assert molrg.peak(molrg.Setting(*params), input=input, form="printed").interior


@examples(15)
@given(params=theory_params())
def test_derived_noisy_form_peaks_inside_iff_the_small_sigma_margin_beats_log_k_plus_1(
        params: tuple) -> None:
    """docs/math.md section 4: the derived noisy form has an interior peak iff
    exp(Delta_0) > K + 1, Delta_0 = d (1 - delta^2)^2 / (2 delta^2)."""
    K, d, delta = params
    excess = d * (1 - delta**2) ** 2 / (2 * delta**2) - math.log(K + 1)
    if abs(excess) < 1e-3:  # at the boundary the peak sits at sigma -> 0
        return
    peak = molrg.peak(molrg.Setting(K, d, delta), input="noisy", form="derived")
    assert peak.interior == (excess > 0), (excess, peak)


def _random_box(count: int, seed: int) -> list[tuple[int, int, float]]:
    """The validity map's box: K log-uniform in [2, 1000], d in [1, 512], delta in [0.02, 0.95]."""
    rng = np.random.default_rng(seed)
    return [(round(math.exp(rng.uniform(math.log(2), math.log(1000)))),
             round(math.exp(rng.uniform(0, math.log(512)))), float(rng.uniform(0.02, 0.95)))
            for _ in range(count)]


CORRECTED_COVERAGE = {"noisy": 0.95, "clean": 0.95}
"""Asserted share of settings with an interior exact peak where the corrected form's peak is
within 5% and its peak SNR within 10%.  Measured on the default validity map (16 000
curves, docs/results.md): 99.15% (noisy) and 99.95% (clean); on this test's 40 random
settings: 100% and 100%.  The misses are flat noisy peaks (prominence below ~1%) and
``d = 1`` with ``delta = 0.02`` (peak SNR off by ~10%)."""


@pytest.mark.parametrize("input", ["noisy", "clean"])
def test_corrected_form_tracks_the_exact_peak_where_the_derived_form_does_not(input: str) -> None:
    """Issue 10's moonshot, at 40 random settings of the map's box (deterministic)."""
    hits = {"corrected": 0, "derived": 0}
    total = 0
    for K, d, delta in _random_box(40, 2026):
        setting = molrg.Setting(K, d, delta)
        exact = molrg.snr_peak(setting, input=input, method=molrg.Quadrature(rule="fast"))
        if not exact.interior:
            continue
        total += 1
        for form in hits:
            p = molrg.peak(setting, input=input, form=form)
            if p.interior and abs(exact.sigma / p.sigma - 1) <= 0.05 \
                    and abs(exact.snr / p.snr - 1) <= 0.10:
                hits[form] += 1
    assert total >= 25
    assert hits["corrected"] / total >= CORRECTED_COVERAGE[input], (hits, total)
    assert hits["derived"] / total <= 0.6, (hits, total)
