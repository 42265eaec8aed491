"""molrg.symbolic: the derivations against dense numerics, and the lambdify bridge."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from scipy import integrate, stats

import molrg
from molrg import symbolic
from tests.conftest import examples, is_strict, to_numpy
from tests.reference_bayes import class_covariance
from tests.strategies import model_params, seeds, sigmas

SYMBOLS = symbolic.symbols()


def _num(expr: sp.Expr, **values: float) -> float:
    subs = {SYMBOLS[k]: v for k, v in values.items()}
    return float(expr.subs(subs).evalf())


def _covariances(m: molrg.MoLRG) -> list[np.ndarray]:
    return [class_covariance(m.basis, m.K, m.d, m.delta, k) for k in range(m.K)]


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
    for k, cov in enumerate(_covariances(m)):
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
            for c in _covariances(m)]
    r = [float(np.sum((x @ m.block(k)) ** 2)) for k in range(m.K)]
    for k in range(1, m.K):
        assert abs((logp[k] - logp[0]) - kappa * (r[k] - r[0])) < 1e-8 * (1 + abs(logp[0]))


def test_phi_minus_psi_is_kappa_and_beta_is_affine() -> None:
    p1 = symbolic.derive_proposition1()
    assert sp.simplify(p1.phi - p1.psi - p1.kappa) == 0
    assert sp.simplify(sp.diff(p1.beta, SYMBOLS["w"], 2)) == 0


def test_margin_is_the_same_for_both_input_modes() -> None:
    """A finding of the derivation: Delta(sigma; d, delta) does not depend on the mode."""
    assert sp.simplify(symbolic.derive_theorem1("noisy").margin
                       - symbolic.derive_theorem1("clean").margin) == 0


def test_printed_margin_is_the_phi_term_of_the_derived_logits() -> None:
    """The printed margin is ``phi d (1 - delta^2)``: the psi term is missing, so it
    diverges as sigma -> 0 where the derived margin stays finite."""
    p1 = symbolic.derive_proposition1()
    s, d, delta = SYMBOLS["sigma"], SYMBOLS["d"], SYMBOLS["delta"]
    printed = symbolic.derive_theorem1("noisy", "printed").margin
    assert sp.simplify(printed - p1.phi * d * (1 - delta**2)) == 0
    at_half = {delta: sp.Rational(1, 2), d: 5}  # SymPy's delta carries no upper bound
    assert sp.limit(printed.subs(at_half), s, 0) == sp.oo
    assert sp.limit(symbolic.derive_theorem1("noisy", "derived").margin.subs(at_half), s, 0).is_finite


def test_derived_inverse_chi2_mean_matches_numerical_integration() -> None:
    inv = symbolic.inverse_chi2_mean()
    for m in (3, 5.5, 12, 40):
        numeric, _ = integrate.quad(lambda x, m=m: stats.chi2(m).pdf(x) / x, 0, np.inf)
        assert abs(float(inv.subs(sp.Symbol("m", positive=True), m)) - numeric) < 1e-9


def test_finiteness_thresholds_are_the_poles_of_the_inverse_chi2_moments() -> None:
    assert symbolic.finiteness_threshold(1) == 2
    assert symbolic.finiteness_threshold(2) == 4


@pytest.mark.parametrize("form", ["printed", "derived"])
@pytest.mark.parametrize("input", symbolic.MODES)
def test_derivative_matches_finite_differences(input: str, form: str) -> None:
    s = np.geomspace(0.01, 10, 50)
    h = 1e-6
    setting = molrg.Setting(5, 7, 0.3)

    def f(x: np.ndarray) -> np.ndarray:
        return np.log(molrg.approx_snr(x, setting, input=input, form=form))

    fd = (f(s * np.exp(h)) - f(s * np.exp(-h))) / (2 * h)
    np.testing.assert_allclose(molrg.dlogsnr_dlogsigma(s, setting, input=input, form=form), fd,
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("form", ["printed", "derived"])
def test_lambdify_bridge_runs_on_the_strict_namespace(form: str) -> None:
    import array_api_strict as xps

    expr = symbolic.expressions("noisy", form)["snr_approx"]
    f = symbolic.lambdify_expr(expr, xps)
    out = f(xps.asarray([0.1, 1.0]), 3.0, 5.0, 0.2)  # canonical order: sigma, K, d, delta
    assert is_strict(out)
    np.testing.assert_allclose(to_numpy(out),
                               molrg.approx_snr([0.1, 1.0], molrg.Setting(3, 5, 0.2), form=form),
                               rtol=1e-13)


def test_lambdify_bridge_takes_the_arguments_it_is_given() -> None:
    import array_api_compat.numpy as xnp

    sigma, delta = SYMBOLS["sigma"], SYMBOLS["delta"]
    f = symbolic.lambdify_expr(symbolic.derive_proposition1().xi, xnp, args=(delta, sigma))
    assert f(0.5, 2.0) == pytest.approx(0.25 / 4.25)


def test_lambdify_bridge_refuses_functions_it_does_not_map() -> None:
    import array_api_compat.numpy as xnp

    with pytest.raises(ValueError, match=r"needs functions \['gamma'\]"):
        symbolic.lambdify_expr(sp.gamma(SYMBOLS["sigma"]), xnp)


def test_unknown_mode_or_form_raises() -> None:
    with pytest.raises(ValueError, match="input='dirty' is not a valid input mode"):
        symbolic.expressions("dirty")
    with pytest.raises(ValueError, match="form='corrected' is not a closed form"):
        symbolic.expressions("noisy", "corrected")


def test_latex_and_describe_cover_every_expression() -> None:
    names = set(symbolic.expressions("clean", "printed"))
    assert set(symbolic.latex("clean", "printed")) == names
    assert set(symbolic.describe("clean", "printed")) == names
    assert symbolic.describe("noisy", "printed")["margin"] != symbolic.describe("noisy")["margin"]
