"""Moment assembly: the block moments ``A_m``, ``B_m`` as one-dimensional integrals over a
logit level of products of tables, chunked over noise levels, and ``E[N]``, ``E[D]`` with
error bounds (formulas in :mod:`molrg.quadrature`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as sc

from .._generated import FORMULAS, kappa, xi, zeta_minus_xi
from ..options import Input
from .rules import (
    RULES,
    TAIL_P,
    FloatArray,
    Grid,
    Rule,
    chi2_quantile_high,
    chi2_quantile_low,
)
from .tables import table

MAX_CHUNK = 24
"""Noise levels evaluated together (vectorised) on one lattice."""
CHUNK_SLACK = 1.25
"""A chunk's common lattice may exceed its members' own lattices by this factor."""
ROUNDING = 5e-14
"""Relative rounding allowance per moment (sums of up to a few thousand positive terms)."""


# ---------------------------------------------------------------------------------------
# Model coefficients
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Coef:
    xi: float
    c: float
    kappa: float
    v0: float
    v1: float

    @property
    def a0(self) -> float:
        return self.kappa * self.v0

    @property
    def a1(self) -> float:
        return self.kappa * self.v1


def _coef(s: float, delta: float, input: str) -> _Coef:
    """Proposition 1's coefficients and the input variances, from the generated code."""
    f = FORMULAS[input]
    return _Coef(float(xi(np, s, delta)), float(zeta_minus_xi(np, s, delta)),
                 float(kappa(np, s, delta)), float(f.variance_own(np, sigma=s, delta=delta)),
                 float(f.variance_other(np, sigma=s, delta=delta)))


# ---------------------------------------------------------------------------------------
# One noise level
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Raw:
    """A chunk of noise levels, one rule: ``A[:, m-1] = A_m / (v0 d)``,
    ``B[:, m-1] = B_m / (v1 d)`` and bounds on the mass of the ``u`` integrands outside
    the lattice (same units)."""

    A: FloatArray
    B: FloatArray
    trunc_A: FloatArray
    trunc_B: FloatArray


@lru_cache(maxsize=1024)
def _lattice_quantiles(K: int, d: int) -> tuple[float, float]:
    """Lower (``chi2_d``, ``chi2_{d+2}``; tail ``TAIL_P``) and upper (tails ``TAIL_P/K``,
    ``TAIL_P/K^2``) chi-square quantiles that place the lattice ends."""
    x_lo = min(chi2_quantile_low(float(d), TAIL_P), chi2_quantile_low(float(d + 2), TAIL_P))
    x_hi = max(chi2_quantile_high(float(d), TAIL_P / K),
               chi2_quantile_high(float(d + 2), TAIL_P / K**2))
    return x_lo, x_hi


def _lattice(K: int, d: int, a1: float, h: float, tail: float) -> tuple[int, int]:
    """Lattice ``j_lo .. j_lo + n_u - 1`` covering the supports of all ``u`` integrands.

    Left end ``a1 x_lo - 4.2``: below it ``F_1^{K-1}`` and ``P(a1 X' - E_m < u)`` are
    ``< 1e-25 + exp(-e^{4.2})``.  Right end ``log K + a1 x_hi + tail``: beyond it
    ``1 - F_1^{K-1} <= (K-1)(Q_d(x_hi) + e^{a1 x_hi - u}) <~ e^{-tail}`` and the density of
    ``a1 X' - E_m`` has mass ``<~ e^{-tail} / K``.
    """
    x_lo, x_hi = _lattice_quantiles(K, d)
    u_lo = a1 * x_lo - 4.2
    u_hi = math.log(K) + a1 * x_hi + tail
    j_lo = math.floor(u_lo / h)
    j_hi = math.ceil(u_hi / h)
    return j_lo, j_hi - j_lo + 1


def _raw_moments(a0: FloatArray, a1: FloatArray, K: int, d: int, rule: Rule, j_lo: int,
                 n_u: int) -> _Raw:
    """``A_m/(v0 d)`` and ``B_m/(v1 d)`` for logit scales ``(a0_r, a1_r)`` on the common
    lattice ``u_j = (j_lo + j) h`` (module docstring formulas).

    ``A``: trapezoid of ``S_m phi`` with ``phi = (K-1) f_1 F_1^{K-2}`` (``log F_1`` from
    ``log1p(-(1 - F_1))`` where ``F_1 > 1/2``, so large ``K`` keeps full accuracy);
    truncation ``<= Phi(u_lo) + 1 - Phi(u_hi)`` (``0 <= S <= 1``).  ``B``: trapezoid of
    ``p_m F_0 F_1^{K-2}``; truncation ``<= Phi'(u_lo) + P(a1 X' - E_m > u_hi)``, the latter
    ``<= Q_{d+2}((u_hi - tail)/a1) + e^{-tail}``.
    """
    h = rule.h
    nu, nu2 = float(d), float(d + 2)
    grid = Grid(j_lo, n_u, h, rule)

    def tab(kind: str, m: int, n: float, a: FloatArray) -> FloatArray:
        return table(kind, m, n, a, grid)

    F1 = np.clip(tab("cdf", 1, nu, a1), 0.0, 1.0)
    F1c = np.clip(tab("sf", 1, nu, a1), 0.0, 1.0)
    f1 = np.maximum(tab("pdf", 1, nu, a1), 0.0)
    S1 = np.clip(tab("sf", 1, nu2, a0), 0.0, 1.0)
    S2 = np.clip(tab("sf", 2, nu2, a0), 0.0, 1.0)
    F0 = np.clip(tab("cdf", 1, nu, a0), 0.0, 1.0)
    p1 = np.maximum(tab("pdf", 1, nu2, a1), 0.0)
    p2 = np.maximum(tab("pdf", 2, nu2, a1), 0.0)
    grid.memo.clear()

    logF1 = np.where(F1c < 0.5, np.log1p(-np.minimum(F1c, 0.5)), np.log(np.maximum(F1, 1e-300)))
    powK2 = np.exp((K - 2) * logF1) if K > 2 else np.ones_like(logF1)
    phi = (K - 1) * f1 * powK2
    phi_b = F0 * powK2
    A = h * np.stack([np.sum(S1 * phi, axis=1), np.sum(S2 * phi, axis=1)], axis=1)
    B = h * np.stack([np.sum(p1 * phi_b, axis=1), np.sum(p2 * phi_b, axis=1)], axis=1)
    # truncation: A: Phi(u_lo) + 1 - Phi(u_hi);  B: Phi'(u_lo) + P(U1 > u_hi)
    phi_lo = np.exp(np.maximum((K - 1) * logF1[:, 0], -745.0))
    phi_hi_c = -np.expm1((K - 1) * logF1[:, -1])
    u_hi = (j_lo + n_u - 1) * h
    x_c = max(u_hi - rule.tail, 0.0) / a1
    p_u1 = sc.gammaincc(nu2 / 2.0, x_c / 2.0) + math.exp(-rule.tail)
    return _Raw(A, B, phi_lo + phi_hi_c, phi_b[:, 0] + p_u1)


def _raw_many(sig: FloatArray, K: int, d: int, delta: float, input: str, rule: Rule
              ) -> _Raw:
    """:func:`_raw_moments` for every ``sigma``: noise levels are sorted by ``a1`` and
    grouped into chunks whose union lattice is at most ``CHUNK_SLACK`` times longer than
    each member's own (so vectorisation never multiplies the work)."""
    co = [_coef(float(s), delta, input) for s in sig]
    a0 = np.array([c.a0 for c in co])
    a1 = np.array([c.a1 for c in co])
    lat = [_lattice(K, d, float(x), rule.h, rule.tail) for x in a1]
    order = np.argsort(-a1, kind="stable")
    A = np.empty((sig.size, 2))
    B = np.empty((sig.size, 2))
    tA = np.empty(sig.size)
    tB = np.empty(sig.size)
    i = 0
    while i < order.size:
        members = [int(order[i])]
        lo, hi = lat[members[0]][0], lat[members[0]][0] + lat[members[0]][1]
        shortest = lat[members[0]][1]
        i += 1
        while i < order.size and len(members) < MAX_CHUNK:
            j = int(order[i])
            nlo, nhi = min(lo, lat[j][0]), max(hi, lat[j][0] + lat[j][1])
            if nhi - nlo > CHUNK_SLACK * min(shortest, lat[j][1]):
                break
            members.append(j)
            lo, hi, shortest = nlo, nhi, min(shortest, lat[j][1])
            i += 1
        rows = np.array(members)
        raw = _raw_moments(a0[rows], a1[rows], K, d, rule, lo, hi - lo)
        A[rows], B[rows], tA[rows], tB[rows] = raw.A, raw.B, raw.trunc_A, raw.trunc_B
    return _Raw(A, B, tA, tB)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactMoments:
    """Moments of the SNR at each ``sigma`` (all float64 arrays shaped like ``sigma``).

    Attributes
    ----------
    EN, ED : ``E[N]`` and ``E[D]``.
    EN_err, ED_err : bounds on their absolute numerical errors.
    A1, A2, B1, B2 : ``E[w_0^m r_0]`` and ``E[w_1^m r_1]`` (``m = 1, 2``).
    A_err, B_err : ``(2,)+shape`` absolute error bounds of ``A_m`` and ``B_m``.
    """

    EN: FloatArray
    ED: FloatArray
    EN_err: FloatArray
    ED_err: FloatArray
    A1: FloatArray
    A2: FloatArray
    B1: FloatArray
    B2: FloatArray
    A_err: FloatArray
    B_err: FloatArray

    @property
    def snr(self) -> FloatArray:
        """``E[N] / E[D]``."""
        return self.EN / self.ED

    @property
    def snr_err(self) -> FloatArray:
        """Bound on the absolute error of :attr:`snr` (first order plus a margin)."""
        rel = self.EN_err / self.EN + self.ED_err / self.ED
        return self.snr * rel * (1.0 + 2.0 * rel)


def moments(sigma: ArrayLike, K: int, d: int, delta: float, input: Input = "noisy",
            rule: str | Rule = "accurate", error: bool = True) -> ExactMoments:
    """``E[N]``, ``E[D]`` and the block moments ``A_m``, ``B_m`` with error bounds.

    Parameters
    ----------
    sigma : 1-D (or scalar) array of noise levels ``> 0``.
    K, d, delta, input : model (see module docstring; validated by the caller).
    rule : a name in :data:`RULES` (``"accurate"``, ``"fast"``) or a :class:`Rule`.
    error : compute error bounds (repeats the computation with :meth:`Rule.coarse`, about
        +70% time); when false the ``*_err`` fields are NaN.

    Returns
    -------
    ExactMoments, every field shaped like ``sigma`` (``A_err``/``B_err``: ``(2,) + shape``).

    Notes
    -----
    ``E[N] = xi^2 v0 d + 2 xi c A_1 + c^2 A_2`` and
    ``E[D] = (K-1)(xi^2 v1 d + 2 xi c B_1 + c^2 B_2)``; each ``A_m``/``B_m`` error bound is
    ``v d (|fine - coarse| + truncated mass) + ROUNDING * A_m``.
    """
    r = RULES[rule] if isinstance(rule, str) else rule
    sig = np.asarray(sigma, dtype=np.float64)
    flat = np.atleast_1d(sig).ravel()
    K, d = int(K), int(d)
    with np.errstate(under="ignore"):
        raw = _raw_many(flat, K, d, delta, input, r)
        if error:
            cr = _raw_many(flat, K, d, delta, input, r.coarse())
            eA = np.abs(raw.A - cr.A) + raw.trunc_A[:, None] + ROUNDING * raw.A
            eB = np.abs(raw.B - cr.B) + raw.trunc_B[:, None] + ROUNDING * raw.B
        else:
            eA = eB = np.full((flat.size, 2), np.nan)
        co = [_coef(float(s), delta, input) for s in flat]
        xi = np.array([c.xi for c in co])
        cc = np.array([c.c for c in co])
        s0 = np.array([c.v0 for c in co]) * d
        s1 = np.array([c.v1 for c in co]) * d
        A = s0[:, None] * raw.A
        B = s1[:, None] * raw.B
        EN = xi * xi * s0 + 2.0 * xi * cc * A[:, 0] + cc * cc * A[:, 1]
        ED = (K - 1) * (xi * xi * s1 + 2.0 * xi * cc * B[:, 0] + cc * cc * B[:, 1])
        ENe = ROUNDING * EN + s0 * (2.0 * xi * cc * eA[:, 0] + cc * cc * eA[:, 1])
        EDe = ROUNDING * ED + (K - 1) * s1 * (2.0 * xi * cc * eB[:, 0] + cc * cc * eB[:, 1])
    shape = sig.shape

    def sh(v: FloatArray) -> FloatArray:
        return v.reshape(shape)

    return ExactMoments(sh(EN), sh(ED), sh(ENe), sh(EDe), sh(A[:, 0]), sh(A[:, 1]), sh(B[:, 0]),
                   sh(B[:, 1]), np.stack([sh(s0 * eA[:, 0]), sh(s0 * eA[:, 1])]),
                   np.stack([sh(s1 * eB[:, 0]), sh(s1 * eB[:, 1])]))


def snr_ratio_of_means(sigma: ArrayLike, K: int, d: int, delta: float,
                       input: Input = "noisy", rule: str | Rule = "accurate"
                       ) -> tuple[FloatArray, FloatArray]:
    """Exact ratio-of-means SNR ``E[N]/E[D]`` of the optimal denoiser, with error bound.

    Parameters
    ----------
    sigma : 1-D float64 array of noise levels ``> 0`` (a scalar gives 0-d arrays).
    K : classes, ``>= 2``.  d : block dimension, ``>= 1``.  delta : in ``(0, 1)``.
    input : ``"noisy"`` or ``"clean"``.
    rule : ``"accurate"`` (default; relative error ~1e-15, bound <~ 1e-11), ``"fast"``
        (<~ 1e-11, <~ 3e-9; about 1.3-1.6x cheaper) or a :class:`Rule` (:data:`RULES`).

    Returns
    -------
    estimate, error : float64 arrays shaped like ``sigma``; ``error`` bounds the absolute
    numerical error of ``estimate`` (difference to the coarse rule + truncated tails +
    rounding allowance, propagated to the ratio).
    """
    mo = moments(sigma, K, d, delta, input, rule, error=True)
    return mo.snr, mo.snr_err

