"""SymPy derivations of Proposition 1 and Theorem 1, and the bridge to array code.

Everything the numerical layer evaluates for Proposition 1 (posterior mean) and
Theorem 1 (approximate SNR) is *derived* here from the model of ``science.md``; nothing
is transcribed.  The derivation rests on one structural fact:

    Given class ``k`` the clean covariance ``Sigma_k = U_k U_k^T + delta^2 Ut_k Ut_k^T``
    is a scalar on each of three mutually orthogonal blocks: ``span(U_k)`` (variance 1),
    ``span(Ut_k)`` (variance ``delta^2``) and the empty remainder (variance 0).

Every matrix function of ``Sigma_k + sigma^2 I`` (inverse, determinant, Tweedie
coefficients) therefore acts blockwise as the same function of a scalar, so a 3 x 3
diagonal *representative* ``diag(1, delta^2, 0)`` carries the whole derivation.

SymPy is imported by this module only.  The numerical layer reaches it through
:func:`lambdified`, which is cached, so SymPy runs once per process and stays off the
hot path.

Public objects
--------------
derive_proposition1()  -> Proposition1
derive_theorem1(mode)  -> Theorem1
derive_exact_limits(mode) -> ExactLimits
lambdified(name, mode, xp) -> vectorised function of (sigma, K, d, delta)
expressions(mode)      -> ordered mapping name -> SymPy expression (for reports and docs)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import sympy as sp

__all__ = [
    "MODES",
    "ExactLimits",
    "Proposition1",
    "Theorem1",
    "derive_exact_limits",
    "derive_proposition1",
    "derive_theorem1",
    "expressions",
    "lambdified",
    "symbols",
]

MODES = ("noisy", "clean")

# ---------------------------------------------------------------------------------------
# Symbols (names follow science.md)
# ---------------------------------------------------------------------------------------
sigma = sp.Symbol("sigma", positive=True)
delta = sp.Symbol("delta", positive=True)
d = sp.Symbol("d", positive=True)
K = sp.Symbol("K", positive=True)
w = sp.Symbol("w", nonnegative=True)

ARGS = (sigma, K, d, delta)
"""Argument order of every lambdified function."""


def symbols() -> dict[str, sp.Symbol]:
    """The SymPy symbols used by the derivations, by name."""
    return {"sigma": sigma, "K": K, "d": d, "delta": delta, "w": w}


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
        zeta=zeta,
        xi=xi,
        phi=phi,
        psi=psi,
        kappa=kappa,
        zeta_minus_xi=zeta_minus_xi,
        beta=beta,
        log_det_per_dim=log_det,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------
# Theorem 1: the approximate SNR
# ---------------------------------------------------------------------------------------
def input_variance(mode: str) -> dict[str, sp.Expr]:
    """Per-dimension variance of the denoiser's input on each block, true class k.

    ``noisy``: the input is ``x_t = x0 + sigma eps`` (prior variance + sigma^2);
    ``clean``: the input is ``x0`` itself (prior variance).
    """
    _check_mode(mode)
    extra = sigma**2 if mode == "noisy" else sp.Integer(0)
    return {block: var + extra for block, var in BLOCK_VARIANCE.items()}


@dataclass(frozen=True)
class Theorem1:
    """Derived pieces of Theorem 1 for one input mode.

    Notation: ``r_m = ||U_m^T x||^2`` (``x`` the denoiser's input), true class ``k``,
    any other class ``l``.

    Attributes
    ----------
    mode : "noisy" or "clean".
    energy_own, energy_other : ``E r_k`` and ``E r_l``.
    margin : ``Delta = E g_k - E g_l``, the same for every ``l != k``.
    what_plus, what_minus : softmax of the expected logits (Theorem 1's ``what``), in
        the max-shifted form ``1 / sum_j exp(G_j - G_i)``.
    snr : the approximation ``beta(what_plus)^2 E r_k / ((K-1) beta(what_minus)^2 E r_l)``.
    bracket : ``(1 + sigma^2/delta^2 h(what_plus)) / (1 + sigma^2/delta^2 h(what_minus))``
        with ``h(w) = (1 - delta^2) w + delta^2`` (the paper's form, checked equal to
        ``beta(what_plus) / beta(what_minus)``).
    C : ``(K-1) snr / bracket^2``, the mode-dependent factor (free of ``what``).
    dlogsnr_dlogsigma : ``d log(snr) / d log(sigma)``; its root is the peak.
    limit_zero, limit_inf : limits of ``snr`` as sigma -> 0 and sigma -> infinity.
    """

    mode: str
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


@functools.cache
def derive_theorem1(mode: str) -> Theorem1:
    """Derive Theorem 1 for input ``mode`` from Proposition 1 and the model."""
    p1 = derive_proposition1()
    var = input_variance(mode)
    e_own, e_other = d * var["own"], d * var["other"]

    # Expected logits with g_m = phi r_m + psi (R - r_m),  R = ||U^T x||^2 = sum_m r_m.
    e_total = e_own + (K - 1) * e_other
    g_own = p1.phi * e_own + p1.psi * (e_total - e_own)
    g_other = p1.phi * e_other + p1.psi * (e_total - e_other)
    margin = sp.factor(sp.simplify(g_own - g_other))

    # Softmax of the expected logits, max-shifted: w_i = 1 / sum_j exp(G_j - G_i).
    G = sp.Symbol("G")
    plain_own = sp.exp(G) / (sp.exp(G) + (K - 1) * sp.exp(G - margin))
    what_plus = 1 / (1 + (K - 1) * sp.exp(-margin))
    what_minus = sp.exp(-margin) / (1 + (K - 1) * sp.exp(-margin))
    if sp.expand(sp.powsimp(sp.expand(1 / plain_own - 1 / what_plus))) != 0:
        raise AssertionError("max-shifted softmax differs from the plain softmax")

    beta_plus = p1.beta.subs(w, what_plus)
    beta_minus = p1.beta.subs(w, what_minus)
    snr = beta_plus**2 * e_own / ((K - 1) * beta_minus**2 * e_other)

    def h(weight: sp.Expr) -> sp.Expr:
        return (1 - delta**2) * weight + delta**2

    w_plus, w_minus = sp.symbols("w_plus w_minus", positive=True)
    bracket_w = (1 + sigma**2 / delta**2 * h(w_plus)) / (1 + sigma**2 / delta**2 * h(w_minus))
    ratio_w = p1.beta.subs(w, w_plus) / p1.beta.subs(w, w_minus)
    if sp.simplify(bracket_w - ratio_w) != 0:
        raise AssertionError("paper's bracket differs from beta(w+)/beta(w-)")
    C = sp.simplify(
        (K - 1) * (p1.beta.subs(w, w_plus) / p1.beta.subs(w, w_minus)) ** 2 * e_own
        / ((K - 1) * e_other) / bracket_w**2
    )
    if C.free_symbols & {w_plus, w_minus}:
        raise AssertionError("C(sigma) must not depend on the weights")
    bracket = bracket_w.subs({w_plus: what_plus, w_minus: what_minus})

    dlog = sigma * sp.diff(sp.log(snr), sigma)
    return Theorem1(
        mode=mode,
        energy_own=e_own,
        energy_other=e_other,
        margin=margin,
        what_plus=what_plus,
        what_minus=what_minus,
        snr=snr,
        bracket=bracket,
        C=sp.factor(C),
        dlogsnr_dlogsigma=dlog,
        limit_zero=sp.simplify(sp.limit(snr, sigma, 0)),
        limit_inf=sp.simplify(sp.limit(snr, sigma, sp.oo)),
    )


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
    the chi-square density), finite only for ``m = (K-1) d > 2``.
    """

    mode: str
    ratio_of_means_zero: sp.Expr
    ratio_of_means_inf: sp.Expr
    mean_of_ratios_zero: sp.Expr
    mean_of_ratios_inf: sp.Expr
    inverse_chi2_mean: sp.Expr


@functools.cache
def inverse_chi2_mean() -> sp.Expr:
    """``E[1/X]`` for ``X ~ chi2_m`` (m > 2), derived by integration; returns in ``m``."""
    m, x = sp.Symbol("m", positive=True), sp.Symbol("x", positive=True)
    density = x ** (m / 2 - 1) * sp.exp(-x / 2) / (2 ** (m / 2) * sp.gamma(m / 2))
    return sp.gammasimp(sp.integrate(density / x, (x, 0, sp.oo), conds="none"))


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
    )


# ---------------------------------------------------------------------------------------
# Named expressions and the lambdify bridge
# ---------------------------------------------------------------------------------------
def expressions(mode: str = "noisy") -> dict[str, sp.Expr]:
    """Every derived expression, by the name :func:`lambdified` knows it under.

    Proposition-1 coefficients do not depend on ``mode``.
    """
    p1 = derive_proposition1()
    t1 = derive_theorem1(mode)
    ex = derive_exact_limits(mode)
    return {
        "zeta": p1.zeta,
        "xi": p1.xi,
        "phi": p1.phi,
        "psi": p1.psi,
        "kappa": p1.kappa,
        "zeta_minus_xi": p1.zeta_minus_xi,
        "energy_own": t1.energy_own,
        "energy_other": t1.energy_other,
        "margin": t1.margin,
        "what_plus": t1.what_plus,
        "what_minus": t1.what_minus,
        "C": t1.C,
        "bracket": t1.bracket,
        "snr_approx": t1.snr,
        "dlogsnr_dlogsigma": t1.dlogsnr_dlogsigma,
        "snr_approx_limit_zero": t1.limit_zero,
        "snr_approx_limit_inf": t1.limit_inf,
        "snr_exact_limit_zero": ex.ratio_of_means_zero,
        "snr_exact_limit_inf": ex.ratio_of_means_inf,
        "mean_of_ratios_limit_zero": ex.mean_of_ratios_zero,
        "mean_of_ratios_limit_inf": ex.mean_of_ratios_inf,
    }


#: SymPy function name -> array-API function name.  Anything else is refused.
_XP_FUNCTIONS = ("exp", "log", "sqrt", "log1p", "expm1")


def _xp_namespace(xp: ModuleType) -> dict[str, Any]:
    return {name: getattr(xp, name) for name in _XP_FUNCTIONS}


@functools.cache
def lambdified(name: str, mode: str, xp: ModuleType) -> Callable[..., Any]:
    """Vectorised function ``f(sigma, K, d, delta)`` of the derived expression ``name``.

    The function is generated once per ``(name, mode, xp)`` and cached.  It uses only
    the element-wise functions of the array-API namespace ``xp`` (``exp``, ``log``,
    ``sqrt``, ...); generating code that needs anything else raises, so no NumPy call
    can slip into a CuPy or ``array_api_strict`` evaluation.

    Parameters
    ----------
    name : a key of :func:`expressions`.
    mode : "noisy" or "clean".
    xp : array-API namespace (``array_api_compat.numpy``, ``array_api_compat.cupy``,
        ``array_api_strict``).
    """
    table = expressions(mode)
    if name not in table:
        raise ValueError(f"name={name!r} is not a derived expression; valid: {sorted(table)}")
    return lambdify_expr(table[name], xp)


def lambdify_expr(expr: sp.Expr, xp: ModuleType) -> Callable[..., Any]:
    """Thin bridge: lambdify ``expr`` in ``(sigma, K, d, delta)`` onto namespace ``xp``."""
    namespace = _xp_namespace(xp)
    fn = sp.lambdify(ARGS, expr, modules=[namespace, "numpy"], cse=True)
    used = set(fn.__code__.co_names)
    unknown = used - set(namespace) - {"builtins", "range"}
    if unknown:
        raise ValueError(
            f"expression needs functions {sorted(unknown)} that the array-API bridge does "
            f"not map; extend _XP_FUNCTIONS"
        )
    return fn


# ---------------------------------------------------------------------------------------
# Peak-location law (beyond the paper)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeakLaw:
    """Closed-form law for the peak of Theorem 1's approximation (beyond the paper).

    Write ``s = sigma^2``, ``eps = exp(-Delta)`` and ``u(s) = (1 + s)(delta^2 + s)``, so
    that the derived margin is exactly ``Delta = c / u`` with ``c = d (1 - delta^2)^2 / 2``.
    To first order in ``eps`` (large margin at the peak):

        ``log SNR = F0(s) - A(s) eps + O(eps^2)``.

    Stationarity, keeping the dominant ``eps`` term, gives ``e^Delta = Delta * A u'/(u F0')``,
    i.e. ``Delta - log Delta = Lambda(s)`` with the slowly varying
    ``Lambda(s) = log(A u' / (u F0'))``; its large root is a Lambert-W value,
    ``Delta* = -W_{-1}(-exp(-Lambda))``, and ``s`` follows from ``u(s) = c / Delta*``
    (a quadratic).  This defines a map ``s -> T(s)``.

    Start: the ``s -> infinity`` expansion (``F0 = const - a/s``, ``A -> A_inf``,
    ``Delta -> c/s^2``) has its maximum at ``x* = -W_{-1}(-a^2/(2 A_inf^2 c)) / 2``,
    ``s0 = sqrt(c / x*)`` (SymPy's ``solve`` returns the other, ``k = 0``, branch: the
    minimum).  The law is ``sigma* = sqrt(T(T(s0)))``: closed form, two refinements.

    It exists when every Lambert-W argument is ``>= -1/e``.  Measured (``verify peak-law``,
    ``docs/peak_law.md``): within 2.5% wherever the margin at the peak is >= 6; it breaks
    where the peak sits at a margin below ~4 (first order in ``eps`` fails): large ``K``
    with ``delta`` around 0.6-0.9, and small ``d``.
    """

    mode: str
    a: sp.Expr
    A_inf: sp.Expr
    c: sp.Expr
    A: sp.Expr
    Lambda: sp.Expr
    s0: sp.Expr
    refine: sp.Expr
    lambert_arguments: tuple[sp.Expr, ...]
    sigma_star: sp.Expr


PEAK_LAW_REFINEMENTS = 2


@functools.cache
def derive_peak_law(mode: str) -> PeakLaw:
    """Derive :class:`PeakLaw` for ``mode`` from the derived approximate SNR."""
    p1 = derive_proposition1()
    t1 = derive_theorem1(mode)
    s, eps = sp.symbols("s epsilon", positive=True)
    w_plus = 1 / (1 + (K - 1) * eps)
    w_minus = eps / (1 + (K - 1) * eps)
    snr = p1.beta.subs(w, w_plus) ** 2 * t1.energy_own / (
        (K - 1) * p1.beta.subs(w, w_minus) ** 2 * t1.energy_other
    )
    log_snr = sp.log(snr.subs(sigma, sp.sqrt(s)))
    f0 = sp.simplify(log_snr.subs(eps, 0))
    A = sp.factor(sp.simplify(-sp.diff(log_snr, eps).subs(eps, 0)))
    u = (1 + s) * (delta**2 + s)
    c = sp.factor(sp.simplify(t1.margin.subs(sigma, sp.sqrt(s)) * u))
    if c.has(s):
        raise AssertionError("margin is not c / ((1 + s)(delta^2 + s))")

    # Large-s start.
    a = sp.factor(sp.simplify(sp.limit(-(f0 - sp.limit(f0, s, sp.oo)) * s, s, sp.oo)))
    A_inf = sp.factor(sp.limit(A, s, sp.oo))
    ga, gA, gc, x = sp.symbols("a A c x", positive=True)
    G = -ga / s - gA * sp.exp(-gc / s**2)
    stationarity = sp.simplify(sp.diff(G, s).subs(s, sp.sqrt(gc / x)))
    (principal,) = sp.solve(stationarity, x)
    z0 = -(ga**2) / (2 * gA**2 * gc)
    if sp.simplify(principal + sp.LambertW(z0) / 2) != 0:
        raise AssertionError(f"unexpected stationary point {principal}")
    subs0 = {ga: a, gA: A_inf, gc: c}
    s0 = sp.sqrt(c / (-sp.LambertW(z0, -1) / 2)).subs(subs0)

    # Refinement map s -> T(s).
    Lambda = sp.simplify(sp.log(A * sp.diff(u, s) / (u * sp.diff(f0, s))))
    big_delta = sp.Symbol("Delta_star", positive=True)
    roots = sp.solve(sp.Eq(u, c / big_delta), s)
    positive_root = max(roots, key=lambda r: float(r.subs({delta: 0.5, big_delta: 0.1, d: 1})))
    z_refine = -sp.exp(-Lambda)
    refine = positive_root.subs(big_delta, -sp.LambertW(z_refine, -1))

    s_k, arguments = s0, [z0.subs(subs0)]
    for _ in range(PEAK_LAW_REFINEMENTS):
        arguments.append(z_refine.subs(s, s_k))
        s_k = refine.subs(s, s_k)
    return PeakLaw(
        mode=mode, a=a, A_inf=A_inf, c=c, A=A, Lambda=Lambda, s0=s0, refine=refine,
        lambert_arguments=tuple(arguments), sigma_star=sp.sqrt(s_k),
    )


@functools.cache
def lambdified_peak_law(mode: str) -> Callable[..., Any]:
    """``f(K, d, delta) -> sigma*`` of the peak law (NumPy/SciPy; nan where it breaks)."""
    import numpy as np

    law = derive_peak_law(mode)
    fn = sp.lambdify((K, d, delta), law.sigma_star, modules=["scipy", "numpy"])
    args = [sp.lambdify((K, d, delta), z, modules=["scipy", "numpy"]) for z in law.lambert_arguments]

    def peak_law(k: Any, dd: Any, de: Any) -> Any:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            valid = np.all([np.real(z(k, dd, de)) >= -np.exp(-1.0) for z in args], axis=0)
            value = np.real(fn(k, dd, de))
        return np.where(valid & np.isfinite(value) & (value > 0), value, np.nan)

    return peak_law


def latex(mode: str = "noisy") -> dict[str, str]:
    """LaTeX of every derived expression (used by ``verify derive`` and docs/math.md)."""
    return {key: sp.latex(value) for key, value in expressions(mode).items()}


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"input={mode!r} is not a valid input mode; valid: {MODES}")


def describe(mode: str) -> Mapping[str, str]:
    """Plain-text form of every derived expression for ``mode``."""
    return {key: str(value) for key, value in expressions(mode).items()}
