"""Tests of the deterministic SNR evaluator (``quadrature.py``).

The reference is ``tests/reference_quadrature.py`` (shares no code with the evaluator).
Every test runs with ``np.seterr(all="raise")`` and warnings as errors (fixture below).

* accuracy: against the independent reference (``reference.py``): precomputed values at
  320 random settings (``tests/data/quadrature_reference_values.json``, regenerate with
  ``python tests/reference_quadrature.py 320 2024 tests/data/quadrature_reference_values.json``,
  about 20 minutes) and a few live evaluations;
* honesty: the actual error never exceeds the reported bound (plus the reference's own);
* Monte Carlo: agreement with ``molrg.snr(..., method="reduced")`` within the family-wise
  threshold of standard errors, including K = 1000;
* safety: no NaN / overflow / invalid operation over the extreme parameter box;
* peaks: ``exact_peak`` against a dense-grid maximisation, the Monte Carlo peaks of the
  README setting, and the non-interior case.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import molrg
from molrg import quadrature as q
from tests import reference_quadrature as ref
from tests.conftest import family_z

REF_FILE = Path(__file__).resolve().parent / "data" / "quadrature_reference_values.json"


@pytest.fixture(autouse=True)
def _strict_fp():
    old = np.seterr(all="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    np.seterr(**old)


def _rows() -> list[dict]:
    return json.loads(REF_FILE.read_text())


# ---------------------------------------------------------------------------------------
# Accuracy against the independent reference
# ---------------------------------------------------------------------------------------
def test_reference_file_covers_the_box():
    rows = _rows()
    assert len(rows) >= 300
    assert {r["K"] for r in rows} == {2, 3}
    assert {r["input"] for r in rows} == {"noisy", "clean"}
    d = np.array([r["d"] for r in rows])
    s = np.array([r["sigma"] for r in rows])
    delta = np.array([r["delta"] for r in rows])
    assert d.min() == 1 and d.max() >= 400
    assert s.min() < 2e-3 and s.max() > 50
    assert delta.min() < 0.05 and delta.max() > 0.95


def test_against_reference_values():
    worst = 0.0
    for r in _rows():
        est, err = q.snr_ratio_of_means(np.array([r["sigma"]]), r["K"], r["d"], r["delta"],
                                        r["input"])
        diff = abs(est[0] - r["ref"])
        rel = diff / r["ref"]
        worst = max(worst, rel)
        assert rel <= 1e-8, r
        # honest bound: actual error (up to the reference's own) within the reported one
        assert diff <= err[0] + r["ref_err"], (r, diff, err[0])
    assert worst < 1e-11  # observed ~1e-13: a regression guard far below the 1e-8 target


def test_fast_rule_against_reference_values():
    for r in _rows()[::4]:
        est, err = q.snr_ratio_of_means(np.array([r["sigma"]]), r["K"], r["d"], r["delta"],
                                        r["input"], rule="fast")
        diff = abs(est[0] - r["ref"])
        assert diff / r["ref"] <= 1e-9, r
        assert diff <= err[0] + r["ref_err"], r


@pytest.mark.parametrize("sigma,K,d,delta,inp", [
    (0.5561, 3, 2, 0.2, "clean"),
    (0.07, 2, 3, 0.05, "noisy"),
    (2.5, 2, 1, 0.6, "clean"),
])
def test_against_reference_live(sigma, K, d, delta, inp):
    r, r_err = ref.snr_ref(sigma, K, d, delta, inp)
    est, err = q.snr_ratio_of_means(np.array([sigma]), K, d, delta, inp)
    assert abs(est[0] - r) <= err[0] + r_err
    assert abs(est[0] - r) / r <= 1e-12


def test_moments_against_reference_blocks():
    """The four block moments separately (not only their combination)."""
    s, K, d, delta, inp = 0.4, 3, 4, 0.15, "clean"
    (A1, A2, B1, B2), e = ref.moments_ref(s, K, d, delta, inp)
    mo = q.moments(np.array([s]), K, d, delta, inp)
    for got, want, tol_ref, tol in ((mo.A1, A1, e[0], mo.A_err[0]), (mo.A2, A2, e[1], mo.A_err[1]),
                                    (mo.B1, B1, e[2], mo.B_err[0]), (mo.B2, B2, e[3], mo.B_err[1])):
        assert abs(float(got[0]) - want) <= float(tol[0]) + tol_ref


# ---------------------------------------------------------------------------------------
# Monte Carlo (frozen molrg copy)
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("K,d,delta,inp,samples", [
    (3, 5, 0.2, "noisy", 100_000),
    (3, 5, 0.2, "clean", 100_000),
    (20, 30, 0.4, "noisy", 20_000),
    (1000, 2, 0.3, "clean", 20_000),
])
def test_monte_carlo_agreement(K, d, delta, inp, samples):
    sigma = np.array([0.1, 0.5, 2.0])
    setting = molrg.Setting(K, d, delta)
    with np.errstate(under="ignore"):
        mc = molrg.snr(setting, sigma, input=inp,
                       method=molrg.MonteCarlo(simulator="reduced", samples=samples, seed=11))
    est, _ = q.snr_ratio_of_means(sigma, K, d, delta, inp)
    z = (est - mc.estimate) / mc.stderr
    assert np.all(np.abs(z) < family_z(3 * 4)), z


# ---------------------------------------------------------------------------------------
# Numerical safety over the extreme box
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [2, 1_000_000])
@pytest.mark.parametrize("d", [1, 512])
@pytest.mark.parametrize("delta", [0.01, 0.99])
@pytest.mark.parametrize("inp", ["noisy", "clean"])
def test_extreme_box_is_finite(K, d, delta, inp):
    sigma = np.geomspace(1e-4, 1e3, 8)
    mo = q.moments(sigma, K, d, delta, inp)
    v0 = 1 + sigma**2 if inp == "noisy" else np.ones_like(sigma)
    v1 = delta**2 + sigma**2 if inp == "noisy" else np.full_like(sigma, delta**2)
    for arr in (mo.EN, mo.ED, mo.EN_err, mo.ED_err, mo.snr, mo.snr_err):
        assert np.all(np.isfinite(arr))
    assert np.all(mo.snr > 0)
    # 0 <= w^2 <= w <= 1 blockwise
    assert np.all((mo.A2 >= 0) & (mo.A2 <= mo.A1 * (1 + 1e-12)) & (v0 * d * (1 + 1e-12) >= mo.A1))
    assert np.all((mo.B2 >= 0) & (mo.B2 <= mo.B1 * (1 + 1e-12)) & (v1 * d * (1 + 1e-12) >= mo.B1))
    assert np.all(mo.snr_err <= 1e-8 * mo.snr)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    K=st.integers(2, 10**6),
    d=st.integers(1, 512),
    delta=st.floats(0.01, 0.99),
    log_sigma=st.floats(-4, 3),
    inp=st.sampled_from(["noisy", "clean"]),
)
def test_random_box_bound_is_small(K, d, delta, log_sigma, inp):
    est, err = q.snr_ratio_of_means(np.array([10.0**log_sigma]), K, d, delta, inp)
    assert np.isfinite(est[0]) and est[0] > 0
    assert 0 <= err[0] <= 1e-8 * est[0]


def test_limits():
    K, d, delta = 4, 6, 0.3
    for inp in ("noisy", "clean"):
        low, high = q.snr_limits(K, d, delta, inp)
        est, _ = q.snr_ratio_of_means(np.array([1e-4 * delta, 1e3]), K, d, delta, inp)
        assert est[0] == pytest.approx(low, rel=1e-6)
        assert est[1] == pytest.approx(high, rel=1e-5)


def test_shapes_and_scalar():
    est, err = q.snr_ratio_of_means(np.array([0.2, 0.3]), 3, 5, 0.2, "noisy")
    assert est.shape == err.shape == (2,) and est.dtype == np.float64
    est0, _err0 = q.snr_ratio_of_means(0.2, 3, 5, 0.2, "noisy")
    assert est0.shape == () and float(est0) == est[0]


def test_cost_independent_of_K():
    """K enters only as an exponent: identical lattices, and the K -> K' change is smooth."""
    s = np.array([0.7])
    a, _ = q.snr_ratio_of_means(s, 10**4, 8, 0.3, "noisy")
    b, _ = q.snr_ratio_of_means(s, 10**4 + 1, 8, 0.3, "noisy")
    assert abs(a[0] - b[0]) / a[0] < 1e-3


# ---------------------------------------------------------------------------------------
# Peak
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("K,d,delta,inp", [
    (3, 5, 0.2, "noisy"),
    (3, 5, 0.2, "clean"),
    (10, 100, 0.1, "noisy"),
    (10**6, 2, 0.5, "clean"),
])
def test_exact_peak_matches_dense_grid(K, d, delta, inp):
    p = q.exact_peak(K, d, delta, inp)
    assert p.interior
    grid = np.geomspace(1e-3, 1e2, 200)
    vals, _ = q.snr_ratio_of_means(grid, K, d, delta, inp, rule="fast")
    i = int(np.argmax(vals))
    assert grid[i - 1] < p.sigma_star < grid[i + 1]
    fine = p.sigma_star * np.exp(np.linspace(-3e-3, 3e-3, 41))
    vf, ef = q.snr_ratio_of_means(fine, K, d, delta, inp)
    j = int(np.argmax(vf))
    assert p.snr_star >= vf.max() - 2 * ef.max()
    assert abs(fine[j] - p.sigma_star) <= p.sigma_star * 1e-4 + p.sigma_star_error
    assert 0 < p.sigma_star_error < 1e-4 * p.sigma_star


def test_exact_peak_readme_setting():
    """Monte Carlo (README): sigma* 0.3259 +- 0.0006 (noisy), 0.5561 +- 0.0003 (clean)."""
    pn = q.exact_peak(3, 5, 0.2, "noisy")
    pc = q.exact_peak(3, 5, 0.2, "clean")
    assert abs(pn.sigma_star - 0.3259) < 4 * 0.0006
    assert abs(pc.sigma_star - 0.5561) < 4 * 0.0003
    assert pn.snr_star == pytest.approx(30.8, abs=0.1)
    assert pc.snr_star == pytest.approx(284, abs=1)


def test_exact_peak_not_interior():
    p = q.exact_peak(2, 1, 0.9, "noisy")
    assert not p.interior and p.sigma_star == 0.0
    assert p.snr_star == pytest.approx(1 / 0.81)
    grid = np.geomspace(1e-4, 1e3, 60)
    vals, _ = q.snr_ratio_of_means(grid, 2, 1, 0.9, "noisy", rule="fast")
    assert vals.max() <= p.snr_star * (1 + 1e-9)
    assert math.isnan(q.exact_peak_details(2, 1, 0.9, "noisy").curvature)
