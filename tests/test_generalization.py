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


def test_memorisation_coefficient_is_0_at_the_optimum_1_at_the_empirical_denoiser() -> None:
    opt = molrg.generalization_score(MODEL, _optimal, POINTS, SIGMA, samples=300)
    emp = molrg.generalization_score(MODEL, EMP, POINTS, SIGMA, samples=300)
    assert np.all(opt.toward_empirical == 0.0) and np.all(opt.between > 0)
    assert np.all(np.abs(emp.toward_empirical - 1.0) < 1e-9)
    assert np.allclose(opt.between, emp.to_optimal)  # C = |f_P - f*|^2 = A of f_P


@given(t=st.floats(-0.5, 1.5))
def test_property_coefficient_is_t_on_the_line_and_blind_to_orthogonal_error(t: float) -> None:
    """On the line ``f* + t (f_P - f*)`` the coefficient is ``t`` exactly; adding an error
    orthogonal (per sample) to ``f_P - f*`` leaves it unchanged while ``g`` moves."""
    def line(x: np.ndarray, s: float) -> np.ndarray:
        return (1 - t) * _optimal(x, s) + t * np.asarray(EMP(x, s))

    def noisy(x: np.ndarray, s: float) -> np.ndarray:
        diff = np.asarray(EMP(x, s)) - _optimal(x, s)
        e = np.ones_like(diff)
        e -= np.sum(e * diff, axis=1, keepdims=True) / np.sum(diff * diff, axis=1,
                                                               keepdims=True) * diff
        return line(x, s) + e
    a = molrg.generalization_score(MODEL, line, POINTS, [0.3], samples=200)
    b = molrg.generalization_score(MODEL, noisy, POINTS, [0.3], samples=200)
    assert abs(a.toward_empirical[0] - t) < 1e-8 and abs(b.toward_empirical[0] - t) < 1e-8
    assert abs(b.score[0] - 0.5) < abs(a.score[0] - 0.5) + 1e-12  # g is pulled to 1/2


def test_regime_reads_the_coefficient_in_its_window() -> None:
    emp = molrg.generalization_score(MODEL, EMP, POINTS, SIGMA, samples=300)
    opt = molrg.generalization_score(MODEL, _optimal, POINTS, SIGMA, samples=300)
    assert molrg.memorization_regime(emp).regime == "memorises"
    r = molrg.memorization_regime(opt)
    assert r.regime == "generalises" and r.resolved == 3 and r.coefficient == 0.0
    # no level in the window: nothing resolved, undetermined
    assert molrg.memorization_regime(opt, sigma_max=0.01).regime == "undetermined"
    assert molrg.memorization_regime(emp, sigma_max=0.1).regime == "memorises"
    assert set(r.to_json()) >= {"regime", "coefficient", "where", "lower", "sigma_max"}
    with pytest.raises(TypeError, match="score"):
        molrg.memorization_regime(None)  # type: ignore[arg-type]


def test_training_epochs_give_equal_step_budgets() -> None:
    assert molrg.training_epochs(64, 8000, 128) == 8000
    assert molrg.training_epochs(256, 8000, 128) == 4000
    assert molrg.training_epochs(10**6, 10, 128) == 1
    with pytest.raises(ValueError, match="steps"):
        molrg.training_epochs(64, 0, 128)
