"""molrg.symbolic: the derivations against dense numerics, and the lambdify bridge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from scipy import integrate, stats

import molrg
from molrg import symbolic
from molrg.reference import class_covariances
from tests.conftest import examples, to_numpy
from tests.strategies import model_params, seeds, sigmas


def _num(expr: sp.Expr, **values: float) -> float:
    subs = {symbolic.symbols()[k]: v for k, v in values.items()}
    return float(expr.subs(subs).evalf())


@examples(10)
@given(params=model_params(K_max=5, d_max=6, n_max=40), sigma=sigmas())
def test_derived_tweedie_coefficients_match_dense_linear_algebra(params: dict,
                                                                 sigma: float) -> None:
    """Sigma_k (Sigma_k + sigma^2 I)^{-1} = zeta P_k + xi Pt_k with the derived zeta, xi."""
    m = molrg.MoLRG(**params)
    p1 = symbolic.derive_proposition1()
    zeta = _num(p1.zeta, sigma=sigma)
    xi = _num(p1.xi, sigma=sigma, delta=m.delta)
    full = m.basis @ m.basis.T
    for k, cov in enumerate(class_covariances(m)):
        dense = np.linalg.solve(cov + sigma**2 * np.eye(m.n), cov).T
        own = m.block(k) @ m.block(k).T
        np.testing.assert_allclose(dense, zeta * own + xi * (full - own), atol=1e-9)


@examples(10)
@given(params=model_params(K_max=5, d_max=6, n_max=40), sigma=sigmas(1e-2, 1e2), seed=seeds)
def test_derived_logit_coefficient_matches_gaussian_log_density_differences(
        params: dict, sigma: float, seed: int) -> None:
    """log p_k(x) - log p_l(x) = kappa (||U_k^T x||^2 - ||U_l^T x||^2) with the derived kappa."""
    m = molrg.MoLRG(**params)
    kappa = _num(symbolic.derive_proposition1().kappa, sigma=sigma, delta=m.delta)
    x = np.random.default_rng(seed).standard_normal(m.n)
    logp = [stats.multivariate_normal(cov=c + sigma**2 * np.eye(m.n)).logpdf(x)
            for c in class_covariances(m)]
    r = [float(np.sum((x @ m.block(k)) ** 2)) for k in range(m.K)]
    for k in range(1, m.K):
        assert abs((logp[k] - logp[0]) - kappa * (r[k] - r[0])) < 1e-8 * (1 + abs(logp[0]))


def test_phi_minus_psi_is_kappa_and_beta_is_affine() -> None:
    p1 = symbolic.derive_proposition1()
    assert sp.simplify(p1.phi - p1.psi - p1.kappa) == 0
    assert sp.simplify(sp.diff(p1.beta, symbolic.w, 2)) == 0


def test_margin_is_the_same_for_both_input_modes() -> None:
    """A finding of the derivation: Delta(sigma; d, delta) does not depend on the mode."""
    assert sp.simplify(symbolic.derive_theorem1("noisy").margin
                       - symbolic.derive_theorem1("clean").margin) == 0


def test_derived_inverse_chi2_mean_matches_numerical_integration() -> None:
    inv = symbolic.inverse_chi2_mean()
    for m in (3, 5.5, 12, 40):
        numeric, _ = integrate.quad(lambda x, m=m: stats.chi2(m).pdf(x) / x, 0, np.inf)
        assert abs(float(inv.subs(sp.Symbol("m", positive=True), m)) - numeric) < 1e-9


@pytest.mark.parametrize("input", symbolic.MODES)
def test_derivative_matches_finite_differences(input: str) -> None:
    s = np.geomspace(0.01, 10, 50)
    h = 1e-6
    f = molrg.theory.evaluate
    fd = (np.log(f("snr_approx", s * np.exp(h), 5, 7, 0.3, input))
          - np.log(f("snr_approx", s * np.exp(-h), 5, 7, 0.3, input))) / (2 * h)
    np.testing.assert_allclose(f("dlogsnr_dlogsigma", s, 5, 7, 0.3, input), fd,
                               rtol=1e-5, atol=1e-7)


def test_lambdify_bridge_runs_on_the_strict_namespace_and_is_cached() -> None:
    import array_api_strict as xps

    f = symbolic.lambdified("snr_approx", "noisy", xps)
    assert f is symbolic.lambdified("snr_approx", "noisy", xps)
    out = f(xps.asarray([0.1, 1.0]), 3.0, 5.0, 0.2)
    assert type(out) is type(xps.asarray(0.0))
    np.testing.assert_allclose(to_numpy(out), molrg.approx_snr([0.1, 1.0], 3, 5, 0.2))


def test_lambdify_bridge_refuses_functions_it_does_not_map() -> None:
    import array_api_compat.numpy as xnp

    with pytest.raises(ValueError, match=r"needs functions \['gamma'\]"):
        symbolic.lambdify_expr(sp.gamma(symbolic.sigma), xnp)


def test_unknown_expression_name_raises() -> None:
    import array_api_compat.numpy as xnp

    with pytest.raises(ValueError, match="name='snr' is not a derived expression"):
        symbolic.lambdified("snr", "noisy", xnp)


def test_docs_math_md_is_generated_from_the_derivation() -> None:
    """docs/math.md cannot drift: it must equal `python -m verify derive --markdown`."""
    from verify.derive import markdown

    path = Path(__file__).parents[1] / "docs" / "math.md"
    assert path.read_text() == markdown(), "regenerate: python -m verify derive --markdown docs/math.md"
