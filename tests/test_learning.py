"""``molrg.learning`` (no torch) and the claim logic of ``verify learning``."""

from __future__ import annotations

import numpy as np
import pytest

import molrg
from verify.learning import LearningOptions, LearningResult, evaluate_claims


def test_log_checkpoints_are_sorted_unique_and_span_the_run() -> None:
    steps = molrg.log_checkpoints(5, 6000, 7)
    assert steps[0] == 5 and steps[-1] == 6000 and list(steps) == sorted(set(steps))
    assert molrg.log_checkpoints(1, 3, 10) == (1, 2, 3)


def test_rank_correlation_exact_and_monte_carlo() -> None:
    r = molrg.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1])
    assert r.rho == -1.0 and r.exact and r.p_negative == pytest.approx(1 / 24)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(30)
    big = molrg.rank_correlation(x, x + 0.1 * rng.standard_normal(30), resamples=2000)
    assert not big.exact and big.rho > 0.9 and big.p < 0.01 and big.p_negative > 0.99
    with pytest.raises(molrg.ParameterError):
        molrg.rank_correlation([1, 2], [1, 2])


def test_checkpoint_curves_orders_steps_and_puts_the_optimum_at_zero_distance() -> None:
    m = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0)
    p, _ = m.sample(5, 0)
    half = lambda x, s: 0.5 * (molrg.posterior_mean(m, x, s) + molrg.EmpiricalDenoiser(p)(x, s))  # noqa: E731
    c = molrg.checkpoint_curves(m, {7: half, 2: lambda x, s: molrg.posterior_mean(m, x, s)}, p,
                                [0.3, 1.0], evaluation=molrg.StudyOptions(
                                    samples=300, replicates=3, probe_samples=100,
                                    score_samples=200))
    assert c.steps == (2, 7) and c.distance[0] == 0.0 and c.distance[1] > 0
    assert np.allclose(c.score[1], 0.5) and c.snr.shape == (2, 2)
    assert c.peak_probe.shape == (2,) and set(c.to_json()) >= {"distance", "shapes"}


def _analysis(shapes: list[str], D: list[float], peak: list[float]) -> dict:
    corr = molrg.rank_correlation(peak, D).to_json()
    bd, bp = int(np.argmin(D)), int(np.argmax(peak))
    return {"steps": list(range(1, len(D) + 1)), "shapes": shapes, "flagged": [False] * len(D),
            "distance": D, "distance_stderr": [0.01] * len(D), "peak_probe": peak,
            "least_distance_index": bd, "best_probe_index": bp,
            "distance_regret": D[bp] / D[bd] - 1, "distance_regret_z": (D[bp] - D[bd]) / 0.0142,
            "correlation": corr, "g_smallest_sigma_last": 0.9, "g_max_last": 0.95,
            "g_max_sigma_last": 1.0}


def test_claims_hold_for_the_papers_picture_and_deviate_for_its_opposite() -> None:
    o = LearningOptions.quick()
    paper = _analysis(["decreasing", "unimodal", "unimodal", "unimodal", "decreasing"],
                      [3.0, 1.0, 0.5, 0.8, 2.0], [0.4, 0.6, 0.7, 0.5, 0.45])
    claims = evaluate_claims(o, paper)
    by = {c.name: c for c in claims}
    assert by["early-unimodal"].holds and by["late-monotone"].holds
    assert by["probe-selects-optimum"].holds
    assert by["probe-anticorrelates"].measured < 0
    opposite = _analysis(["decreasing"] * 5, [1.0, 2.0, 3.0, 4.0, 5.0], [0.4, 0.5, 0.6, 0.7, 0.8])
    res = LearningResult(o, {}, {}, opposite, evaluate_claims(o, opposite))
    by = {c.name: c for c in res.claims}
    assert not by["early-unimodal"].holds and not by["probe-selects-optimum"].holds
    assert not by["probe-anticorrelates"].holds and not by["probe-anticorrelates"].undetermined
    assert res.verdict == "deviates"
    flagged = dict(paper, flagged=[False, False, True, False, False])
    by = {c.name: c for c in evaluate_claims(o, flagged)}
    assert by["early-unimodal"].undetermined and not by["early-unimodal"].holds
