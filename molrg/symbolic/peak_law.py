"""A closed-form law for the peak of Theorem 1's derived approximation (beyond the paper).

Write ``s = sigma^2``, ``eps = exp(-Delta)`` and ``u(s) = (1 + s)(delta^2 + s)``, so that
the derived margin is exactly ``Delta = c / u`` with ``c = d (1 - delta^2)^2 / 2``.  To
first order in ``eps`` (large margin at the peak):

    ``log SNR = F0(s) - A(s) eps + O(eps^2)``.

Stationarity, keeping the dominant ``eps`` term, gives ``e^Delta = Delta * A u'/(u F0')``,
i.e. ``Delta - log Delta = Lambda(s)`` with the slowly varying
``Lambda(s) = log(A u' / (u F0'))``; its large root is a Lambert-W value,
``Delta* = -W_{-1}(-exp(-Lambda))``, and ``s`` follows from ``u(s) = c / Delta*`` (a
quadratic).  This defines a refinement map ``s -> T(s)``.

Start: the ``s -> infinity`` expansion (``F0 = const - a/s``, ``A -> A_inf``,
``Delta -> c/s^2``) has its maximum at ``x* = -W_{-1}(-a^2/(2 A_inf^2 c)) / 2``,
``s0 = sqrt(c / x*)`` (SymPy's ``solve`` returns the other, ``k = 0``, branch: the
minimum).  The law is ``sigma* = sqrt(T(T(s0)))``: closed form, two refinements.

It exists when every Lambert-W argument is ``>= -1/e``.  Measured (``verify peak-law``,
``docs/peak_law.md``): within 2.5% wherever the margin at the peak is >= 6; it breaks
where the peak sits at a margin below ~4 (first order in ``eps`` fails).

The pieces are kept separate (``s0``, the map ``T`` and the Lambert-W arguments): the
code generator emits each once and :func:`molrg.peak_law` composes them, instead of one
expression of some 30 000 operations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .derive import K, d, delta, derive_theorem1, sigma, snr_structure

__all__ = ["PEAK_LAW_REFINEMENTS", "PeakLaw", "derive_peak_law", "s"]

PEAK_LAW_REFINEMENTS = 2
s = sp.Symbol("s", positive=True)
"""``sigma^2``, the variable of the refinement map."""


@dataclass(frozen=True)
class PeakLaw:
    """The derived pieces of the peak law for one input mode.

    Attributes
    ----------
    a, A_inf, c, A, Lambda : the quantities of the module docstring.
    s0 : the start ``s0(K, d, delta)``.
    z0 : its Lambert-W argument (the law exists only if ``z0 >= -1/e``).
    refine : ``T(s; K, d, delta)``.
    z_refine : the Lambert-W argument of ``T`` at ``s``.
    """

    mode: str
    a: sp.Expr
    A_inf: sp.Expr
    c: sp.Expr
    A: sp.Expr
    Lambda: sp.Expr
    s0: sp.Expr
    z0: sp.Expr
    refine: sp.Expr
    z_refine: sp.Expr


@functools.cache
def derive_peak_law(mode: str) -> PeakLaw:
    """Derive :class:`PeakLaw` for ``mode`` from Theorem 1's weight structure."""
    st = snr_structure(mode)
    eps = sp.Symbol("epsilon", positive=True)
    plus = 1 / (1 + (K - 1) * eps)
    minus = eps / (1 + (K - 1) * eps)
    log_snr = sp.log(st.snr_of(plus, minus).subs(sigma, sp.sqrt(s)))
    f0 = sp.simplify(log_snr.subs(eps, 0))
    A = sp.factor(sp.simplify(-sp.diff(log_snr, eps).subs(eps, 0)))
    u = (1 + s) * (delta**2 + s)
    c = sp.factor(sp.simplify(derive_theorem1(mode).margin.subs(sigma, sp.sqrt(s)) * u))
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
    return PeakLaw(mode=mode, a=a, A_inf=A_inf, c=c, A=A, Lambda=Lambda, s0=s0,
                   z0=z0.subs(subs0), refine=refine, z_refine=z_refine)
