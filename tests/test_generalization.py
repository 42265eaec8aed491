"""molrg.generalization_score: 0 at the optimum, 1 at the empirical denoiser, and the
segment between them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import molrg

MODEL = molrg.MoLRG(3, 2, 10, 0.2, seed=0)
POINTS = np.asarray(MODEL.sample(40, 1)[0])
SIGMA = [0.05, 0.3, 1.0]


def _optimal(x: np.ndarray, s: float) -> np.ndarray:
    return np.asarray(molrg.posterior_mean(MODEL, x, s))


EMP = molrg.EmpiricalDenoiser(POINTS)


def test_score_is_zero_at_the_optimum_and_one_at_the_empirical_denoiser() -> None:
    opt = molrg.generalization_score(MODEL, _optimal, POINTS, SIGMA, samples=300)
    assert np.all(opt.score == 0.0) and np.all(opt.to_optimal == 0.0)
    assert np.all(opt.to_empirical > 0)
    emp = molrg.generalization_score(MODEL, EMP, POINTS, SIGMA, samples=300)
    # the reference uses the span coordinates, this one R^n: equal to rounding
    assert np.all(np.abs(emp.score - 1.0) < 1e-9)
    assert set(opt.to_json()) >= {"score", "stderr", "sigma"}


@given(t=st.floats(0.05, 0.95))
def test_property_score_on_the_segment_is_t2_over_t2_plus_1mt2(t: float) -> None:
    def mix(x: np.ndarray, s: float) -> np.ndarray:
        return (1 - t) * _optimal(x, s) + t * np.asarray(EMP(x, s))
    res = molrg.generalization_score(MODEL, mix, POINTS, [0.3], samples=200)
    want = t**2 / (t**2 + (1 - t) ** 2)
    assert abs(res.score[0] - want) < 1e-8


def test_errors_cover_between_independent_evaluations() -> None:
    """A shrunk optimum (0.8 f*): two seeds agree within 4 combined errors."""
    def shrunk(x: np.ndarray, s: float) -> np.ndarray:
        return 0.8 * _optimal(x, s)
    a = molrg.generalization_score(MODEL, shrunk, POINTS, [0.3], samples=2000, seed=1)
    b = molrg.generalization_score(MODEL, shrunk, POINTS, [0.3], samples=2000, seed=2)
    assert 0 < a.score[0] < 1 and a.stderr[0] > 0
    assert abs(a.score[0] - b.score[0]) < 4 * np.hypot(a.stderr[0], b.stderr[0])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="points"):
        molrg.generalization_score(MODEL, EMP, POINTS[:, :3], SIGMA)
    with pytest.raises(TypeError, match="denoiser"):
        molrg.generalization_score(MODEL, None, POINTS, SIGMA)
