"""Discretisation rules and their cached ingredients: Gauss rules, zeta values, kernels,
chi-square pieces (the bottom of :mod:`molrg.quadrature`; the method is described there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import special as sc
from scipy.linalg import eigh_tridiagonal

FloatArray = NDArray[np.float64]

TRAP_MIN_NU = 20.0
"""Small-``a`` rule: Gauss (gamma density) below this ``nu``, chi-variable trapezoid above."""
LATTICE_MIN_ASD = 0.5
"""Lattice sums need ``a sqrt(2 nu) >= LATTICE_MIN_ASD`` for ``nu >= TRAP_MIN_NU``."""
NAVOT_MAX_BETA = 60.0
"""Branch corrections are applied for ``nu/2 <= NAVOT_MAX_BETA`` (beyond: below 1e-30)."""
NAVOT_MAX_C = 3.0
"""Navot correction where ``e^{-u} <= NAVOT_MAX_C``; Gauss-Laguerre layer rule beyond."""
LAYER_MIN_U = -3.7
"""Below this ``u`` the boundary-layer integral is ``<= e^{m y_b - c} < 2e-15`` (``c = e^{-u}
> 40``; cdf tables ``<= Q_m(c) < 2e-16``): set to its limit (0 for cdf/pdf, 1 for the
survival function).  Wherever a table is that small the factor it multiplies in the ``u``
integrals (a Gumbel left tail ``<= e^{-c}``) is as small, so the effect is ``< 1e-30``."""
Y_FAR = -14.0
"""Kernel abscissa below which ``k_m(y) = e^{m y}(1 - e^y + e^{2y}/2)/Gamma(m)`` (relative
error ``<= e^{3 Y_FAR}/6 ~ 1e-19``) is summed by exact exponential recursions."""
TAIL_P = 1e-25
"""Chi-square tail probability used to place the lattice ends."""
SATURATION_P = 1e-60
"""Chi-square cdf / sf values below this are set to 0 (and the density beyond the matching
quantiles): they enter the ``u`` integrals multiplied by factors ``<= 1`` and only where
the moments are ``~1e-60`` of the terms they are added to."""
LFACT = sc.gammaln(np.arange(1.0, 257.0))
"""``log k!`` for ``k < 256``."""


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """Discretisation parameters.

    Attributes
    ----------
    h : lattice step in logit units for every trapezoidal sum (the chi-variable trapezoid
        scales its step by ``h / 0.2``).
    n_gauss : nodes of the gamma-density Gauss rule (small logit scales, ``nu < 20``).
    n_laguerre : nodes of the generalised Gauss-Laguerre boundary-layer rule.
    n_navot : terms of the Navot branch-point correction.
    tail : logit margin beyond which a Gumbel / log-gamma tail is dropped
        (``exp(-tail)`` relative).
    coarsen : step (and node-count) factor of the comparison rule used for error bounds.
    """

    h: float = 0.2
    n_gauss: int = 64
    n_laguerre: int = 48
    n_navot: int = 64
    tail: float = 42.0
    coarsen: float = 1.5

    def coarse(self) -> Rule:
        """The comparison rule: step ``coarsen * h``, Gauss nodes divided by ``coarsen``."""
        f = self.coarsen
        return Rule(f * self.h, max(int(self.n_gauss / f), 8),
                    max(int(self.n_laguerre / f), 8), self.n_navot, self.tail, f)


@dataclass(frozen=True)
class Grid:
    """The lattice ``u_j = (j_lo + j) h``, ``j < n_u``, of one chunk of noise levels under
    one rule, and the memo its tables share (samples of ``G``, exponentials, branch
    corrections)."""

    j_lo: int
    n_u: int
    h: float
    rule: Rule
    memo: dict[tuple, object] = field(default_factory=dict, compare=False, repr=False)

    def refined(self, q: int) -> Grid:
        """The same span with step ``h/q`` (same memo): ``q (n_u - 1) + 1`` points."""
        return Grid(q * self.j_lo, q * (self.n_u - 1) + 1, self.h / q, self.rule, self.memo)

    @property
    def u(self) -> FloatArray:
        """The abscissae ``u_j``."""
        return (self.j_lo + np.arange(self.n_u, dtype=np.float64)) * self.h


RULES: dict[str, Rule] = {
    "accurate": Rule(),
    "fast": Rule(h=0.3, n_gauss=48, n_laguerre=40, n_navot=64, tail=38.0, coarsen=1.25),
    "scan": Rule(h=0.4, n_gauss=40, n_laguerre=32, n_navot=64, tail=36.0, coarsen=1.25),
}
"""Named rules (measured over 320 random settings against the independent reference
``tests/reference_quadrature.py``, values in ``tests/data/quadrature_reference_values.json``,
checked by ``tests/test_quadrature.py``): ``"accurate"`` (default; step 0.2): error ~1e-15
(worst 2e-13, at the reference's own accuracy), bounds <= 7e-12; ``"fast"`` (step 0.3): error <= 7e-12, bounds
<= 3e-9; ``"scan"`` (step 0.4): error up to ~3e-8 (measured on 16 curves against
``"accurate"``; its comparison bound can understate that ~20x, so it is used without
bounds, only to bracket peaks)."""


# ---------------------------------------------------------------------------------------
# Cached rule ingredients
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def gamma_rule(shape: float, n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss rule for the Gamma(shape, 1) density: nodes ``t`` and weights summing to 1.

    Golub-Welsch on the generalised-Laguerre Jacobi matrix (``alpha = shape - 1``):
    diagonal ``2k + alpha + 1``, off-diagonal ``sqrt(k (k + alpha))``; weights are the
    squared first components of the eigenvectors (normalised, no Gamma overflow).
    """
    alpha = shape - 1.0
    k = np.arange(n, dtype=np.float64)
    diag = 2.0 * k + alpha + 1.0
    off = np.sqrt(k[1:] * (k[1:] + alpha))
    t, vec = eigh_tridiagonal(diag, off)
    w = vec[0, :] ** 2
    w = w / w.sum()
    t.setflags(write=False)
    w.setflags(write=False)
    return t, w


@lru_cache(maxsize=256)
def zeta_neg(gam: float, n: int) -> tuple[FloatArray, FloatArray]:
    """``log|zeta(-gam-k)|`` and its sign for ``k < n`` (``gam >= -1/2``).

    Riemann's functional equation ``zeta(-x) = 2 (2 pi)^{-(x+1)} cos(pi (x+1)/2)
    Gamma(x+1) zeta(x+1)``, with ``zeta(0) = -1/2`` and the trivial zeros exactly zero.
    """
    logz = np.full(n, -np.inf)
    sign = np.zeros(n)
    for k in range(n):
        x = gam + k
        s = x + 1.0
        if x == 0.0:
            logz[k], sign[k] = math.log(0.5), -1.0
            continue
        cosv = math.cos(math.pi * s / 2.0)
        if abs(cosv) < 1e-12:  # trivial zero zeta(-2j), j >= 1
            continue
        z = float(sc.zeta(s))
        logz[k] = (math.log(2.0) - s * math.log(2.0 * math.pi) + math.lgamma(s)
                   + math.log(abs(cosv)) + math.log(abs(z)))
        sign[k] = math.copysign(1.0, cosv) * math.copysign(1.0, z)
    logz.setflags(write=False)
    sign.setflags(write=False)
    return logz, sign


@lru_cache(maxsize=8)
def kernel_poly(m: int, n: int) -> FloatArray:
    """``P[j, k]``: coefficient of ``(-c)^k`` in the ``j``-th Taylor coefficient (at 0) of
    ``exp(m s - c (e^s - 1)) = sum_i m^{j-i}/(j-i)! * sum_k S(i, k) (-c)^k / i!``
    (``S`` Stirling numbers of the second kind; sums of positive terms, exact to rounding)."""
    stirling = np.zeros((n, n))
    stirling[0, 0] = 1.0
    for i in range(1, n):
        k = np.arange(1, i + 1)
        stirling[i, 1:i + 1] = k * stirling[i - 1, 1:i + 1] + stirling[i - 1, 0:i]
    inv_fact = np.exp(-LFACT[:n])
    t = stirling * inv_fact[:, None]  # S(i, k) / i!
    mpow = np.array([m**p * inv_fact[p] for p in range(n)])  # m^p / p!
    out = np.zeros((n, n))
    for j in range(n):
        out[j] = mpow[j::-1] @ t[:j + 1]
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def kernel(m: int, h: float, i_lo: int, i_hi: int) -> FloatArray:
    """Log-gamma kernel ``k_m(i h)`` for ``i_lo <= i <= i_hi``."""
    y = np.arange(i_lo, i_hi + 1) * h
    with np.errstate(under="ignore"):
        out = np.exp(m * y - np.exp(np.minimum(y, 700.0))) / math.gamma(m)
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------------------------
# Chi-square pieces
# ---------------------------------------------------------------------------------------
def chi2_quantile_low(nu: float, p: float) -> float:
    return 2.0 * float(sc.gammaincinv(nu / 2.0, p))


def chi2_quantile_high(nu: float, p: float) -> float:
    return 2.0 * float(sc.gammainccinv(nu / 2.0, p))




@lru_cache(maxsize=1024)
def chi2_saturation(nu: float) -> tuple[float, float, float, float]:
    """``(x_0, median, x_2, x_far)`` of ``chi2_nu``: cdf ``< SATURATION_P`` below ``x_0``,
    ``1 - cdf < 1e-17`` above ``x_2``, sf ``< SATURATION_P`` beyond ``x_far``."""
    return (chi2_quantile_low(nu, SATURATION_P), chi2_quantile_low(nu, 0.5),
            chi2_quantile_high(nu, 1e-17), chi2_quantile_high(nu, SATURATION_P))


def chi2_G(kind: str, nu: float, x: FloatArray) -> FloatArray:
    """cdf / sf / pdf of ``chi2_nu`` at ``x > 0`` (any shape); saturated values are set
    without special-function calls (relative changes ``< 1e-17``, or values below
    ``SATURATION_P``-quantile tails set to 0)."""
    if kind in ("cdf", "sf"):
        return chi2_cdf_sf(nu, x)[0 if kind == "cdf" else 1]
    b = nu / 2.0
    x0, _, _, far = chi2_saturation(nu)
    live = (x < far) & (x >= x0) if nu > 2.0 else x < far
    out = np.zeros(x.shape)
    xs = x[live]
    out[live] = np.exp((b - 1.0) * np.log(xs) - xs / 2.0 - b * math.log(2.0) - math.lgamma(b))
    return out


def chi2_cdf_sf(nu: float, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """cdf and sf of ``chi2_nu`` at ``x > 0`` with one special-function pass:
    ``P(b, x/2)`` below the median and ``Q(b, x/2)`` above it, the other as the complement
    (``>= 1/2`` there, so without cancellation); cdf ``0`` / sf ``1`` below ``x_0``,
    cdf ``1`` above ``x_2``, sf ``0`` beyond ``x_far`` (:func:`chi2_saturation`)."""
    b = nu / 2.0
    x0, med, x2, far = chi2_saturation(nu)
    cdf = np.zeros(x.shape)
    sf = np.ones(x.shape)
    if x.ndim == 2 and x.shape[0] <= 4:  # few increasing rows: slices, no masks
        for xr, cr, sr in zip(x, cdf, sf, strict=True):
            i0, im, i2, i3 = np.searchsorted(xr, (x0, med, x2, far))
            p = sc.gammainc(b, xr[i0:im] / 2.0)
            cr[i0:im], sr[i0:im] = p, 1.0 - p
            qv = sc.gammaincc(b, xr[im:i3] / 2.0)
            sr[im:i3], cr[im:i3] = qv, 1.0 - qv
            cr[i2:] = 1.0
            sr[i3:] = 0.0
        return cdf, sf
    lo = (x >= x0) & (x < med)
    hi = (x >= med) & (x < far)
    p = sc.gammainc(b, x[lo] / 2.0)
    cdf[lo], sf[lo] = p, 1.0 - p
    qv = sc.gammaincc(b, x[hi] / 2.0)
    sf[hi], cdf[hi] = qv, 1.0 - qv
    cdf[x >= x2] = 1.0
    sf[x >= far] = 0.0
    return cdf, sf


def log_reg_gamma(b: float, x: FloatArray) -> FloatArray:
    """``log P(b, x)`` (regularised lower incomplete gamma) without underflow: the series
    ``P = x^b e^{-x} sum_n x^n / Gamma(b+n+1)`` (10 terms) where ``P < 1e-250``."""
    p = sc.gammainc(b, x)
    tiny = p < 1e-250
    out = np.log(np.where(tiny, 1.0, p))
    if tiny.any():
        xs = x[tiny]
        acc = np.zeros_like(xs)
        for n in range(9, -1, -1):
            acc = acc * xs + math.exp(-math.lgamma(b + n + 1.0))
        out[tiny] = b * np.log(xs) - xs + np.log(acc)
    return out
