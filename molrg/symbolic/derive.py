"""SymPy derivations of Proposition 1 and Theorem 1 (every form), and the exact limits.

Everything the numerical layer evaluates for Proposition 1 (posterior mean) and
Theorem 1 (approximate SNR) is *derived* here from the model of ``science.md``; the only
formula that is *encoded* rather than derived is the paper's printed margin
(``form="printed"``), which is the object under test, quoted in ``docs/math.md``.

The derivation rests on one structural fact:

    Given class ``k`` the clean covariance ``Sigma_k = U_k U_k^T + delta^2 Ut_k Ut_k^T``
    is a scalar on each of three mutually orthogonal blocks: ``span(U_k)`` (variance 1),
    ``span(Ut_k)`` (variance ``delta^2``) and the empty remainder (variance 0).

Every matrix function of ``Sigma_k + sigma^2 I`` (inverse, determinant, Tweedie
coefficients) therefore acts blockwise as the same function of a scalar, so a 3 x 3
diagonal *representative* ``diag(1, delta^2, 0)`` carries the whole derivation.

Theorem 1's structure is built once (:func:`snr_structure`): the approximate SNR as a
function of the two weights ``(w+, w-)``.  Each form only supplies its margin
``Delta``; the peak law (:mod:`molrg.symbolic.peak_law`) reuses the same structure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

__all__ = [
    "APPROX_FORMS",
    "MODES",
    "ExactLimits",
    "Proposition1",
    "SNRStructure",
    "Theorem1",
    "derive_exact_limits",
    "derive_proposition1",
    "derive_theorem1",
    "finiteness_threshold",
    "input_variance",
    "inverse_chi2_mean",
    "inverse_chi2_moment",
    "printed_C",
    "printed_margin",
    "snr_structure",
    "symbols",
]

MODES = ("noisy", "clean")
APPROX_FORMS = ("printed", "derived")
"""Closed-form Theorem-1 forms derived here (``corrected`` lives in :mod:`.corrected`)."""

# ---------------------------------------------------------------------------------------
# Symbols (names follow science.md)
# ---------------------------------------------------------------------------------------
sigma = sp.Symbol("sigma", positive=True)
delta = sp.Symbol("delta", positive=True)
d = sp.Symbol("d", positive=True)
K = sp.Symbol("K", positive=True)
w = sp.Symbol("w", nonnegative=True)
w_plus, w_minus = sp.symbols("w_plus w_minus", positive=True)

ORDER = (sigma, K, d, delta)
"""Canonical argument order; a generated function takes the subset it needs, in this order."""


def symbols() -> dict[str, sp.Symbol]:
    """The SymPy symbols used by the derivations, by name."""
    return {"sigma": sigma, "K": K, "d": d, "delta": delta, "w": w}


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"input={mode!r} is not a valid input mode; valid: {MODES}")


# ---------------------------------------------------------------------------------------
# Proposition 1: posterior mean
# ---------------------------------------------------------------------------------------
#: Prior (clean) variance of ``x0`` on each orthogonal block, for a sample of class k.
BLOCK_VARIANCE = {"own": sp.Integer(1), "other": delta**2, "empty": sp.Integer(0)}


@dataclass(frozen=True)
class Proposition1:
    """Derived coefficients of the optimal denoiser.

    ``E[x0 | x_t = x] = sum_k w_k(x) (zeta U_k U_k^T + xi Ut_k Ut_k^T) x`` with
    ``w = softmax(g)``, ``g_k = phi ||U_k^T x||^2 + psi ||Ut_k^T x||^2``.

    Attributes
    ----------
    zeta, xi : posterior-mean coefficient on ``span(U_k)`` and on ``span(Ut_k)``.
    phi, psi : logit coefficients (class-independent terms of the log-density dropped).
    kappa : ``phi - psi``, the single logit coefficient left once the class-independent
        ``psi ||U^T x||^2`` is dropped: ``g_k = kappa ||U_k^T x||^2 + const``.
        This is the form the numerical layer uses (one term, no cancellation).
    zeta_minus_xi : ``zeta - xi`` simplified (avoids cancellation at small sigma).
    beta : coefficient of ``U_m U_m^T x`` in the posterior mean as a function of that
        block's weight ``w``: ``beta(w) = xi + (zeta - xi) w`` (the DAE's ``D``).
    log_det_per_dim : log-eigenvalues of ``Sigma_k + sigma^2 I`` on the three blocks;
        their multiplicities (d, (K-1) d, n - K d) do not depend on k, so the
        determinant drops out of the softmax.
    """

    zeta: sp.Expr
    xi: sp.Expr
    phi: sp.Expr
    psi: sp.Expr
    kappa: sp.Expr
    zeta_minus_xi: sp.Expr
    beta: sp.Expr
    log_det_per_dim: tuple[sp.Expr, sp.Expr, sp.Expr]


@functools.cache
def derive_proposition1() -> Proposition1:
    """Derive the posterior mean of the noisy MoLRG (Proposition 1).

    Steps: (1) the blockwise representative ``Sigma = diag(1, delta^2, 0)``;
    (2) ``Cov = Sigma + sigma^2 I`` and its inverse; (3) Tweedie/Wiener:
    ``E[x0 | x_t, k] = Sigma Cov^{-1} x_t``, read off per block; (4) class log-density
    ``-x^T Cov^{-1} x / 2``: per-block coefficients, minus the empty block's
    coefficient (its ``||x||^2`` term is shared by all classes); (5) mixing over classes:
    block ``m`` receives ``zeta`` from class ``m`` and ``xi`` from every other class.
    """
    v = BLOCK_VARIANCE
    prior = sp.diag(v["own"], v["other"], v["empty"])
    cov = prior + sigma**2 * sp.eye(3)
    cov_inv = cov.inv()
    tweedie = (prior * cov_inv).applyfunc(sp.simplify)
    zeta, xi = tweedie[0, 0], tweedie[1, 1]
    if tweedie[2, 2] != 0 or not tweedie.is_diagonal():
        raise AssertionError("Tweedie coefficient must vanish on the empty block")

    quad = [-cov_inv[i, i] / 2 for i in range(3)]  # coefficient of ||block_i x||^2
    phi = sp.simplify(quad[0] - quad[2])
    psi = sp.simplify(quad[1] - quad[2])
    kappa = sp.factor(sp.simplify(phi - psi))
    zeta_minus_xi = sp.factor(sp.simplify(zeta - xi))

    # Mixing: with three classes as a representative, block 1 gets zeta from class 1
    # and xi from classes 2 and 3; weights sum to one.
    w1, w2 = sp.symbols("w1 w2", nonnegative=True)
    coefficient_block1 = zeta * w1 + xi * (w2 + (1 - w1 - w2))
    beta = sp.collect(sp.expand(coefficient_block1.subs(w1, w)), w)
    if sp.simplify(beta - (xi + zeta_minus_xi * w)) != 0:
        raise AssertionError("beta(w) is not affine in w with slope zeta - xi")
    beta = xi + zeta_minus_xi * w

    log_det = tuple(sp.log(cov[i, i]) for i in range(3))
    return Proposition1(
        zeta=zeta, xi=xi, phi=phi, psi=psi, kappa=kappa, zeta_minus_xi=zeta_minus_xi,
        beta=beta, log_det_per_dim=log_det,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------
# Theorem 1: the structure shared by every form
# ---------------------------------------------------------------------------------------
def input_variance(mode: str) -> dict[str, sp.Expr]:
    """Per-dimension variance of the denoiser's input on each block, true class k.

    ``noisy``: the input is ``x_t = x0 + sigma eps`` (prior variance + sigma^2);
    ``clean``: the input is ``x0`` itself (prior variance).
    """
    _check_mode(mode)
    extra = sigma**2 if mode == "noisy" else sp.Integer(0)
    return {block: var + extra for block, var in BLOCK_VARIANCE.items()}


def h(weight: sp.Expr) -> sp.Expr:
    """The paper's ``h(w, delta) = (1 - delta^2) w + delta^2``."""
    return (1 - delta**2) * weight + delta**2


@dataclass(frozen=True)
class SNRStructure:
    """Theorem 1's SNR as a function of the two weights, for one input mode.

    ``snr_of(w+, w-) = beta(w+)^2 E r_k / ((K-1) beta(w-)^2 E r_l)`` with ``r_m`` the block
    energies of the denoiser's input (true class ``k``, any other ``l``).  The derivation
    checks that ``beta(w+)/beta(w-)`` equals the paper's bracket
    ``(1 + sigma^2/delta^2 h(w+)) / (1 + sigma^2/delta^2 h(w-))`` and reads off the
    weight-free factor ``C = E r_k / E r_l``.

    Attributes
    ----------
    mode : "noisy" or "clean".
    energy_own, energy_other : ``E r_k = d v_own`` and ``E r_l = d v_other``.
    variance_own, variance_other : ``v_own`` and ``v_other`` (per dimension).
    snr : the SNR in the free weight symbols ``w_plus``, ``w_minus``.
    bracket : the paper's bracket in ``w_plus``, ``w_minus``.
    C : ``(K-1) snr / bracket^2`` (free of the weights).
    """

    mode: str
    energy_own: sp.Expr
    energy_other: sp.Expr
    variance_own: sp.Expr
    variance_other: sp.Expr
    snr: sp.Expr
    bracket: sp.Expr
    C: sp.Expr

    def snr_of(self, plus: sp.Expr, minus: sp.Expr) -> sp.Expr:
        """The SNR with the weights replaced by ``plus`` and ``minus``."""
        return self.snr.subs({w_plus: plus, w_minus: minus})

    def bracket_of(self, plus: sp.Expr, minus: sp.Expr) -> sp.Expr:
        """The paper's bracket with the weights replaced."""
        return self.bracket.subs({w_plus: plus, w_minus: minus})


@functools.cache
def snr_structure(mode: str) -> SNRStructure:
    """Build Theorem 1's weight structure for input ``mode`` (once per process)."""
    p1 = derive_proposition1()
    var = input_variance(mode)
    e_own, e_other = d * var["own"], d * var["other"]
    beta = sp.Lambda(w, p1.beta)
    snr = beta(w_plus) ** 2 * e_own / ((K - 1) * beta(w_minus) ** 2 * e_other)
    bracket = (1 + sigma**2 / delta**2 * h(w_plus)) / (1 + sigma**2 / delta**2 * h(w_minus))
    if sp.simplify(bracket - beta(w_plus) / beta(w_minus)) != 0:
        raise AssertionError("paper's bracket differs from beta(w+)/beta(w-)")
    C = sp.factor(sp.simplify((K - 1) * snr / bracket**2))
    if C.free_symbols & {w_plus, w_minus}:
        raise AssertionError("C(sigma) must not depend on the weights")
    return SNRStructure(mode, e_own, e_other, var["own"], var["other"], snr, bracket, C)


# ---------------------------------------------------------------------------------------
# The printed margin (encoded, not derived: it is what is being checked)
# ---------------------------------------------------------------------------------------
def printed_margin() -> sp.Expr:
    """The margin exactly as the NeurIPS / arXiv v3 text prints it (Theorem 1).

    ``D_t = (1 - delta^2) d / (2 sigma_t^2 (1 + sigma_t^2))`` -- quoted, with its source
    and the ambiguities of the stored text, in ``docs/math.md``.  It is the derived
    margin's ``phi``-term alone: ``phi d (1 - delta^2)`` with
    ``phi = 1 / (2 sigma^2 (1 + sigma^2))``; the ``psi`` term of Proposition 1's logits
    (which cancels the ``1/sigma^2`` divergence) is missing.  It diverges as sigma -> 0.
    """
    return (1 - delta**2) * d / (2 * sigma**2 * (1 + sigma**2))


def printed_C() -> sp.Expr:
    """The factor ``C_t`` exactly as printed (NeurIPS / arXiv v3, proof of Theorem 2).

    ``C_t = (1 + sigma_t^2) / (delta^2 + sigma^2)``: the noisy-input factor (the printed
    theorem is about the noisy input).  The printed formula has one ``C_t``; the clean-input
    factor ``1/delta^2`` is derived, not printed (:func:`snr_structure`).
    """
    return (1 + sigma**2) / (delta**2 + sigma**2)


# ---------------------------------------------------------------------------------------
# Theorem 1, per form
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Theorem1:
    """Derived pieces of Theorem 1 for one input mode and one form.

    Notation: ``r_m = ||U_m^T x||^2`` (``x`` the denoiser's input), true class ``k``,
    any other class ``l``.

    Attributes
    ----------
    mode, form : input mode and ``"derived"`` (the paper's expected-logit step applied to
        the model) or ``"printed"`` (the paper's printed margin in the same structure).
    energy_own, energy_other : ``E r_k`` and ``E r_l``.
    margin : ``Delta``; derived: ``E g_k - E g_l`` (the same for every ``l != k``).
    what_plus, what_minus : softmax of the expected logits (Theorem 1's ``what``), in
        the max-shifted form ``1 / (1 + (K-1) e^{-Delta})`` and ``e^{-Delta} what_plus``.
    snr : the approximation ``C/(K-1) * bracket^2``.
    bracket : ``(1 + sigma^2/delta^2 h(what_plus)) / (1 + sigma^2/delta^2 h(what_minus))``.
    C : the mode-dependent factor ``E r_k / E r_l``.
    dlogsnr_dlogsigma : ``d log(snr) / d log(sigma)``; its root is the peak.
    limit_zero, limit_inf : limits of ``snr`` as sigma -> 0 and sigma -> infinity.
    """

    mode: str
    form: str
    energy_own: sp.Expr
    energy_other: sp.Expr
    margin: sp.Expr
    what_plus: sp.Expr
    what_minus: sp.Expr
    snr: sp.Expr
    bracket: sp.Expr
    C: sp.Expr
    dlogsnr_dlogsigma: sp.Expr
    limit_zero: sp.Expr
    limit_inf: sp.Expr


def weights_of_margin(margin: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(what_plus, what_minus)``: the softmax of logits ``(G, G - Delta, ..., G - Delta)``.

    Max-shifted form ``1 / (1 + (K-1) e^{-Delta})``, checked equal to the plain softmax.
    """
    G = sp.Symbol("G")
    plain_own = sp.exp(G) / (sp.exp(G) + (K - 1) * sp.exp(G - margin))
    plus = 1 / (1 + (K - 1) * sp.exp(-margin))
    minus = sp.exp(-margin) / (1 + (K - 1) * sp.exp(-margin))
    if sp.expand(sp.powsimp(sp.expand(1 / plain_own - 1 / plus))) != 0:
        raise AssertionError("max-shifted softmax differs from the plain softmax")
    return plus, minus


def derived_margin(mode: str) -> sp.Expr:
    """``Delta = E g_k - E g_l`` with ``g_m = phi r_m + psi (R - r_m)``, ``R = sum_m r_m``."""
    p1 = derive_proposition1()
    st = snr_structure(mode)
    e_total = st.energy_own + (K - 1) * st.energy_other
    g_own = p1.phi * st.energy_own + p1.psi * (e_total - st.energy_own)
    g_other = p1.phi * st.energy_other + p1.psi * (e_total - st.energy_other)
    return sp.factor(sp.simplify(g_own - g_other))


@functools.cache
def derive_theorem1(mode: str, form: str = "derived") -> Theorem1:
    """Theorem 1 for input ``mode`` in closed form ``form`` (see :data:`APPROX_FORMS`)."""
    _check_mode(mode)
    if form not in APPROX_FORMS:
        raise ValueError(f"form={form!r} is not a closed form; valid: {APPROX_FORMS}")
    st = snr_structure(mode)
    if form == "derived":
        margin, C = derived_margin(mode), st.C
        plus, minus = weights_of_margin(margin)
        snr = st.snr_of(plus, minus)
    else:  # the printed formula, the same for both inputs: C_t/(K-1) bracket^2
        margin, C = printed_margin(), printed_C()
        plus, minus = weights_of_margin(margin)
        snr = C / (K - 1) * st.bracket_of(plus, minus) ** 2
    return Theorem1(
        mode=mode, form=form, energy_own=st.energy_own, energy_other=st.energy_other,
        margin=margin, what_plus=plus, what_minus=minus, snr=snr,
        bracket=st.bracket_of(plus, minus), C=C,
        dlogsnr_dlogsigma=sigma * sp.diff(sp.log(snr), sigma),
        limit_zero=_snr_limit(snr, plus, minus, 0),
        limit_inf=_snr_limit(snr, plus, minus, sp.oo),
    )


def _snr_limit(snr: sp.Expr, plus: sp.Expr, minus: sp.Expr, point: sp.Expr) -> sp.Expr:
    """Limit of ``snr``: the weights' limits first, then the rest's.

    ``snr`` is continuous in the weights wherever ``beta(w-) > 0`` (always: ``beta >= xi
    > 0``), so the limit may be taken in two steps; taken in one, SymPy needs seconds.
    """
    limits = [limit_in_box(weight, point) for weight in (plus, minus)]
    return limit_in_box(snr.subs({plus: limits[0], minus: limits[1]}), point)


def limit_in_box(expr: sp.Expr, point: sp.Expr) -> sp.Expr:
    """``lim_{sigma -> point} expr`` for ``0 < delta < 1``.

    SymPy's symbols carry no upper bound, so the limit is taken after the substitution
    ``delta^2 = 1/(1 + q)`` with ``q > 0`` (every sign then known) and mapped back.
    """
    q = sp.Symbol("q", positive=True)
    inside = expr.subs(delta, 1 / sp.sqrt(1 + q))
    value = sp.limit(inside, sigma, point)
    return sp.simplify(value.subs(q, 1 / delta**2 - 1))


# ---------------------------------------------------------------------------------------
# Exact limits (not only of the approximation)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactLimits:
    """Closed-form limits of the *exact* SNR of the optimal denoiser.

    Ratio of means: as sigma -> 0, ``beta(w) -> 1`` for every weight, so the denoiser
    output tends to its input's span(U) part; as sigma -> infinity the logits
    ``kappa r`` tend to 0, all weights to ``1/K`` and all ``beta_m`` to one common value,
    which cancels.  Either way the SNR tends to ``E r_k / ((K-1) E r_l)`` at that limit.

    Mean of ratios: with the same argument the ratio tends to
    ``(v_k / v_l) chi2_d / chi2_{(K-1) d}`` (independent), whose mean is
    ``(v_k / v_l) d E[1/chi2_m]`` with ``E[1/chi2_m] = 1/(m-2)`` (derived by integrating
    the chi-square density), finite only for ``m = (K-1) d > mean_threshold`` (= 2, the
    pole of the derived moment); its variance needs ``m > variance_threshold`` (= 4).
    """

    mode: str
    ratio_of_means_zero: sp.Expr
    ratio_of_means_inf: sp.Expr
    mean_of_ratios_zero: sp.Expr
    mean_of_ratios_inf: sp.Expr
    inverse_chi2_mean: sp.Expr
    mean_threshold: int
    variance_threshold: int


@functools.cache
def inverse_chi2_moment(j: int = 1) -> sp.Expr:
    """``E[X^-j]`` for ``X ~ chi2_m``, derived by integration; an expression in ``m``.

    Valid where the integral converges (``m > 2 j``); see :func:`finiteness_threshold`.
    """
    m, x = sp.Symbol("m", positive=True), sp.Symbol("x", positive=True)
    density = x ** (m / 2 - 1) * sp.exp(-x / 2) / (2 ** (m / 2) * sp.gamma(m / 2))
    return sp.factor(sp.gammasimp(sp.integrate(density / x**j, (x, 0, sp.oo), conds="none")))


def inverse_chi2_mean() -> sp.Expr:
    """``E[1/X]`` for ``X ~ chi2_m`` (m > 2), derived by integration; returns in ``m``."""
    return inverse_chi2_moment(1)


def finiteness_threshold(j: int) -> int:
    """Largest pole in ``m`` of the derived ``E[X^-j]``: the moment is finite for ``m`` above it.

    ``j = 1`` gives 2 (the mean of ratios needs ``(K-1) d > 2``); ``j = 2`` gives 4 (its
    variance, hence a reliable standard error, needs ``(K-1) d > 4``).
    """
    m = sp.Symbol("m", positive=True)
    poles = sp.solve(sp.denom(sp.together(inverse_chi2_moment(j))), m)
    return int(max(poles))


@functools.cache
def derive_exact_limits(mode: str) -> ExactLimits:
    """Derive the exact ratio-of-means and mean-of-ratios limits for ``mode``."""
    p1 = derive_proposition1()
    var = input_variance(mode)
    # beta(w) -> 1 as sigma -> 0, whatever w:
    if sp.limit(p1.beta, sigma, 0) != 1:
        raise AssertionError("beta(w) must tend to 1 as sigma -> 0")
    # logits vanish as sigma -> infinity (kappa * E r -> 0), so weights -> 1/K:
    for block in ("own", "other"):
        if sp.limit(p1.kappa * d * var[block], sigma, sp.oo) != 0:
            raise AssertionError("logits must vanish as sigma -> infinity")
    energy_ratio = var["own"] / ((K - 1) * var["other"])
    m = sp.Symbol("m", positive=True)
    inv = inverse_chi2_mean()
    mor = var["own"] / var["other"] * d * inv.subs(m, (K - 1) * d)
    return ExactLimits(
        mode=mode,
        ratio_of_means_zero=sp.simplify(sp.limit(energy_ratio, sigma, 0)),
        ratio_of_means_inf=sp.simplify(sp.limit(energy_ratio, sigma, sp.oo)),
        mean_of_ratios_zero=sp.simplify(sp.limit(mor, sigma, 0)),
        mean_of_ratios_inf=sp.simplify(sp.limit(mor, sigma, sp.oo)),
        inverse_chi2_mean=inv,
        mean_threshold=finiteness_threshold(1),
        variance_threshold=finiteness_threshold(2),
    )
