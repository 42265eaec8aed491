"""molrg.denoiser: the exact posterior mean and the parameterised DAE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, target
from hypothesis import strategies as st

import molrg
from molrg.denoiser import block_energies, softmax_weights
from tests import reference_bayes
from tests.conftest import examples, to_numpy
from tests.strategies import model_params, seeds, sigmas


def _noisy_points(model: molrg.MoLRG, sigma: float, seed: int, num: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x0, _ = model.sample(num, rng)
    return np.asarray(x0) + sigma * rng.standard_normal((num, model.n))


@examples(25)
@given(params=model_params(K_max=6, d_max=8, n_max=64), sigma=sigmas(1e-3, 1e2), seed=seeds)
@example(params={"K": 2, "d": 1, "n": 2, "delta": 0.05, "kind": "canonical", "seed": 0},
         sigma=1e-3, seed=0)
@example(params={"K": 6, "d": 8, "n": 64, "delta": 0.9, "kind": "random", "seed": 1},
         sigma=1e2, seed=1)
@example(params={"K": 2, "d": 1, "n": 12, "delta": 0.5, "kind": "random", "seed": 11},
         sigma=math.exp(4.5), seed=1)  # found by `thorough`: the Tweedie reference cancelled
def test_posterior_mean_equals_brute_force_bayes(params: dict, sigma: float, seed: int) -> None:
    """Property 1: E[x0 | x_t] equals dense Bayes to 1e-10 relative (float64, n <= 64)."""
    m = molrg.MoLRG(**params)
    x = _noisy_points(m, sigma, seed)
    got = np.asarray(molrg.posterior_mean(m, x, sigma))
    want = reference_bayes.posterior_mean(m.basis, m.K, m.d, m.delta, x, sigma)
    rel = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
    target(float(np.log10(rel.max() + 1e-300)), label="property 1: log10 relative error")
    assert rel.max() < 1e-10, rel.max()


@pytest.mark.parametrize("sigma", [1e-4, 1e-2, 1.0, 1e2, 1e3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_posterior_mean_is_finite_and_accurate_from_1e_minus_4_to_1e3(
        sigma: float, dtype: str) -> None:
    """No NaN/overflow at extreme noise; float32 tracks float64 to float32 precision."""
    m = molrg.MoLRG(8, 16, 256, 0.05)
    x64 = _noisy_points(m, sigma, 7, num=64)
    ref = np.asarray(molrg.posterior_mean(m, x64, sigma))
    got = np.asarray(molrg.posterior_mean(m, x64.astype(dtype), sigma))
    assert got.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(got))
    rel = np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)
    assert rel.max() < (1e-3 if dtype == "float32" else 1e-13), rel.max()


def test_posterior_mean_on_array_api_strict_matches_numpy() -> None:
    import array_api_strict as xps

    m = molrg.MoLRG(4, 3, 20, 0.3)
    x = _noisy_points(m, 0.5, 3, num=10)
    got = molrg.posterior_mean(m, xps.asarray(x), 0.5)
    assert type(got) is type(xps.asarray(0.0))
    np.testing.assert_array_equal(to_numpy(got), np.asarray(molrg.posterior_mean(m, x, 0.5)))


def test_softmax_survives_huge_logits() -> None:
    """Logits far beyond exp's range (exp(800) overflows) still give exact weights."""
    w = np.asarray(softmax_weights(np.array([[1e300, 1e300, 0.0], [800.0, 799.0, -800.0]])))
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(w[1, :2], [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))])


def test_block_energies_sum_squares_per_block() -> None:
    y = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(np.asarray(block_energies(y, 3)),
                                  [[1, 13, 41], [85, 145, 221]])


@examples(10)
@given(params=model_params(K_max=6, d_max=8, n_max=64), sigma=sigmas(), seed=seeds)
def test_dae_with_the_true_basis_is_the_optimal_denoiser(params: dict, sigma: float,
                                                         seed: int) -> None:
    """Property 2a: U D U^T x with U = U* is E[x0 | x_t = x]; features h = D U^T x."""
    m = molrg.MoLRG(**params)
    x = _noisy_points(m, sigma, seed)
    xhat = np.asarray(molrg.dae(x, sigma, basis=m.basis, K=m.K, delta=m.delta))
    np.testing.assert_allclose(xhat, np.asarray(molrg.posterior_mean(m, x, sigma)),
                               rtol=0, atol=1e-12 * np.abs(xhat).max())
    h = np.asarray(molrg.features(x, sigma, basis=m.basis, K=m.K, delta=m.delta))
    np.testing.assert_allclose(h @ m.basis.T, xhat, atol=1e-12 * np.abs(xhat).max())


def _other_basis(m: molrg.MoLRG, how: str, rng: np.random.Generator) -> np.ndarray:
    if how == "random":
        return molrg.MoLRG(m.K, m.d, m.n, m.delta, seed=int(rng.integers(1 << 30))).basis
    if how == "perturbed":
        q, r = np.linalg.qr(m.basis + 0.2 * rng.standard_normal(m.basis.shape) / math.sqrt(m.n))
        return q * np.sign(np.diag(r))
    # rotated within the union of subspaces: mixes the classes' blocks
    q, _ = np.linalg.qr(rng.standard_normal((m.rank, m.rank)))
    return m.basis @ q


@examples(8)
@given(params=model_params(K_max=5, d_max=6, n_max=40), sigma=sigmas(1e-2, 1e1),
       how=st.sampled_from(["random", "perturbed", "rotated"]), seed=seeds)
def test_no_other_orthonormal_basis_has_lower_denoising_loss(params: dict, sigma: float,
                                                             how: str, seed: int) -> None:
    """Property 2b: E||DAE_U(x_t) - x0||^2 >= E||E[x0|x_t] - x0||^2 for any orthonormal U.

    Paired Monte Carlo (same samples for both): the mean loss difference may fall below
    zero by at most 4 standard errors.
    """
    m = molrg.MoLRG(**params)
    rng = np.random.default_rng(seed)
    other = _other_basis(m, how, rng)
    x0, _ = m.sample(4000, rng)
    x0 = np.asarray(x0)
    x = x0 + sigma * rng.standard_normal(x0.shape)
    loss_opt = np.sum((np.asarray(molrg.posterior_mean(m, x, sigma)) - x0) ** 2, axis=1)
    loss_other = np.sum((np.asarray(molrg.dae(x, sigma, basis=other, K=m.K, delta=m.delta))
                         - x0) ** 2, axis=1)
    diff = loss_other - loss_opt
    z = diff.mean() / (diff.std(ddof=1) / math.sqrt(diff.size))
    target(-z, label="property 2b: -z of the loss gap (higher = closer to a violation)")
    assert z >= -4


@pytest.mark.parametrize("bad", [-1.0, 0.0, math.nan, math.inf])
def test_denoiser_rejects_invalid_sigma(bad: float) -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(ValueError, match=r"sigma=.* valid: \(0, inf\)"):
        molrg.posterior_mean(m, np.zeros((1, 8)), bad)


def test_denoiser_rejects_wrong_input_dimension() -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(ValueError, match="x has last dimension 7; valid: n=8"):
        molrg.posterior_mean(m, np.zeros((1, 7)), 0.5)
