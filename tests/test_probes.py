"""molrg.probe_accuracy: the exact Bayes accuracy against Monte Carlo of the same probe, its
monotonicity, every probe and denoiser kind, backends, validation, the curve statistics,
and the memory bound of the empirical denoiser at N = 1e5, n = 1024."""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import molrg
from molrg import concordance, curve_shape, probe_accuracy
from molrg import grid_peak as peak_sigma
from molrg.probes import CLEAN_SIGMA, bayes_accuracy_exact
from tests.conftest import examples, family_z
from tests.strategies import seeds, sigmas, theory_params

BASE = 10  # base examples of each property (the profile multiplies them)


def _binomial_agrees(successes: float, m: int, p: float, z: float) -> bool:
    """Exact two-sided binomial test at the tail probability of ``z`` (skewed cases too)."""
    alpha = 2 * stats.norm.sf(z)
    k = round(successes)
    tail = min(stats.binom.cdf(k, m, p), stats.binom.sf(k - 1, m, p))
    return bool(2 * tail > alpha)


@examples(BASE)
@given(params=theory_params(), sigma=sigmas(1e-2, 1e1), noisy=st.booleans(), seed=seeds)
def test_exact_bayes_accuracy_matches_monte_carlo_of_the_same_probe(
        params: tuple[int, int, float], sigma: float, noisy: bool, seed: int) -> None:
    """Quadrature vs argmax of K simulated chi-square block energies, over the whole box."""
    setting = molrg.Setting(*params)
    mode = "noisy" if noisy else "clean"
    exact = probe_accuracy(setting, sigma, input=mode)
    m = 20_000
    mc = probe_accuracy(setting, sigma, input=mode,
                        method=molrg.MonteCarlo(simulator="reduced", samples=m, seed=seed))
    assert exact.method == "quadrature" and exact.n_samples == 0
    assert float(exact.stderr) < 1e-9
    assert _binomial_agrees(float(mc.estimate) * m, m, float(exact.estimate),
                            family_z(1, BASE))


@examples(BASE // 2)
@given(K=st.integers(2, 4), d=st.integers(1, 6), delta=st.floats(0.05, 0.9),
       sigma=sigmas(3e-2, 3.0), noisy=st.booleans(), seed=seeds)
def test_exact_bayes_accuracy_matches_the_projection_probe_on_simulated_features(
        K: int, d: int, delta: float, sigma: float, noisy: bool, seed: int) -> None:
    """Quadrature vs the probe applied to the DAE features of x_t simulated in R^n."""
    model = molrg.MoLRG(K, d, K * d + 3, delta, seed=seed % 1000)
    mode = "noisy" if noisy else "clean"
    exact = float(probe_accuracy(model, sigma, input=mode).estimate)
    m = 1500 * K
    mc = probe_accuracy(model, sigma, input=mode,
                        method=molrg.MonteCarlo(simulator="ambient", samples=m, seed=seed))
    assert _binomial_agrees(float(mc.estimate) * m, m, exact, family_z(1, BASE // 2))


@pytest.mark.parametrize("d", [1, 2, 5, 64])
@pytest.mark.parametrize(("sigma", "delta", "mode"), [(0.01, 0.2, "noisy"), (0.5, 0.2, "noisy"),
                                                      (30.0, 0.9, "noisy"), (1.0, 0.05, "clean")])
def test_two_classes_match_the_f_distribution(d: int, sigma: float, delta: float,
                                              mode: str) -> None:
    """K = 2: P(correct) = P(F(d, d) < rho), an independent closed form."""
    value, bound = bayes_accuracy_exact(molrg.Setting(2, d, delta), sigma, input=mode)
    rho = (1 + sigma**2) / (delta**2 + sigma**2) if mode == "noisy" else 1 / delta**2
    assert abs(float(value) - stats.f.cdf(rho, d, d)) <= float(bound) + 1e-15
    assert float(bound) < 1e-10


def test_bayes_accuracy_falls_with_sigma_noisy_and_is_constant_clean() -> None:
    """Data processing: never unimodal; 1/K in the limit."""
    setting = molrg.Setting(3, 5, 0.2)
    grid = np.geomspace(1e-3, 1e3, 60)
    noisy, bound = bayes_accuracy_exact(setting, grid)
    assert np.all(np.diff(noisy) < 0)
    assert np.all(bound < 1e-10)
    clean, _ = bayes_accuracy_exact(setting, grid, input="clean")
    assert np.ptp(clean) == 0.0
    assert abs(noisy[0] - clean[0]) < 1e-4
    assert abs(float(bayes_accuracy_exact(setting, 1e6)[0]) - 1 / 3) < 1e-9
    shape = curve_shape(noisy, bound, 4.0)
    assert shape.shape == "decreasing" and shape.argmax == 0


def test_dae_with_the_true_basis_is_the_optimal_denoiser() -> None:
    model = molrg.MoLRG(3, 4, 20, 0.3, seed=2)
    dae = molrg.DAE(model.basis, 3, 0.3)
    sig = [0.1, 0.5]
    a = probe_accuracy(model, sig)
    b = probe_accuracy(model, sig, denoiser=dae)
    np.testing.assert_array_equal(a.estimate, b.estimate)
    e1 = probe_accuracy(model, sig, probe="energy", method=molrg.Auto(molrg.MonteCarlo(samples=600, seed=1)))
    e2 = probe_accuracy(model, sig, probe="energy", denoiser=dae,
                        method=molrg.Auto(molrg.MonteCarlo(samples=600, seed=1)))
    np.testing.assert_array_equal(e1.estimate, e2.estimate)
    assert "Bayes" in a.classifier


def _perturbed(model: molrg.MoLRG, eta: float = 0.6) -> molrg.DAE:
    from verify.probe import perturbed_basis

    return molrg.DAE(perturbed_basis(model, eta, 3), model.K, model.delta)


@pytest.mark.parametrize("kind", ["optimal", "dae", "mixture", "empirical-small", "empirical"])
def test_backends_agree_exactly(kind: str) -> None:
    """The simulation runs on array_api_strict with the same draws as on NumPy."""
    model = molrg.MoLRG(2, 3, 8, 0.3, seed=1)
    target: object = model
    den: object = None
    if kind == "dae":
        den = _perturbed(model)
    elif kind == "mixture":
        target = molrg.LowRankMixture.two_subspaces(8, 3, 40.0, delta=0.3)
    elif kind.startswith("empirical"):
        pts, _ = model.sample(4 if kind == "empirical-small" else 40, 3)
        den = molrg.EmpiricalDenoiser(pts)
    for probe in ("bayes", "energy"):
        kw = {"probe": probe, "denoiser": den}
        mc = molrg.MonteCarlo(simulator="ambient", samples=300, seed=4)
        a = probe_accuracy(target, [0.2, 1.0], method=mc, **kw)
        b = probe_accuracy(target, [0.2, 1.0], method=mc.replace(backend="array_api_strict"), **kw)
        np.testing.assert_array_equal(a.estimate, b.estimate)


def test_bayes_rules_for_other_denoisers() -> None:
    model = molrg.MoLRG(3, 4, 20, 0.2, seed=0)
    sig = [0.05, 0.4, 2.0]
    m = 6000
    exact = probe_accuracy(model, sig).estimate
    # A perturbed DAE keeps V^T x only: it can never beat the Bayes rule on x.
    dae = probe_accuracy(model, sig, denoiser=_perturbed(model),
                         method=molrg.Auto(molrg.MonteCarlo(samples=m, seed=1)))
    assert "V^T" in dae.classifier
    assert np.all(dae.estimate <= exact + 4 * dae.stderr + 1e-12)
    # Enough training points: the features keep everything (injective), Bayes = optimum.
    pts, _ = model.sample(200, 2)
    emp = probe_accuracy(model, sig, denoiser=molrg.EmpiricalDenoiser(pts),
                         method=molrg.Auto(molrg.MonteCarlo(samples=m, seed=1)))
    assert "class_posterior" in emp.classifier
    z = family_z(3)
    assert np.all(np.abs(emp.estimate - exact) <= z * np.sqrt(exact * (1 - exact) / (m // 3 * 3))
                  + 1e-12)
    # Few points: only their span is kept, and accuracy is lost.
    few = probe_accuracy(model, sig, denoiser=molrg.EmpiricalDenoiser(pts[:5]),
                         method=molrg.Auto(molrg.MonteCarlo(samples=m, seed=1)))
    assert "4-dim span" in few.classifier
    assert few.estimate[0] < exact[0] - 0.05


def test_mixture_bayes_is_the_class_posterior_and_decreases() -> None:
    mix = molrg.LowRankMixture.separated(2, 3, 12, 2.0, delta=0.2)
    res = probe_accuracy(mix, np.geomspace(0.05, 10, 8),
                         method=molrg.Auto(molrg.MonteCarlo(samples=4000, seed=0)))
    assert "class_posterior" in res.classifier
    assert curve_shape(res.estimate, res.stderr, 4.0).shape in ("decreasing", "flat")
    clean = probe_accuracy(mix, [0.1, 5.0], input="clean",
                           method=molrg.Auto(molrg.MonteCarlo(samples=1000, seed=0)))
    assert clean.estimate[0] == clean.estimate[1]
    assert CLEAN_SIGMA < 1e-3


def test_linear_probe_is_held_out_near_chance_and_reproducible() -> None:
    model = molrg.MoLRG(3, 3, 12, 0.2, seed=0)
    a = probe_accuracy(model, [0.3, 50.0], probe="linear", train_samples=900,
                       method=molrg.Auto(molrg.MonteCarlo(samples=1500, seed=3)))
    b = probe_accuracy(model, [0.3, 50.0], probe="linear", train_samples=900,
                       method=molrg.Auto(molrg.MonteCarlo(samples=1500, seed=3)))
    np.testing.assert_array_equal(a.estimate, b.estimate)
    assert a.train_samples == 900 and a.n_samples == 1500
    assert abs(a.estimate[1] - 1 / 3) < 5 * a.stderr[1]  # pure noise: chance
    assert a.estimate[0] < 0.7  # zero-mean symmetric classes: far below Bayes (0.99)
    expected = np.sqrt(np.sum((a.per_class * (1 - a.per_class) / 500) / 9, axis=-1))
    # stderr is the Wilson interval's half-width / 1.96: the Wald error to O(1/n) (n=1500)
    np.testing.assert_allclose(a.stderr, expected, rtol=0.01)


def test_wilson_interval_matches_scipy_and_never_has_width_zero() -> None:
    """Issue 24: the Wald error was 0 at accuracy 1; the Wilson interval is not, and it is
    scipy's (binomtest(...).proportion_ci(method='wilson'))."""
    from scipy.stats import binomtest

    from molrg.probes import wilson_interval

    for k, n in ((0, 10), (10, 10), (7, 10), (400, 400), (1, 3)):
        lo, hi = wilson_interval(k / n, n)
        ref = binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (float(lo), float(hi)) == pytest.approx((ref.low, ref.high), abs=1e-12)
        assert hi - lo > 0
    setting = molrg.Setting(2, 5, 0.05)  # accuracy 1 at tiny sigma
    res = probe_accuracy(setting, [1e-3], method=molrg.MonteCarlo(simulator="reduced", samples=200, seed=0))
    assert res.estimate[0] == 1.0 and res.stderr[0] > 0
    assert res.lower[0] < 1.0 and res.upper[0] == 1.0
    ref = binomtest(200, 200).proportion_ci(0.95, method="wilson")
    assert res.lower[0] == pytest.approx(ref.low, abs=1e-12)


def test_energy_probe_of_a_memorising_denoiser_is_below_bayes() -> None:
    model = molrg.MoLRG(3, 4, 20, 0.2, seed=0)
    pts, _ = model.sample(30, 1)
    res = probe_accuracy(model, 0.02, probe="energy", denoiser=molrg.EmpiricalDenoiser(pts),
                         method=molrg.Auto(molrg.MonteCarlo(samples=3000, seed=0)))
    assert float(res.estimate) < float(probe_accuracy(model, 0.02).estimate) - 0.03


BAD = [
    ({"model": "x"}, "model="),
    ({"sigma": -1.0}, "sigma=-1.0 is out of range"),
    ({"probe": "knn"}, "probe='knn' is not valid"),
    ({"input": "x"}, "input='x' is not valid"),
    ({"mc": {"samples": 3}}, r"samples=3 is out of range; valid: \[6"),
    ({"mc": {"seed": -1}}, "seed=-1 is out of range"),
    ({"method": "exact"}, "method='exact' is not valid"),
    ({"mc": {"backend": "torch"}}, "backend='torch' is not valid"),
    ({"train_samples": 100}, "train_samples=100 applies to probe='linear' only"),
    ({"probe": "linear", "train_samples": 2}, "train_samples=2 is out of range"),
    ({"denoiser": 3}, "denoiser=3 must be None"),
    ({"denoiser": lambda x, s: x}, "probe='bayes' needs a denoiser whose feature map is known"),
    ({"probe": "energy", "method": "quadrature"}, "method='quadrature' applies to probe='bayes'"),
    ({"probe": "bayes", "method": "reduced", "denoiser": "dae"}, "method='reduced' applies"),
    ({"denoiser": "dae-n"}, "denoiser has n=7; valid: the model's n=6"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD)
def test_validation_names_the_parameter(kwargs: dict, match: str) -> None:
    model = molrg.MoLRG(3, 2, 6, 0.2)
    args = {"model": model, "sigma": 0.5}
    args.update(kwargs)
    if args.get("denoiser") == "dae":
        args["denoiser"] = molrg.DAE(molrg.models.haar_basis(6, 6, 1), 3, 0.2)
    elif args.get("denoiser") == "dae-n":
        args["denoiser"] = molrg.DAE(molrg.models.haar_basis(7, 6, 1), 3, 0.2)
    with pytest.raises(molrg.ParameterError, match=match):
        if "mc" in args:  # Monte Carlo settings: checked when the method object is built
            args["method"] = molrg.Auto(molrg.MonteCarlo(**args.pop("mc")))
        probe_accuracy(args.pop("model"), args.pop("sigma"), **args)


def test_a_setting_needs_the_exact_or_reduced_method() -> None:
    with pytest.raises(molrg.ParameterError, match="needs a model with n"):
        probe_accuracy(molrg.Setting(2, 2, 0.2), 0.5, method="ambient")
    with pytest.raises(molrg.ParameterError, match="probe='linear'"):
        probe_accuracy(molrg.Setting(2, 2, 0.2), 0.5, probe="linear")


def test_result_shape_and_json() -> None:
    res = probe_accuracy(molrg.Setting(2, 3, 0.3), np.array([0.1, 1.0]))
    assert res.estimate.shape == (2,) and res.per_class.shape == (2, 2)
    scalar = probe_accuracy(molrg.Setting(2, 3, 0.3), 0.1)
    assert scalar.estimate.shape == () and scalar.per_class.shape == (2,)
    assert {"estimate", "stderr", "probe", "method", "classifier"} <= set(res.to_json())
    assert molrg.ProbeResult is type(res)


# ---------------------------------------------------------------------------- statistics
def test_curve_shapes_on_crafted_curves() -> None:
    se = np.full(5, 0.01)
    assert curve_shape([1, 2, 3, 2, 1], se, 4).shape == "unimodal"
    assert curve_shape([3, 2.5, 2, 1, 0], se, 4).shape == "decreasing"
    assert curve_shape([0, 1, 2, 3, 4], se, 4).shape == "increasing"
    # flat / no rise must be shown (within tol = 2% at 4 errors), not merely not refuted
    assert curve_shape([1, 1.001, 1, 1.001, 1], se / 10, 4).shape == "flat"
    assert curve_shape([1, 1.001, 1, 1.001, 1], se, 4).shape == "undetermined"
    assert curve_shape([1, 3, 1, 3, 1], se, 4).shape == "irregular"
    assert curve_shape([1, 1.01, 1.0, 0.5, 0.2], se, 4).shape == "undetermined"  # rise < 4 errors
    assert curve_shape([1, 1.001, 1.0, 0.5, 0.2], se / 10, 4).shape == "decreasing"


def test_peak_sigma_refines_a_parabola_in_log_sigma() -> None:
    grid = np.geomspace(0.1, 10, 21)
    y = -(np.log(grid) - math.log(0.73)) ** 2
    assert abs(peak_sigma(grid, y) - 0.73) < 1e-9
    assert peak_sigma(grid, -grid) == grid[0]


def test_concordance_counts_significant_discordance_only() -> None:
    x = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    up = np.array([0.1, 0.2, 0.3, 0.2, 0.1])
    se = np.full(5, 1e-3)
    ok = concordance(x, se, up, se, 4)
    assert ok.discordant == 0 and ok.tau > 0.99
    down = np.array([0.5, 0.4, 0.3, 0.2, 0.1])  # falls while x rises then falls
    bad = concordance(x, se, down, se, 4)
    assert bad.discordant > 0 and bad.worst is not None
    assert concordance(x, se * 1e3, down, se * 1e3, 4).discordant == 0


# ---------------------------------------------------------------------------- memory
def test_empirical_denoiser_is_memory_bounded_at_1e5_points_in_1024_dimensions() -> None:
    """The SNR of a memorising denoiser (N = 1e5, n = 1024, float32) through the ambient
    simulator: the tracemalloc peak stays within the denoiser's budget plus the documented
    per-call (N,) vector, the simulator's small batch and slack.  Without point chunking the
    (m, N) logits alone would take 6.4 MB here (measured peak: 13.6 MB)."""
    model = molrg.MoLRG(2, 2, 1024, 0.2, seed=0)
    points, _ = model.sample(100_000, 1, dtype="float32")
    budget = 4 << 20
    den = molrg.EmpiricalDenoiser(points, memory_budget=budget)
    method = molrg.MonteCarlo(simulator="ambient", samples=32, seed=0, dtype="float32",
                              memory=1 << 16)
    tracemalloc.start()
    try:
        res = molrg.snr(model, 0.5, denoiser=den, method=method)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.isfinite(res.estimate)
    per_call = 4 * points.shape[0]  # the documented (N,) scaled half norms
    batch = 8 * 16 * 1024 * 4  # a few (16, n) float32 blocks of the simulator
    assert peak <= budget + per_call + batch + (1 << 20), peak


def test_a_perfect_accuracy_does_not_claim_a_zero_error() -> None:
    """Issue 20: every test sample right (accuracy exactly 1 at tiny sigma) gave stderr 0,
    so any difference was 'infinitely significant'.  Wilson interval: stderr > 0."""
    model = molrg.MoLRG(3, 5, 50, 0.05, seed=0)

    def identity(x: Any, sigma: float) -> Any:
        return x

    res = probe_accuracy(model, 1e-3, probe="energy", denoiser=identity,
                         method=molrg.Auto(molrg.MonteCarlo(samples=300, seed=0)))
    assert res.method == "ambient" and float(res.estimate) == 1.0
    assert 0 < float(res.stderr) < 0.02


def test_the_removed_monte_carlo_keywords_raise_and_auto_carries_them() -> None:
    """``samples=``/``seed=``/``backend=`` are gone (a plain TypeError); their migration
    ``method=molrg.Auto(molrg.MonteCarlo(...))`` is quadrature where it applies, else the
    ambient simulator with those settings."""
    model = molrg.MoLRG(3, 4, 20, 0.3, seed=2)
    for old in ({"samples": 600}, {"seed": 1}, {"backend": "numpy"}):
        with pytest.raises(TypeError):
            probe_accuracy(model, 0.5, **old)
    auto = molrg.Auto(molrg.MonteCarlo(samples=600, seed=1))
    a = probe_accuracy(model, [0.2, 1.0], probe="energy", method=auto)
    b = probe_accuracy(model, [0.2, 1.0], probe="energy",
                       method=molrg.MonteCarlo(simulator="ambient", samples=600, seed=1))
    np.testing.assert_array_equal(a.estimate, b.estimate)
    assert a.method == "ambient" and probe_accuracy(model, 0.5, method=auto).method == "quadrature"
    word = probe_accuracy(model, [0.2, 1.0], probe="energy")
    np.testing.assert_array_equal(word.estimate, probe_accuracy(
        model, [0.2, 1.0], probe="energy", method=molrg.Auto()).estimate)
    assert molrg.plan.PROBE_SAMPLES - 3 < word.n_samples <= molrg.plan.PROBE_SAMPLES  # by class
