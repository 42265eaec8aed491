"""The corrected approximation of the exact SNR: its derivation (SymPy).

The exact ratio-of-means SNR of the optimal denoiser is rewritten, with no approximation,
in terms of four weight moments (section 1 and 2 below); the corrected approximation then
makes exactly one approximation (section 3).  Numbers are computed by
:mod:`molrg.corrected` from the generated functions of this derivation.

1. **Moments.**  With ``beta_l = xi + c w_l`` (``c = zeta - xi``) and the size-biasing
   identity ``x f_{chi2_nu}(x) = nu f_{chi2_{nu+2}}(x)``,

       E N = d v_own (xi^2 + 2 xi c p1 + c^2 p2),       p_j = E~[w_0^j],
       E D = (K-1) d v_other (xi^2 + 2 xi c q1 + c^2 q2), q_j = E~[w_1^j],

   where ``E~`` draws the weighted block's energy from ``chi2_{d+2}`` instead of ``chi2_d``.
2. **Gumbel race.**  ``(1 + R)^{-j} = E_T[e^{-T R}]`` for ``T ~ Gamma(j, 1)``, and
   ``E exp(-t e^g) = P(g + G < -log t)`` for a standard Gumbel ``G``, give

       p_j = P(a_own X~ + G_j > max_{l>=1} (a_other X_l + G^(l))),
       q_j = P(a_other X~ + G_j > a_own X_0 + G^(0), > max_{l>=2} (a_other X_l + G^(l))),

   with ``a = kappa v`` the logit scales and ``G_j = -log Gamma(j, 1)``: one-dimensional
   integrals of the laws of ``Y = a chi2_nu + G_j``.  Theorem 1's expected-logit step is this
   same formula with every chi-square frozen at its mean ``d`` and no size-bias, which
   gives ``p_j = w+^j`` and ``q_j = w-^j`` exactly (checked below).
3. **The one approximation.**  The law of ``Y`` is taken from its exact cumulant generating
   function ``K_Y(theta) = -(nu/2) log(1 - 2 a theta) + log Gamma(j - theta) - log Gamma(j)``
   by the Lugannani-Rice saddle-point formula.

:func:`derive_corrected` returns the expressions; :func:`verify_identities` checks every
exact step symbolically (run by the tests).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .derive import (
    MODES,
    K,
    derive_proposition1,
    input_variance,
    snr_structure,
    w_minus,
    w_plus,
)

__all__ = ["EXTRA_ARGS", "Corrected", "derive_corrected", "generated_pieces", "markdown",
           "shared_pieces", "verify_identities"]

theta = sp.Symbol("theta", real=True)
a = sp.Symbol("a", positive=True)
nu = sp.Symbol("nu", positive=True)
j = sp.Symbol("j", positive=True)
p1, p2, q1, q2 = sp.symbols("p1 p2 q1 q2", positive=True)

EXTRA_ARGS = (theta, a, nu, j, p1, p2, q1, q2)
"""Symbols beyond ``sigma, K, d, delta`` that generated corrected functions take (first)."""


@dataclass(frozen=True)
class Corrected:
    """The derived pieces of the corrected approximation.

    Attributes
    ----------
    a_own, a_other : per mode, the logit scales ``kappa v_own`` and ``kappa v_other``.
    snr_of_moments : per mode, the exact SNR as a function of ``p1, p2, q1, q2``.
    cgf, cgf1, cgf2, cgf3 : ``K_Y(theta)`` of ``Y = a chi2_nu + G_j`` and its derivatives.
    mean, variance, kappa3 : the first three cumulants of ``Y`` (at ``theta = 0``).
    """

    a_own: dict[str, sp.Expr]
    a_other: dict[str, sp.Expr]
    snr_of_moments: dict[str, sp.Expr]
    cgf: sp.Expr
    cgf1: sp.Expr
    cgf2: sp.Expr
    cgf3: sp.Expr
    mean: sp.Expr
    variance: sp.Expr
    kappa3: sp.Expr


@functools.cache
def derive_corrected() -> Corrected:
    """Derive the corrected approximation's expressions from Proposition 1 and the model."""
    p = derive_proposition1()
    xi, c = p.xi, p.zeta_minus_xi
    a_own, a_other, snr = {}, {}, {}
    for mode in MODES:
        var = input_variance(mode)
        a_own[mode] = sp.factor(sp.simplify(p.kappa * var["own"]))
        a_other[mode] = sp.factor(sp.simplify(p.kappa * var["other"]))
        snr[mode] = (var["own"] * (xi**2 + 2 * xi * c * p1 + c**2 * p2)
                     / ((K - 1) * var["other"] * (xi**2 + 2 * xi * c * q1 + c**2 * q2)))
    cgf = -nu / 2 * sp.log(1 - 2 * a * theta) + sp.loggamma(j - theta) - sp.loggamma(j)
    cgf1, cgf2, cgf3 = (sp.diff(cgf, theta, n) for n in (1, 2, 3))
    return Corrected(
        a_own=a_own, a_other=a_other, snr_of_moments=snr, cgf=cgf, cgf1=cgf1, cgf2=cgf2,
        cgf3=cgf3, mean=sp.simplify(cgf1.subs(theta, 0)),
        variance=sp.simplify(cgf2.subs(theta, 0)), kappa3=sp.simplify(cgf3.subs(theta, 0)),
    )


def generated_pieces(mode: str) -> dict[str, sp.Expr]:
    """The expressions of ``mode`` that the code generator emits (``{mode}_corrected_*``)."""
    c = derive_corrected()
    return {"a_own": c.a_own[mode], "a_other": c.a_other[mode],
            "snr_of_moments": c.snr_of_moments[mode]}


def shared_pieces() -> dict[str, sp.Expr]:
    """Mode-independent expressions the generator emits (``corrected_*``): the cumulant
    generating function of ``Y = a chi2_nu + G_j``, its derivatives and cumulants."""
    c = derive_corrected()
    return {"cgf": c.cgf, "cgf1": c.cgf1, "cgf2": c.cgf2, "mean": c.mean,
            "variance": c.variance, "kappa3": c.kappa3}


def verify_identities() -> dict[str, bool]:
    """Check every exact step symbolically; returns ``{identity: holds}``.

    (a) size-biasing; (b) the Gamma-Laplace identity; (c) the Gumbel-max identity; (d) the
    moment generating function of ``G_j``; (e) that of ``a chi2_nu``; (f) the frozen race
    reproduces Theorem 1's derived form (``p_j = w+^j``, ``q_j = w-^j``); (g) equal weight
    moments give the exact limit ``v_own / ((K-1) v_other)``.
    """
    x, R, t, tt = sp.symbols("x R t tt", positive=True)
    n = sp.Symbol("n", positive=True)
    g = sp.Symbol("g", real=True)

    def chi2pdf(x: sp.Expr, m: sp.Expr) -> sp.Expr:
        return x ** (m / 2 - 1) * sp.exp(-x / 2) / (2 ** (m / 2) * sp.gamma(m / 2))

    out = {}
    out["(a) x f_chi2_n(x) = n f_chi2_{n+2}(x)"] = \
        sp.simplify(x * chi2pdf(x, n) - n * chi2pdf(x, n + 2)) == 0
    laplace = sp.integrate(t ** (j - 1) * sp.exp(-t) / sp.gamma(j) * sp.exp(-t * R),
                           (t, 0, sp.oo), conds="none")
    out["(b) E_T exp(-T R) = (1 + R)^-j"] = sp.simplify(laplace - (1 + R) ** (-j)) == 0
    out["(c) exp(-t e^g) = F_Gumbel(-log t - g)"] = sp.simplify(
        sp.exp(-sp.exp(-(-sp.log(t) - g))) - sp.exp(-t * sp.exp(g))) == 0
    mgf = sp.integrate(t ** (-tt) * t ** (j - 1) * sp.exp(-t) / sp.gamma(j), (t, 0, sp.oo),
                       conds="none")
    out["(d) E T^-theta = Gamma(j - theta) / Gamma(j)"] = \
        sp.simplify(mgf - sp.gamma(j - tt) / sp.gamma(j)) == 0
    mgx = sp.integrate(sp.exp(-tt * a * x) * chi2pdf(x, nu), (x, 0, sp.oo), conds="none")
    out["(e) E exp(theta a X) = (1 - 2 a theta)^(-nu/2)"] = sp.simplify(
        sp.powsimp(sp.simplify(mgx / (1 + 2 * a * tt) ** (-nu / 2)), force=True)) == 1
    c = derive_corrected()
    for mode in MODES:
        frozen = c.snr_of_moments[mode].subs(
            {p1: w_plus, p2: w_plus**2, q1: w_minus, q2: w_minus**2})
        out[f"(f) frozen race = derived form [{mode}]"] = \
            sp.simplify(frozen - snr_structure(mode).snr) == 0
        equal = c.snr_of_moments[mode].subs({q1: p1, q2: p2})
        var = input_variance(mode)
        out[f"(g) p = q gives v_own/((K-1) v_other) [{mode}]"] = \
            sp.simplify(equal - var["own"] / ((K - 1) * var["other"])) == 0
    return out


def markdown() -> str:
    """The corrected form's section of ``docs/math.md``."""
    c = derive_corrected()
    lines = ["## The corrected approximation (`form=\"corrected\"`)", "",
             "Derived by `molrg/symbolic/corrected.py` (prose: section 6 above).", ""]
    for mode in MODES:
        lines.append(f"- `a_own` ({mode}): $${sp.latex(c.a_own[mode])}$$")
        lines.append(f"- `a_other` ({mode}): $${sp.latex(c.a_other[mode])}$$")
        lines.append(f"- SNR from the weight moments ({mode}): "
                     f"$${sp.latex(c.snr_of_moments[mode])}$$")
    lines.append(f"- CGF of `Y = a chi2_nu + G_j`: $$K_Y(\\theta) = {sp.latex(c.cgf)}$$")
    lines.append(f"- `K_Y'`: $${sp.latex(c.cgf1)}$$")
    lines.append(f"- `K_Y''`: $${sp.latex(c.cgf2)}$$")
    return "\n".join(lines) + "\n"
