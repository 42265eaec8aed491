"""The backward dynamics (molrg.dynamics): schedule, validation, order, law, backends."""

from __future__ import annotations

import math

import array_api_strict as xps
import numpy as np
import pytest

import molrg
from molrg import uturn
from molrg.dynamics import Sampler, backward, converged, sigma_schedule
from tests.conftest import family_z, to_numpy


def gaussian(v: float):
    """Exact denoiser of N(0, v I): xhat = v / (v + sigma^2) x."""
    return lambda x, s: x * (v / (v + s * s))


def test_schedule_is_log_spaced_decreasing_with_exact_ends():
    s = sigma_schedule(10.0, 1e-3, 8)
    assert s[0] == 10.0 and s[-1] == 1e-3 and s.size == 9
    assert np.all(np.diff(s) < 0)
    np.testing.assert_allclose(np.diff(np.log(s)), math.log(1e-4) / 8, rtol=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    ({"kind": "euler"}, "kind"), ({"steps": 0}, "steps"), ({"sigma_end": 0.0}, "sigma_end"),
    ({"sigma_end": 1e4}, "sigma_end")])
def test_sampler_rejects_bad_options_naming_them(kwargs, name):
    with pytest.raises(molrg.ParameterError, match=name):
        Sampler(**kwargs)


def test_backward_rejects_start_below_end_and_bad_shapes():
    with pytest.raises(molrg.ParameterError, match="sigma_end"):
        backward(gaussian(1.0), np.zeros((3, 2)), 1e-3, Sampler(sigma_end=1e-2))
    with pytest.raises(molrg.ParameterError, match="shape"):
        backward(gaussian(1.0), np.zeros(3), 1.0)


def test_ode_flow_of_a_gaussian_is_exact_to_second_order():
    # dx/dsigma = sigma x / (v + sigma^2): x(s1) = x(s0) sqrt((v + s1^2) / (v + s0^2))
    v, s0, s1 = 0.3, 5.0, 0.01
    x = np.ones((1, 1))
    exact = math.sqrt((v + s1**2) / (v + s0**2))
    errors = [abs(float(backward(gaussian(v), x, s0, Sampler("ode", n, s1))[0, 0]) - exact)
              for n in (16, 32, 64)]
    # Heun is second order: halving the step divides the error by about 4
    assert 3.0 < errors[0] / errors[1] < 5.0 and 3.0 < errors[1] / errors[2] < 5.0


def test_sde_reaches_the_gaussian_law_at_sigma_end():
    v, s0, s1, m = 0.5, 3.0, 0.05, 20000
    rng = np.random.default_rng(1)
    x = rng.standard_normal((m, 4)) * math.sqrt(v + s0**2)
    end = backward(gaussian(v), x, s0, Sampler("sde", 400, s1), seed=2)
    var = end.var(axis=0, ddof=1)
    se = (v + s1**2) * math.sqrt(2 / (m - 1))
    assert np.all(np.abs(var - (v + s1**2)) < family_z(4) * se + 2e-3)  # + EM bias O(step)


def test_ode_runs_on_array_api_strict_and_float32_and_agrees_with_numpy():
    model = molrg.MoLRG(2, 3, 7, 0.3, seed=0)
    x = np.random.default_rng(0).standard_normal((5, 7))
    den = molrg.OptimalDenoiser(model)
    ref = backward(den, x, 2.0, Sampler("ode", 8, 0.05))
    strict = backward(den, xps.asarray(x), 2.0, Sampler("ode", 8, 0.05))
    np.testing.assert_allclose(to_numpy(strict), ref, rtol=1e-10, atol=1e-12)
    single = backward(den, x.astype(np.float32), 2.0, Sampler("ode", 8, 0.05))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, ref, rtol=1e-3, atol=1e-4)


def test_converged_compares_a_halved_step_against_the_combined_error():
    c = converged(lambda s: (1.0 / s.steps, 0.01), Sampler(steps=100))
    assert c.holds and c.steps == 100
    c = converged(lambda s: (1.0 / s.steps, 0.0001), Sampler(steps=10))
    assert not c.holds


def test_law_check_passes_with_fine_steps_and_fails_with_coarse_ones():
    model = molrg.MoLRG(2, 4, 8, 0.2, kind="canonical")
    fine = uturn.law_check(model, sampler=Sampler("ode", 96, 1e-3), samples=1000, seed=3)
    assert min(fine.bonferroni.values()) > 1e-3, fine.bonferroni
    coarse = uturn.law_check(model, sampler=Sampler("ode", 3, 1e-3), samples=1000, seed=3)
    assert min(coarse.bonferroni.values()) < 1e-6, coarse.bonferroni
