"""Speciation and collapse criteria of two neighbouring theories, specialised to the MoLRG.

Sources (what we could read; the stored copies lose display formulas and equation numbers,
see ``docs/theories.md``): Biroli, Bonnaire, de Bortoli, Mezard, "Dynamical regimes of
diffusion models", arXiv 2402.18491 (2024), and Achilli, Benedetti, Biroli, Mezard,
"Theory of speciation transitions in diffusion models with general class structure",
arXiv 2602.04404 (2026).  Both use the Ornstein-Uhlenbeck (variance-preserving) process
``x_t = x0 e^{-t} + sqrt(1 - e^{-2t}) z``; dividing by ``e^{-t}`` gives the
variance-exploding process of molrg with ``sigma^2 = e^{2t} - 1``, i.e.
``t = log(1 + sigma^2) / 2`` (:func:`ou_time`).

1. Biroli et al., speciation: ``Lambda e^{-2 t_S} = 1`` with ``Lambda`` the largest
   eigenvalue of the data covariance.  In VE terms ``sigma_S^2 = Lambda - 1``.  The MoLRG
   covariance is isotropic on ``span(U)``: ``Lambda = (1 + (K-1) delta^2) / K < 1``, so
   the criterion has no solution (the class structure is invisible to second moments of
   the mixture: the classes have equal, zero means).
2. Biroli et al., collapse: the excess entropy of ``p_sigma`` over the Gaussian kernel of
   one training point equals ``log N``.  For a Gaussian of variance ``v`` in ``D`` dimensions
   this gives ``sigma_C^2 = v / (N^{2/D} - 1)``, i.e. their
   ``t_C = log(1 + v / (N^{2/D} - 1)) / 2`` (checked here).  For the MoLRG (span of ``U``;
   the other directions contribute nothing):
   ``s_exc(sigma) = d/2 log(1 + 1/sigma^2) + (K-1) d/2 log(1 + delta^2/sigma^2) + I(sigma)``,
   ``I`` the class/``x_t`` mutual information, ``0 <= I <= log K`` (no closed form; the
   numerical layer evaluates it).
3. Achilli et al., speciation for classes that differ in covariance only: the level where
   the mean free-entropy (log-likelihood) difference between the true class ``k`` and
   another class ``l`` equals its standard deviation.  For the MoLRG,
   ``L_kl = (1/b - 1/a)(r_k - r_l)/2`` with ``a = 1 + sigma^2``, ``b = delta^2 + sigma^2``,
   ``r_k ~ a chi2_d``, ``r_l ~ b chi2_d``: mean ``d (a-b)^2 / (2ab)``, variance
   ``d (a-b)^2 (a^2+b^2) / (2 a^2 b^2)``.  Balance ``E^2 = Var`` in ``rho = a/b``:
   ``d (rho-1)^2 = 2 (rho^2 + 1)``, root ``rho* = (sqrt(d-1) + 1) / (sqrt(d-1) - 1)``
   (``d > 2``), hence ``sigma_rs^2 = (1 - rho* delta^2) / (rho* - 1)`` when
   ``rho* delta^2 < 1``.  Large ``d``: ``sigma_rs^2 ~ sqrt(d) (1 - delta^2) / 2``, i.e.
   ``t_rs ~ log(d) / 4`` -- the quarter-log scaling their abstract states for classes not
   separated by first moments.  Independent of ``K`` (a pairwise criterion).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["SpeciationTheory", "derive_speciation", "ou_time"]

K, d, N, D = sp.symbols("K d N D", positive=True)
delta, sigma, v, rho = sp.symbols("delta sigma v rho", positive=True)
t = sp.symbols("t", positive=True)


def ou_time(s: sp.Expr = sigma) -> sp.Expr:
    """The OU time of VE level ``s``: ``t = log(1 + s^2) / 2``."""
    return sp.log(1 + s**2) / 2


@dataclass(frozen=True)
class SpeciationTheory:
    """The derived expressions (SymPy)."""

    biroli_lambda: sp.Expr          # largest covariance eigenvalue of the MoLRG
    biroli_sigma2: sp.Expr          # sigma_S^2 = Lambda - 1 (negative: no level)
    biroli_gaussian_sigma2: sp.Expr  # collapse level^2 of a D-dim Gaussian of variance v
    biroli_gaussian_t: sp.Expr      # the same as an OU time (their t_C)
    excess_entropy_conditional: sp.Expr  # s_exc - I for the MoLRG
    free_entropy_mean: sp.Expr
    free_entropy_var: sp.Expr
    achilli_rho: sp.Expr            # rho* (d > 2)
    achilli_sigma2: sp.Expr         # sigma_rs^2


def derive_speciation() -> SpeciationTheory:
    """Derive every criterion of the module docstring from the model (no typed-in result)."""
    lam = (1 + (K - 1) * delta**2) / K
    # Biroli: Lambda e^{-2t} = 1 at t = ou_time(sigma)  <=>  Lambda = 1 + sigma^2
    s2 = sp.symbols("s2", real=True)
    biroli_s2 = sp.solve(sp.Eq(lam, 1 + s2), s2)[0]
    # collapse of a Gaussian: D/2 log((v + s^2)/s^2) = log N
    g = sp.symbols("g", positive=True)
    gauss = sp.solve(sp.Eq(D / 2 * sp.log((v + g) / g), sp.log(N)), g)[0]
    gauss = sp.simplify(gauss)
    gauss_t = sp.simplify(ou_time(sp.sqrt(gauss)))
    # MoLRG excess entropy without the mutual-information term
    a, b = 1 + sigma**2, delta**2 + sigma**2
    exc = (d / 2 * sp.log(a / sigma**2) + (K - 1) * d / 2 * sp.log(b / sigma**2))
    # Achilli: log-likelihood ratio of class k vs l, r_k = a X, r_l = b Y, X, Y ~ chi2_d
    A, B = sp.symbols("A B", positive=True)
    coef = (1 / B - 1 / A) / 2
    mean = sp.simplify(coef * (A * d - B * d))          # E X = E Y = d
    var = sp.simplify(coef**2 * (A**2 * 2 * d + B**2 * 2 * d))  # Var X = Var Y = 2d
    balance = sp.simplify((mean**2 - var).subs(A, rho * B) * 4 * B**2 / d)
    roots = sp.solve(sp.Eq(balance, 0), rho)
    rho_star = next(r for r in roots if sp.simplify(r.subs(d, 10)).is_positive
                    and float(r.subs(d, 10)) > 1)
    s2b = sp.symbols("s2b", positive=True)
    sig2 = sp.solve(sp.Eq((1 + s2b) / (delta**2 + s2b), rho), s2b)[0].subs(rho, rho_star)
    return SpeciationTheory(sp.simplify(lam), sp.simplify(biroli_s2), gauss, gauss_t,
                            sp.simplify(exc), mean.subs({A: a, B: b}),
                            var.subs({A: a, B: b}), sp.simplify(rho_star), sp.simplify(sig2))
