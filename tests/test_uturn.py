"""U-turn experiments (molrg.uturn): levels, the ODE/Bayes identity, collapse."""

from __future__ import annotations

import math

import numpy as np
import pytest

import molrg
from molrg import levels, uturn
from molrg.dynamics import Sampler
from molrg.probes import bayes_accuracy_exact
from tests.conftest import family_z


def test_crossing_interpolates_in_log_sigma():
    sigma = np.array([0.1, 1.0, 10.0])
    lvl = levels.crossing(sigma, [100, 60, 20], [100, 100, 100], 0.5, bootstrap=50)
    # between 1 (0.6) and 10 (0.2): a quarter of the way in log sigma
    assert lvl.found and lvl.sigma == pytest.approx(10**0.25)
    assert lvl.low <= lvl.sigma <= lvl.high


@pytest.mark.parametrize("counts, where", [([40, 30, 20], "below grid"),
                                           ([100, 90, 80], "above grid")])
def test_crossing_outside_the_grid_is_nan_and_says_where(counts, where):
    lvl = levels.crossing([0.1, 1.0, 10.0], counts, [100] * 3, 0.5, bootstrap=20)
    assert math.isnan(lvl.sigma) and lvl.position == where and not lvl.found


def test_crossing_rejects_inconsistent_counts():
    with pytest.raises(molrg.ParameterError, match="successes"):
        levels.crossing([0.1, 1.0], [5, 200], [100, 100], 0.5)


def test_ode_uturn_equals_the_exact_bayes_accuracy_of_x_sigma():
    # The ODE of the MoLRG's optimal denoiser scales block l by a factor increasing in its
    # energy, so it never reorders the block energies: the U-turn ends in the class that
    # argmax ||U_l^T x_sigma||^2 picks -- the Bayes accuracy at sigma (an exact oracle).
    model = molrg.MoLRG(3, 4, 12, 0.3, kind="canonical")
    sigma = np.geomspace(0.1, 3.0, 6)
    curve = uturn.speciation_curve(model, sigma, sampler=Sampler("ode", 12, 1e-3),
                                   samples=1500, seed=5)
    exact = bayes_accuracy_exact(model.setting, sigma)[0]
    se = np.sqrt(exact * (1 - exact) / 1500) + 1e-9
    assert np.all(np.abs(curve.p_same - exact) <= family_z(6) * se)


def test_sde_uturn_goes_from_certain_to_chance():
    model = molrg.MoLRG(2, 5, 10, 0.2, kind="canonical")
    curve = uturn.speciation_curve(model, [0.02, 30.0], sampler=Sampler("sde", 60, 1e-3),
                                   samples=600, seed=1)
    assert curve.p_same[0] > 0.97
    assert abs(curve.p_same[1] - 0.5) < family_z(1) * math.sqrt(0.25 / 600)


def test_collapse_returns_to_its_own_point_at_small_sigma_and_not_at_large():
    rng = np.random.default_rng(0)
    pts = rng.standard_normal((30, 6)) * 3.0
    c = uturn.collapse_curve(pts, [0.05, 100.0], sampler=Sampler("sde", 60, 1e-3),
                             samples=300, seed=2)
    assert c.p_own[0] > 0.97 and c.p_any[0] > 0.97
    assert c.p_own[1] < 0.2 and c.p_any[1] > 0.97  # still lands on a point, a random one
