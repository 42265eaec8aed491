"""molrg.denoisers and molrg.kernel: the exact posterior mean and the parameterised DAE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, target
from hypothesis import strategies as st

import molrg
from molrg.kernel import block_energies, softmax_weights
from tests import reference_bayes
from tests.conftest import examples, family_z, is_strict, to_numpy
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
    assert is_strict(got)
    np.testing.assert_array_equal(to_numpy(got), np.asarray(molrg.posterior_mean(m, x, 0.5)))


def test_softmax_survives_huge_logits() -> None:
    """Logits far beyond exp's range (exp(800) overflows) still give exact weights."""
    w = np.asarray(softmax_weights(np.array([[1e300, 1e300, 0.0], [800.0, 799.0, -800.0]])))
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(w[1, :2], [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))])


def test_public_softmax_is_the_kernel_softmax() -> None:
    assert molrg.softmax_weights is softmax_weights


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
    # the callable denoisers are the same functions
    dae = molrg.DAE(m.basis, K=m.K, delta=m.delta)
    np.testing.assert_array_equal(np.asarray(dae(x, sigma)), xhat)
    np.testing.assert_array_equal(np.asarray(dae.features(x, sigma)), h)
    np.testing.assert_array_equal(np.asarray(molrg.OptimalDenoiser(m)(x, sigma)),
                                  np.asarray(molrg.posterior_mean(m, x, sigma)))


def _other_basis(m: molrg.MoLRG, how: str, rng: np.random.Generator) -> np.ndarray:
    if how == "random":
        return molrg.MoLRG(m.K, m.d, m.n, m.delta, seed=int(rng.integers(1 << 30))).basis
    if how == "perturbed":
        q, r = np.linalg.qr(m.basis + 0.2 * rng.standard_normal(m.basis.shape) / math.sqrt(m.n))
        return q * np.sign(np.diag(r))
    # rotated within the union of subspaces: mixes the classes' blocks
    q, _ = np.linalg.qr(rng.standard_normal((m.rank, m.rank)))
    return m.basis @ q


# one paired one-sided comparison per example (family-wise 1%)
Z_LOSS = family_z(comparisons_per_example=1, base_examples=8)


@examples(8)
@given(params=model_params(K_max=5, d_max=6, n_max=40), sigma=sigmas(1e-2, 1e1),
       how=st.sampled_from(["random", "perturbed", "rotated"]), seed=seeds)
def test_no_other_orthonormal_basis_has_lower_denoising_loss(params: dict, sigma: float,
                                                             how: str, seed: int) -> None:
    """Property 2b: E||DAE_U(x_t) - x0||^2 >= E||E[x0|x_t] - x0||^2 for any orthonormal U.

    Paired Monte Carlo (same samples for both): the mean loss difference may fall below
    zero by at most the family-wise threshold in standard errors.
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
    assert z >= -Z_LOSS, z


@pytest.mark.parametrize("bad", [-1.0, 0.0, math.nan, math.inf])
def test_denoiser_rejects_invalid_sigma(bad: float) -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(ValueError, match=r"sigma=.* valid: \(0, inf\)"):
        molrg.posterior_mean(m, np.zeros((1, 8)), bad)


@pytest.mark.parametrize("bad", [-1.0, 0.0, math.nan, math.inf])
def test_dae_rejects_invalid_sigma(bad: float) -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(molrg.ParameterError, match=r"sigma=.* valid: \(0, inf\)"):
        molrg.dae(np.zeros((1, 8)), bad, basis=m.basis, K=3, delta=0.2)
    with pytest.raises(molrg.ParameterError, match=r"sigma=.* valid: \(0, inf\)"):
        molrg.DAE(m.basis, K=3, delta=0.2)(np.zeros((1, 8)), bad)


def test_denoiser_rejects_a_sigma_array() -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(molrg.ParameterError, match="valid: a scalar"):
        molrg.posterior_mean(m, np.zeros((1, 8)), [0.5, 1.0])


def test_denoiser_rejects_wrong_input_dimension() -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(molrg.ParameterError, match=r"x has shape \(1, 7\); valid: \(\.\.\., n\) with n=8"):
        molrg.posterior_mean(m, np.zeros((1, 7)), 0.5)
    with pytest.raises(molrg.ParameterError, match=r"x has shape \(1, 7\)"):
        molrg.dae(np.zeros((1, 7)), 0.5, basis=m.basis, K=3, delta=0.2)


def test_posterior_mean_rejects_what_is_not_a_model_or_an_array() -> None:
    with pytest.raises(molrg.ParameterTypeError, match="model="):
        molrg.posterior_mean(molrg.Setting(3, 2, 0.2), np.zeros((1, 8)), 0.5)
    with pytest.raises(molrg.ParameterTypeError, match="x must be an array"):
        molrg.posterior_mean(molrg.MoLRG(3, 2, 8, 0.2), [[0.0] * 8], 0.5)


def test_dae_validates_its_basis_and_parameters() -> None:
    m = molrg.MoLRG(3, 2, 8, 0.2)
    with pytest.raises(molrg.ParameterError, match="basis is not orthonormal"):
        molrg.DAE(2 * m.basis, K=3, delta=0.2)
    with pytest.raises(molrg.ParameterError, match=r"basis has shape \(8, 6\); valid: \(n, K\*d\) with K=4"):
        molrg.DAE(m.basis, K=4, delta=0.2)
    with pytest.raises(molrg.ParameterError, match=r"delta=1\.0 is out of range"):
        molrg.DAE(m.basis, K=3, delta=1.0)
    with pytest.raises(molrg.ParameterError, match="K=1 is out of range"):
        molrg.dae(np.zeros((1, 8)), 0.5, basis=m.basis, K=1, delta=0.2)
    dae = molrg.DAE(m.basis, K=3, delta=0.2)
    assert not dae.basis.flags.writeable


def test_public_references_agree_with_the_posterior_mean() -> None:
    """molrg.reference (dense Bayes, and the unreduced derivation at 30 digits) is public:
    it must import and agree with the closed form."""
    import importlib

    reference = importlib.import_module("molrg.reference")
    m = molrg.MoLRG(3, 2, 8, 0.3)
    x = _noisy_points(m, 0.5, 1, num=2)
    want = np.asarray(molrg.posterior_mean(m, x, 0.5))
    for got in (reference.posterior_mean_dense(m, x, 0.5),
                reference.posterior_mean_symbolic(m, x, 0.5)):
        np.testing.assert_allclose(got, want, rtol=1e-10)
