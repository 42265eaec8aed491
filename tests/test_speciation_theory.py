"""The neighbouring theories' criteria: SymPy derivations against the numerical transcriptions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from molrg import neighbours
from molrg.symbolic import speciation as S  # noqa: N812


@pytest.fixture(scope="module")
def theory():
    return S.derive_speciation()


@pytest.mark.parametrize("d, delta", [(3, 0.1), (5, 0.2), (10, 0.3), (50, 0.5)])
def test_achilli_level_matches_the_derivation_and_balances_mean_and_spread(theory, d, delta):
    s2 = float(theory.achilli_sigma2.subs({S.d: d, S.delta: delta}))
    level = neighbours.achilli_level(d, delta)
    assert level == pytest.approx(math.sqrt(s2), rel=1e-12)
    assert neighbours.free_entropy_balance(d, delta, level) == pytest.approx(1.0, rel=1e-10)


def test_free_entropy_moments_match_a_simulation(theory):
    d, delta, s = 5, 0.3, 0.7
    a, b = 1 + s * s, delta**2 + s * s
    rng = np.random.default_rng(0)
    r_k, r_l = a * rng.chisquare(d, 400000), b * rng.chisquare(d, 400000)
    L = 0.5 * (1 / b - 1 / a) * (r_k - r_l)
    vals = {S.d: d, S.delta: delta, S.sigma: s}
    assert L.mean() == pytest.approx(float(theory.free_entropy_mean.subs(vals)), rel=0.01)
    assert L.var() == pytest.approx(float(theory.free_entropy_var.subs(vals)), rel=0.01)


def test_biroli_spectral_criterion_has_no_level_on_the_molrg(theory):
    for K, delta in [(2, 0.1), (3, 0.5), (10, 0.9)]:
        assert float(theory.biroli_sigma2.subs({S.K: K, S.delta: delta})) < 0
        assert math.isnan(neighbours.biroli_speciation_level(K, delta))


def test_gaussian_collapse_reproduces_the_quoted_ou_time(theory):
    # t_C = 1/2 log(1 + v / (N^{2/D} - 1)) (Biroli et al., as quoted)
    quoted = sp.log(1 + S.v / (S.N ** (2 / S.D) - 1)) / 2
    vals = {S.v: 1.7, S.N: 1000, S.D: 20}
    assert float(theory.biroli_gaussian_t.subs(vals)) == pytest.approx(float(quoted.subs(vals)))


def test_excess_entropy_matches_the_derivation_and_bounds_the_information(theory):
    K, d, delta, s = 3, 5, 0.2, 0.4
    ours = neighbours.excess_entropy(K, d, delta, s, information=False)[0]
    ref = float(theory.excess_entropy_conditional.subs({S.K: K, S.d: d, S.delta: delta,
                                                        S.sigma: s}))
    assert ours == pytest.approx(ref, rel=1e-12)
    info, err = neighbours.class_information(K, d, delta, [1e-3, 0.4, 1e3])
    # the classes overlap even without noise (delta > 0): I < log K at sigma -> 0
    assert math.log(K) - 0.05 < info[0] < math.log(K)
    assert abs(info[2]) < 5 * err[2] + 1e-4 and 0 < info[2] < info[1] < info[0]


def test_collapse_level_solves_excess_entropy_equals_log_n():
    lvl = neighbours.biroli_collapse_level(3, 5, 0.2, 1000)
    assert neighbours.excess_entropy(3, 5, 0.2, lvl)[0] == pytest.approx(math.log(1000), rel=1e-8)
    # more points: the excess entropy must be larger, the collapse level lower
    assert neighbours.biroli_collapse_level(3, 5, 0.2, 10000) < lvl


def test_mutual_information_is_the_chi_square_law_average():
    K, d, delta, s = 2, 3, 0.4, 0.5
    info, err = neighbours.class_information(K, d, delta, s, samples=200000)
    a, b = 1 + s * s, delta**2 + s * s
    # K = 2: I = log 2 - E[h(sigmoid(c (r0 - r1)))] by 2-D quadrature over the chi-squares
    c = 0.5 * (1 / b - 1 / a)
    x = stats.chi2(d).ppf((np.arange(400) + 0.5) / 400)
    diff = c * (a * x[:, None] - b * x[None, :])
    p = 1 / (1 + np.exp(-diff))
    h = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    assert info[0] == pytest.approx(math.log(2) - h.mean(), abs=5 * err[0] + 2e-3)
