r"""Deterministic, high-accuracy SNR of the optimal MoLRG denoiser (ratio of means).

Model (all formulas derived elsewhere; ``s = sigma``)
-----------------------------------------------------
``zeta = 1/(1+s^2)``, ``xi = delta^2/(delta^2+s^2)``,
``c = zeta - xi = s^2 (1-delta^2) / ((1+s^2)(delta^2+s^2))`` (factored, no cancellation),
``kappa = (1-delta^2) / (2 (1+s^2)(delta^2+s^2))``.
Input variances: noisy ``v0 = 1+s^2, v1 = delta^2+s^2``; clean ``v0 = 1, v1 = delta^2``.
``X_0..X_{K-1}`` iid ``chi2_d``; ``r_0 = v0 X_0`` (true class), ``r_l = v1 X_l``;
logits ``g_l = kappa r_l``; ``w = softmax(g)``; ``beta_l = xi + c w_l``;
``N = beta_0^2 r_0``, ``D = sum_{l>=1} beta_l^2 r_l``.  Target ``SNR = E[N] / E[D]`` with

    E[N] = xi^2 v0 d + 2 xi c A_1 + c^2 A_2,      A_m = E[w_0^m r_0],
    E[D] = (K-1) (xi^2 v1 d + 2 xi c B_1 + c^2 B_2),  B_m = E[w_1^m r_1].

Method (derivation, node counts and error analysis in REPORT.md)
----------------------------------------------------------------
Write ``a0 = kappa v0``, ``a1 = kappa v1`` (logit scales; ``a1 < 1/2`` always), let ``G_l``
be iid standard Gumbel and ``E_m = log Gamma_m`` with ``Gamma_m ~ Gamma(m, 1)`` (density
``k_m(y) = exp(m y - e^y) / Gamma(m)``), all independent of the ``X``.  With
``(1 + y)^{-m} = E exp(-Gamma_m y)`` and ``exp(-e^{-x}) = P(G <= x)`` (Gumbel max), and
size-biasing ``x f_d(x) = d f_{d+2}(x)`` (``X' ~ chi2_{d+2}``):

    A_m / (v0 d) = P(a0 X'_0 - E_m > Z),  Z = max_{l>=1} (a1 X_l + G_l),
    B_m / (v1 d) = P(a1 X'_1 - E_m > Z'), Z' = max(a0 X_0 + G_0, max_{l>=2} (a1 X_l + G_l)).

With ``F_j(u) = P(a_j X + G <= u) = E exp(-e^{a_j X - u})`` (the one-block Laplace
functional ``L_j(t)`` at ``t = e^{-u}``) these are one-dimensional integrals over a logit
level ``u``:

    A_m / (v0 d) = int S_m(u) phi(u) du,  S_m(u) = P(a0 X' - E_m > u),
                   phi = (F_1^{K-1})' = (K-1) f_1 F_1^{K-2},
    B_m / (v1 d) = int p_m(u) F_0(u) F_1(u)^{K-2} du,  p_m = density of a1 X' - E_m.

``K`` enters only as an exponent (cost independent of ``K``).  The integrands are analytic
in ``|Im u| < pi/2``: trapezoidal rule on the lattice ``u in h Z`` (error ``~e^{-pi^2/h}``).
Every table (``F_1``, ``1 - F_1``, ``f_1``, ``S_m``, ``F_0``, ``p_m``) is
``T(u) = E_X psi(a X - u) = int k_m(y) G((u + y)/a) dy`` with ``G`` a chi-square cdf,
survival function or density and ``psi = exp(-e^y)``, ``P(m, e^y)`` or ``k_m(y)``:

* small ``a`` (``_regime``): a rule in the chi-square variable (Gauss rule for the gamma
  density if ``nu < 20``, trapezoid in ``z = sqrt(x)`` otherwise);
* otherwise a lattice sum: the kernel on the same lattice, so ``G`` is sampled once on
  ``h Z`` and ``T`` is a discrete correlation (near kernel) plus exact exponential
  recursions (far kernel tail ``y < Y_FAR``).  The chi-square branch point ``G ~ x^{nu/2}``
  at ``x = 0`` sits on a lattice point and is corrected by Navot's generalised
  Euler-Maclaurin series ``sum_k zeta(-g-k) phi^{(k)}(0) h^{g+k+1}/k!`` where
  ``e^{-u} <= 3`` (the step is refined to ``h/q <= 2a`` when needed for convergence), and
  replaced by a generalised Gauss-Laguerre rule after ``t = e^{-u}(e^s - 1)`` where the
  kernel has a boundary layer (``e^{-u} > 3``).

Error bound: the computation is repeated with the comparison rule :meth:`Rule.coarse`
(step ``1.5 h``, Gauss nodes / 1.5); ``|fine - coarse|`` bounds the error of the fine
result (geometric convergence: the fine error is about ``|coarse error|^{1.5}``), plus the
truncated tails of the ``u`` integrals (evaluated, or bounded in closed form) and a
rounding allowance ``ROUNDING``, propagated through the positive combinations above.

Assumptions (validated by the caller): ``K >= 2`` integer, ``d >= 1`` integer,
``0 < delta < 1``, ``sigma > 0`` finite, ``input in {"noisy", "clean"}``.  Tested over
``sigma in [1e-4, 1e3]``, ``K <= 1e6``, ``d <= 512``, ``delta in [0.01, 0.99]``.  Pure
NumPy/SciPy, float64.  Underflow to zero of negligible terms is expected and silenced
locally (``np.errstate(under="ignore")``); no overflow / invalid operation occurs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special as sc
from scipy.linalg import eigh_tridiagonal

from . import _generated as gen

__all__ = [
    "RULES",
    "Moments",
    "Peak",
    "PeakDetails",
    "Rule",
    "exact_peak",
    "exact_peak_details",
    "moments",
    "snr_limits",
    "snr_ratio_of_means",
]

Input = Literal["noisy", "clean"]
FloatArray = NDArray[np.float64]


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


RULES: dict[str, Rule] = {
    "accurate": Rule(),
    "fast": Rule(h=0.3, n_gauss=48, n_laguerre=40, n_navot=64, tail=38.0, coarsen=1.25),
    "scan": Rule(h=0.4, n_gauss=40, n_laguerre=32, n_navot=64, tail=36.0, coarsen=1.25),
}
"""Named rules (measured over 320 random settings against the independent reference,
REPORT.md): ``"accurate"`` (default; step 0.2): error ~1e-15 (worst 2e-13, at the
reference's own accuracy), bounds <= 7e-12; ``"fast"`` (step 0.3): error <= 7e-12, bounds
<= 3e-9; ``"scan"`` (step 0.4): error up to ~3e-8 (measured on 16 curves against
``"accurate"``; its comparison bound can understate that ~20x, so it is used without
bounds, only to bracket peaks)."""

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


# ---------------------------------------------------------------------------------------
# Cached rule ingredients
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def _gamma_rule(shape: float, n: int) -> tuple[FloatArray, FloatArray]:
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
def _zeta_neg(gam: float, n: int) -> tuple[FloatArray, FloatArray]:
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
def _kernel_poly(m: int, n: int) -> FloatArray:
    """``P[j, k]``: coefficient of ``(-c)^k`` in the ``j``-th Taylor coefficient (at 0) of
    ``exp(m s - c (e^s - 1)) = sum_i m^{j-i}/(j-i)! * sum_k S(i, k) (-c)^k / i!``
    (``S`` Stirling numbers of the second kind; sums of positive terms, exact to rounding)."""
    stirling = np.zeros((n, n))
    stirling[0, 0] = 1.0
    for i in range(1, n):
        k = np.arange(1, i + 1)
        stirling[i, 1:i + 1] = k * stirling[i - 1, 1:i + 1] + stirling[i - 1, 0:i]
    inv_fact = np.exp(-_LFACT[:n])
    t = stirling * inv_fact[:, None]  # S(i, k) / i!
    mpow = np.array([m**p * inv_fact[p] for p in range(n)])  # m^p / p!
    out = np.zeros((n, n))
    for j in range(n):
        out[j] = mpow[j::-1] @ t[:j + 1]
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def _kernel(m: int, h: float, i_lo: int, i_hi: int) -> FloatArray:
    """Log-gamma kernel ``k_m(i h)`` for ``i_lo <= i <= i_hi``."""
    y = np.arange(i_lo, i_hi + 1) * h
    with np.errstate(under="ignore"):
        out = np.exp(m * y - np.exp(np.minimum(y, 700.0))) / math.gamma(m)
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------------------------
# Chi-square pieces
# ---------------------------------------------------------------------------------------
def _chi2_quantile_low(nu: float, p: float) -> float:
    return 2.0 * float(sc.gammaincinv(nu / 2.0, p))


def _chi2_quantile_high(nu: float, p: float) -> float:
    return 2.0 * float(sc.gammainccinv(nu / 2.0, p))


SATURATION_P = 1e-60
"""Chi-square cdf / sf values below this are set to 0 (and the density beyond the matching
quantiles): they enter the ``u`` integrals multiplied by factors ``<= 1`` and only where
the moments are ``~1e-60`` of the terms they are added to."""


@lru_cache(maxsize=1024)
def _chi2_saturation(nu: float) -> tuple[float, float, float, float]:
    """``(x_0, median, x_2, x_far)`` of ``chi2_nu``: cdf ``< SATURATION_P`` below ``x_0``,
    ``1 - cdf < 1e-17`` above ``x_2``, sf ``< SATURATION_P`` beyond ``x_far``."""
    return (_chi2_quantile_low(nu, SATURATION_P), _chi2_quantile_low(nu, 0.5),
            _chi2_quantile_high(nu, 1e-17), _chi2_quantile_high(nu, SATURATION_P))


def _chi2_G(kind: str, nu: float, x: FloatArray) -> FloatArray:
    """cdf / sf / pdf of ``chi2_nu`` at ``x > 0`` (any shape); saturated values are set
    without special-function calls (relative changes ``< 1e-17``, or values below
    ``SATURATION_P``-quantile tails set to 0)."""
    if kind in ("cdf", "sf"):
        return _chi2_cdf_sf(nu, x)[0 if kind == "cdf" else 1]
    b = nu / 2.0
    x0, _, _, far = _chi2_saturation(nu)
    live = (x < far) & (x >= x0) if nu > 2.0 else x < far
    out = np.zeros(x.shape)
    xs = x[live]
    out[live] = np.exp((b - 1.0) * np.log(xs) - xs / 2.0 - b * math.log(2.0) - math.lgamma(b))
    return out


def _chi2_cdf_sf(nu: float, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """cdf and sf of ``chi2_nu`` at ``x > 0`` with one special-function pass:
    ``P(b, x/2)`` below the median and ``Q(b, x/2)`` above it, the other as the complement
    (``>= 1/2`` there, so without cancellation); cdf ``0`` / sf ``1`` below ``x_0``,
    cdf ``1`` above ``x_2``, sf ``0`` beyond ``x_far`` (:func:`_chi2_saturation`)."""
    b = nu / 2.0
    x0, med, x2, far = _chi2_saturation(nu)
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


def _log_reg_gamma(b: float, x: FloatArray) -> FloatArray:
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


@lru_cache(maxsize=64)
def _recursion_weights(lam: tuple[float, ...]) -> tuple[int, FloatArray, FloatArray, FloatArray]:
    """Block length and the bounded weights ``e^{+-lam k}``, ``e^{-lam(k+1)}`` of the
    recursion."""
    la = np.array(lam)
    block = max(1, int(600.0 / float(la.max())))
    k = np.arange(block)
    grow = np.exp(la[:, None] * k[None, :])
    decay = 1.0 / grow
    step = np.exp(-la)[:, None] * decay
    for arr in (grow, decay, step):
        arr.setflags(write=False)
    return block, grow, decay, step


def _exp_recursion(G: FloatArray, lam: FloatArray, r_init: FloatArray) -> FloatArray:
    """``R[t, r, p] = sum_{q <= p} e^{-lam_t (p - q)} G[r, q] + e^{-lam_t (p + 1)} r_init_t``
    (i.e. ``R[t, r, -1] = r_init_t``) for rows ``G[r]``, by blocked cumulative sums with
    bounded weights (positive terms, no cancellation)."""
    n = G.shape[1]
    block, grow, decay, step = _recursion_weights(tuple(lam.tolist()))
    out = np.empty((lam.size, G.shape[0], n))
    carry = r_init[:, None, None]
    for s0 in range(0, n, block):
        g = G[None, :, s0:s0 + block]
        w = g.shape[2]
        out[:, :, s0:s0 + w] = (np.cumsum(g * grow[:, None, :w], axis=2) * decay[:, None, :w]
                                + carry * step[:, None, :w])
        carry = out[:, :, s0 + w - 1:s0 + w]
    return out


# ---------------------------------------------------------------------------------------
# Tables: T(u) = int k_m(y) G((u + y) / a) dy on the lattice u_j = (j_lo + j) h
# ---------------------------------------------------------------------------------------
def _x_rule(nu: float, a: float, rule: Rule) -> tuple[FloatArray, FloatArray]:
    """Nodes ``x`` and weights (density included) for ``E[g(X)]``, ``X ~ chi2_nu``, when
    ``g(x) = psi(a' x - u)`` with ``a' <= a`` varies slowly on the chi-square scale.

    * ``nu < TRAP_MIN_NU``: Gauss rule for ``X/2 ~ Gamma(nu/2)`` (Golub-Welsch), with
      ``n_gauss/8`` nodes if ``a x_hi < 0.1``, ``n_gauss/4`` if ``< 1``, ``n_gauss/2`` if
      ``< 3``, else ``n_gauss`` (``a x_hi`` the logit spread of the chi-square support).
    * otherwise: trapezoidal rule in the chi variable ``z = sqrt(x)`` (density
      ``z^{nu-1} e^{-z^2/2}``: entire, so no endpoint error at 0 for odd ``nu`` and
      ``O(dz^nu)`` for even ``nu``) over ``[z_lo, z_hi]`` (tail probability ``TAIL_P``,
      ``z_hi`` widened for the tilt ``e^{2 a x}`` of the m = 2 tables).  ``g`` is analytic
      in ``|Im z| < eta = min(2, 0.8 pi / (4 a z_hi))`` (``Im(a z^2) < pi/2``; the density
      grows by ``<= e^{eta^2}`` there), so ``dz = 2 pi eta / (40 + eta^2)`` (times
      ``h / 0.2``) gives ``~e^{-40}`` relative error.
    """
    if nu < TRAP_MIN_NU:
        x_hi = _chi2_quantile_high(nu, TAIL_P)
        n = rule.n_gauss
        if a * x_hi < 0.1:
            n = max(n // 8, 6)
        elif a * x_hi < 1.0:
            n = max(n // 4, 8)
        elif a * x_hi < 3.0:
            n = max(n // 2, 8)
        t, w = _gamma_rule(nu / 2.0, n)
        return 2.0 * t, w
    x_lo = _chi2_quantile_low(nu, TAIL_P)
    x_hi = _chi2_quantile_high(nu, TAIL_P) / (1.0 - 4.0 * min(a, 0.2))
    z_lo, z_hi = math.sqrt(x_lo), math.sqrt(x_hi)
    eta = min(2.0, 0.8 * math.pi / (4.0 * a * z_hi))
    dz = 2.0 * math.pi * eta / (40.0 + eta * eta) * (rule.h / 0.2)
    z = z_lo + dz * np.arange(math.ceil((z_hi - z_lo) / dz) + 1)
    b = nu / 2.0
    w = dz * np.exp((nu - 1.0) * np.log(z) - z * z / 2.0 - (b - 1.0) * math.log(2.0)
                    - math.lgamma(b))
    return z * z, w


@lru_cache(maxsize=65536)
def _x_rule_size(nu: float, a: float, rule: Rule) -> int:
    """Size class of :func:`_x_rule` at ``a``: its node count (``nu < TRAP_MIN_NU``) or
    the power of two above it (chi-variable trapezoid)."""
    n = _x_rule(nu, a, rule)[0].size
    return n if nu < TRAP_MIN_NU else 1 << (n - 1).bit_length()


X_RULE_ELEMENTS = 1_500_000
"""Work-array budget (elements) of the vectorised x-rule tables."""


def _table_x(kind: str, m: int, nu: float, a: FloatArray, u: FloatArray, rule: Rule,
             memo: dict[tuple, object]) -> FloatArray:
    """Small logit scales: rows ``E_X[psi(a_r X - u)]`` with the rule of :func:`_x_rule`
    (common nodes, chosen for the largest ``a_r``).  ``psi``: cdf ``exp(-e^y)``, sf
    ``P(m, e^y)``, pdf ``k_m(y)``.  ``memo`` shares ``e^y`` and ``exp(-e^y)`` between
    tables of equal ``(nu, a)``."""
    key = ("x", nu, a.tobytes())
    if key in memo:
        ey, eey, w = memo[key]  # type: ignore[misc]
    else:
        x, w = _x_rule(nu, float(a.max()), rule)
        ey = np.exp(np.minimum(a[:, None, None] * x[None, None, :] - u[None, :, None], 700.0))
        eey = np.exp(-ey)
        memo[key] = (ey, eey, w)
    if kind == "cdf":
        vals = eey
    elif kind == "sf":
        vals = -np.expm1(-ey)
        if m == 2:  # P(2, z) = 1 - (1 + z) e^{-z}; series where that cancels
            small = ey < 0.1
            zs = ey[small]
            acc = np.zeros_like(zs)
            for n in range(10, -1, -1):
                acc = acc * zs + 1.0 / math.factorial(n + 2)
            vals = vals - ey * eey
            vals[small] = zs * zs * np.exp(-zs) * acc
    else:  # k_m(y) = (e^y)^m exp(-e^y) / Gamma(m); here y <= a x_max + 5 < 300
        vals = (ey * eey if m == 1 else ey * ey * eey) / math.gamma(m)
    return vals @ w


@lru_cache(maxsize=65536)
def _regime(nu: float, a: float, h: float) -> tuple[str, int]:
    """``("x", 0)`` (rule in the chi-square variable, :func:`_x_rule`) or
    ``("lattice", q)`` (lattice sums with step ``h/q``, subsampled).

    The lattice sum needs ``G((u + y)/a)`` smooth on the step within the strip
    ``|Im y| < pi/2``: for ``nu >= TRAP_MIN_NU``, ``a sd >= LATTICE_MIN_ASD`` (``sd =
    sqrt(2 nu)``).  Where the chi-square branch point matters and is corrected (``nu/2 <=
    NAVOT_MAX_BETA``), the Navot series must converge: ratio ``~h (m + 1/(2a) + c)/(2 pi)``,
    so the step is refined to ``h/q <= 2a``.  Small ``nu`` with ``a < h/2``: Gauss rule.
    """
    if nu < TRAP_MIN_NU:
        return ("lattice", 1) if a >= 0.5 * h else ("x", 0)
    if a * math.sqrt(2.0 * nu) < LATTICE_MIN_ASD:
        return ("x", 0)
    if nu / 2.0 <= NAVOT_MAX_BETA and a < 0.5 * h and _branch_matters(nu, a):
        return ("lattice", math.ceil(0.5 * h / a))
    return ("lattice", 1)


@lru_cache(maxsize=256)
def _navot_hankel(gam: float, h: float, n: int) -> FloatArray:
    """``H[j, k] = zeta(-gam-j-k) h^(gam+j+k+1)`` for ``j + k < n`` (0 elsewhere)."""
    logz, sz = _zeta_neg(gam, n)
    k = np.arange(n)
    idx = k[:, None] + k[None, :]
    valid = idx < n
    idxc = np.where(valid, idx, 0)
    with np.errstate(under="ignore", divide="ignore"):
        logv = logz[idxc] + (gam + idxc + 1.0) * math.log(h)
        out = np.where(valid, sz[idxc] * np.exp(np.minimum(logv, 700.0)), 0.0)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=256)
def _navot_matrix(m: int, gam: float, h: float, n: int) -> FloatArray:
    """``P_m^T H``: maps the Taylor coefficients of ``E`` to the polynomial in ``-c``."""
    out = _kernel_poly(m, n).T @ _navot_hankel(gam, h, n)
    out.setflags(write=False)
    return out


_LFACT = sc.gammaln(np.arange(1.0, 257.0))
"""``log k!`` for ``k < 256``."""

_POWERS: dict[tuple[float, int, int], FloatArray] = {}


def _neg_c_powers(h: float, j0: int, j1: int, n: int) -> FloatArray:
    """``(-e^{-j h})^k`` for ``j0 <= j < j1``, ``k < n`` (cached, grown on demand)."""
    key = (h, j0, n)
    have = _POWERS.get(key)
    if have is None or have.shape[0] < j1 - j0:
        size = max(j1 - j0, 2 * (have.shape[0] if have is not None else 0), 512)
        c = -np.exp(-(j0 + np.arange(size)) * h)
        with np.errstate(under="ignore"):
            have = np.vander(c, n, increasing=True)
        have.setflags(write=False)
        _POWERS[key] = have
    return have


@lru_cache(maxsize=256)
def _navot_series(kind: str, b: float, n: int) -> FloatArray:
    """``(-1)^k / (k! (b + k))`` (cdf) or ``(-1)^k / k!`` (pdf): Taylor coefficients of
    the entire factor of the chi-square cdf / density, up to the scale ``(2a)^{-b-k}``."""
    k = np.arange(n)
    out = np.where(k % 2 == 0, 1.0, -1.0) * np.exp(-_LFACT[:n])
    if kind != "pdf":
        out = out / (b + k)
    out.setflags(write=False)
    return out


def _navot(kind: str, m: int, nu: float, a: FloatArray, j_first: int, count: int,
           rule: Rule, h: float) -> FloatArray:
    """Navot corrections (rows: ``a_r``) ``sum_k zeta(-g-k) phi_k h^{g+k+1}`` at the branch
    points ``y_b = -u_j``, ``u_j = (j_first + i) h``, ``i < count``.

    The integrand near its branch point is ``s^g phi(s)`` with ``s = y - y_b``,
    ``phi(s) = k_m(y_b) exp(m s - c (e^s - 1)) E(s)``, ``c = e^{y_b}`` and ``E`` the entire
    factor of the chi-square cdf (``g = nu/2``) or density (``g = nu/2 - 1``):
    ``E(s) = (2a)^{-b} / Gamma(b) sum_n (-s/(2a))^n / (n! (b+n))`` (cdf, ``b = nu/2``) or
    ``(2a)^{-b} / Gamma(b) e^{-s/(2a)}`` (pdf).  With ``phi_k`` the Taylor coefficients
    this is ``k_m(y_b) sum_k omega_k (-c)^k``, ``omega = P_m^T H e`` (``H`` the Hankel
    matrix of the scaled zeta values, ``P_m`` the Stirling polynomial matrix); ``c <= 3``
    here, where the series converges geometrically (ratio ``~h (m + 1/(2a) + c)/(2 pi)``).
    """
    n = rule.n_navot
    b = nu / 2.0
    gam = b if kind != "pdf" else b - 1.0
    log_scale = np.log(2.0 * a)[:, None]
    coef = _navot_series(kind, b, n)[None, :] * np.exp(
        np.minimum(-(_K64[:n][None, :] + b) * log_scale - math.lgamma(b), 700.0))
    omega = coef @ _navot_matrix(m, gam, h, n).T  # rows: omega for each a_r
    j0 = math.ceil(-math.log(NAVOT_MAX_C) / h)
    powers = _neg_c_powers(h, j0, j_first + count, n)
    poly = omega @ powers[j_first - j0:j_first - j0 + count].T
    u = (j_first + np.arange(count)) * h
    km = np.exp(-m * u - np.exp(-u)) / math.gamma(m)
    return poly * km[None, :]


_K64 = np.arange(256.0)


def _layer(kind: str, m: int, nu: float, a: FloatArray, u: FloatArray, rule: Rule
           ) -> FloatArray:
    """Boundary-layer integrals (rows: ``a_r``) ``int_{y_b}^inf k_m(y) G((y - y_b)/a) dy``
    (cdf or pdf ``G``) at ``y_b = -u``.

    Substituting ``t = c (e^s - 1)``, ``c = e^{y_b} = e^{-u}``:
    ``k_m(y) dy = e^{m y_b - c} / (Gamma(m) c) (1 + t/c)^{m-1} e^{-t} dt``, and
    ``G ~ t^alpha`` at 0 (``alpha = nu/2`` cdf, ``nu/2 - 1`` pdf): generalised
    Gauss-Laguerre rule with weight ``t^alpha e^{-t}``.
    """
    b = nu / 2.0
    alpha = b if kind == "cdf" else b - 1.0
    # large b: G/t^alpha saturates inside the rule's range (the chi-square bulk is within
    # a few logit units of the branch): three times the nodes
    t, w = _gamma_rule(alpha + 1.0, rule.n_laguerre * (3 if b >= LAYER_MANY_B else 1))
    cvec = np.exp(-u)
    s = np.log1p(t[None, :] * (1.0 / cvec)[:, None])  # (n_lay, n_L), common to all rows
    ar = a[:, None, None]
    if kind == "cdf":
        x = s[None, :, :] / (2.0 * ar)
        logg = (_log_reg_gamma(b, x.ravel()).reshape(x.shape) - b * np.log(t)[None, None, :])
    else:
        logg = ((b - 1.0) * (np.log(s / t[None, :])[None] - np.log(ar)) - s[None] / (2.0 * ar)
                - b * math.log(2.0) - math.lgamma(b) - np.log(ar))
    if m != 1:
        logg = logg + (m - 1.0) * s[None]
    logpref = (1.0 - m) * u - cvec - math.lgamma(m) + math.lgamma(alpha + 1.0)
    vals = np.exp(np.minimum(logg, 700.0)) @ w
    return vals * np.exp(np.minimum(logpref, 700.0))[None, :]


def _table_lattice(kind: str, m: int, nu: float, a: FloatArray, j_lo: int, n_u: int,
                   rule: Rule, h: float, y_hi: float, memo: dict[tuple, object]
                   ) -> FloatArray:
    """Lattice rows ``T_r(u_j) = h sum_i k_m(y_i) G((u_j + y_i)/a_r)`` (``u_j = (j_lo+j) h``)
    with the far-kernel recursions and the branch corrections (see :func:`_table`)."""
    # Kernel split: near part y = i h, i_c < i <= i_hi (direct correlation); far part
    # y <= y_c = i_c h, where k_m(y) = e^{m y} (1 - e^y + e^{2y}/2) / Gamma(m) to
    # ~e^{3 y_c} relative, summed by exact first-order recursions (positive terms).
    i_c = math.floor(Y_FAR / h)
    i_hi = math.ceil(y_hi / h)
    ker = _kernel(m, h, i_c + 1, i_hi)
    p0 = min(1, j_lo + i_c + 1)  # every G index p < p0 has p <= 0 (G = 0 or 1 there)
    p1 = j_lo + n_u - 1 + i_hi
    const = 1.0 if kind == "sf" else 0.0
    gkey = ("G", kind, nu, h, a.tobytes())
    if gkey in memo:
        G = memo[gkey]
    else:
        n_const = max(0, 1 - p0)  # entries p0 .. 0
        x = np.arange(max(p0, 1), p1 + 1)[None, :] * (h / a)[:, None]
        pad0 = np.zeros((a.size, n_const))
        if kind == "pdf":
            G = np.concatenate((pad0, _chi2_G("pdf", nu, x) / a[:, None]), axis=1)
        else:
            cdf, sf = _chi2_cdf_sf(nu, x)
            G_cdf = np.concatenate((pad0, cdf), axis=1)
            G_sf = np.concatenate((pad0 + 1.0, sf), axis=1)
            memo[("G", "cdf", nu, h, a.tobytes())] = G_cdf
            memo[("G", "sf", nu, h, a.tobytes())] = G_sf
            G = G_cdf if kind == "cdf" else G_sf
        memo[gkey] = G
    G = np.asarray(G)
    start = j_lo + i_c + 1 - p0
    T = np.empty((a.size, n_u))
    for r, g in enumerate(G):
        T[r] = np.correlate(g[start:], ker, mode="valid")
    T *= h
    lam = _LAMBDAS[m] * h
    r_init = const / -np.expm1(-lam)
    R = _exp_recursion(G, lam, r_init)  # (3, rows, n_G)
    first = j_lo + i_c - p0  # R index of P_0 = j_lo + i_c (may be -1: then r_init)
    series = _SERIES * np.exp(lam * i_c) * (h / math.gamma(m))
    if first >= 0:
        sl = slice(first, first + n_u)
        T += series[0] * R[0, :, sl] + series[1] * R[1, :, sl] + series[2] * R[2, :, sl]
    else:
        sl = slice(0, n_u - 1)
        T[:, 0] += float(series @ r_init)
        T[:, 1:] += series[0] * R[0, :, sl] + series[1] * R[1, :, sl] + series[2] * R[2, :, sl]
    if nu / 2.0 <= NAVOT_MAX_BETA:
        rows = np.array([_branch_matters(nu, float(ar)) for ar in a])
        if rows.any():
            base = "pdf" if kind == "pdf" else "cdf"
            ab = a[rows]
            j_nav = max(math.ceil(-math.log(NAVOT_MAX_C) / h), j_lo)  # first Navot index
            j_lay = max(math.ceil(LAYER_MIN_U / h), j_lo)  # first layer index
            key = ("branch", base, m, nu, h, ab.tobytes())
            if key in memo:
                corr, layer = memo[key]  # type: ignore[misc]
            else:
                n_nav = j_lo + n_u - j_nav
                corr = _navot(base, m, nu, ab, j_nav, n_nav, rule, h) if n_nav > 0 else None
                n_lay = min(j_nav, j_lo + n_u) - j_lay
                layer = None
                if n_lay > 0:
                    u_lay: FloatArray = (j_lay + np.arange(n_lay, dtype=np.float64)) * h
                    layer = _layer(base, m, nu, ab, u_lay, rule)
                memo[key] = (corr, layer)
            Tb = T if rows.all() else T[rows]
            if corr is not None:
                sl = slice(j_nav - j_lo, n_u)
                Tb[:, sl] = Tb[:, sl] + corr if kind == "sf" else Tb[:, sl] - corr
            if layer is not None:
                sl = slice(j_lay - j_lo, j_lay - j_lo + layer.shape[1])
                Tb[:, sl] = 1.0 - layer if kind == "sf" else layer
            if j_lay > j_lo:
                Tb[:, :j_lay - j_lo] = const
            if Tb is not T:
                T[rows] = Tb
    return T


def _table(kind: str, m: int, nu: float, a: FloatArray, j_lo: int, n_u: int, rule: Rule,
           h: float, y_hi: float, memo: dict[tuple, object]) -> FloatArray:
    """Rows (one per logit scale ``a_r``) of ``T(u) = int k_m(y) G((u + y)/a_r) dy`` at
    ``u_j = (j_lo + j) h``, ``j < n_u``.

    ``G`` is the chi2_nu cdf (``kind="cdf"``, 0 for negative argument), survival function
    (``"sf"``, 1 for negative argument) or density (``"pdf"``, divided by ``a``);
    equivalently ``E_X[psi(a X - u)]`` with ``psi = exp(-e^y)``, ``P(m, e^y)``, ``k_m(y)``.
    Rows are grouped by :func:`_regime`: the x-rule, the lattice with step ``h``, or a
    lattice refined to ``h/q`` and subsampled.  ``memo`` (one per chunk and rule) shares
    samples of ``G``, exponentials and branch corrections between tables.
    """
    out = np.empty((a.size, n_u))
    groups: dict[tuple[str, int], list[int]] = {}
    for r, ar in enumerate(a):
        key = _regime(nu, float(ar), h)
        if key[0] == "x":  # group x-rule rows by node count (the rule is chosen per group)
            key = ("x", _x_rule_size(nu, float(ar), rule))
        groups.setdefault(key, []).append(r)
    u: FloatArray = (j_lo + np.arange(n_u, dtype=np.float64)) * h
    for (regime, q), idx in groups.items():
        rows = np.array(idx)
        ag = a[rows]
        if regime == "x":
            n_x = _x_rule(nu, float(ag.max()), rule)[0].size
            per = max(1, X_RULE_ELEMENTS // (n_u * n_x))
            for s0 in range(0, ag.size, per):
                out[rows[s0:s0 + per]] = _table_x(kind, m, nu, ag[s0:s0 + per], u, rule, memo)
        elif q == 1:
            out[rows] = _table_lattice(kind, m, nu, ag, j_lo, n_u, rule, h, y_hi, memo)
        else:  # refined lattice (branch corrections need h/q <= 2a), subsampled
            out[rows] = _table_lattice(kind, m, nu, ag, q * j_lo, q * (n_u - 1) + 1, rule,
                                       h / q, y_hi, memo)[:, ::q]
    return out


LAYER_MANY_B = 10.0
"""From this ``nu/2`` on the boundary-layer rule uses ``3 n_laguerre`` nodes."""
_LAMBDAS = {1: np.array([1.0, 2.0, 3.0]), 2: np.array([2.0, 3.0, 4.0])}
_SERIES = np.array([1.0, -1.0, 0.5])
BRANCH_NEGLIGIBLE = 1e-30


@lru_cache(maxsize=4096)
def _branch_matters(nu: float, a: float) -> bool:
    """Whether the chi-square branch point at ``u + y = 0`` can matter: the singular part
    within 6 logit units of it is bounded by ``k_m(y_b) F_nu(6/a)`` (cdf; the density
    integrates to the same) and ``k_m <= 1``, so below ``BRANCH_NEGLIGIBLE`` the plain
    lattice sum is used."""
    return float(sc.gammainc(nu / 2.0, 3.0 / a)) > BRANCH_NEGLIGIBLE


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
    values = {"sigma": s, "delta": delta}
    return _Coef(*(float(gen.call(name, np, **values)) for name in (
        "xi", "zeta_minus_xi", "kappa", f"{input}_variance_own", f"{input}_variance_other")))


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
    x_lo = min(_chi2_quantile_low(float(d), TAIL_P), _chi2_quantile_low(float(d + 2), TAIL_P))
    x_hi = max(_chi2_quantile_high(float(d), TAIL_P / K),
               _chi2_quantile_high(float(d + 2), TAIL_P / K**2))
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

    def yhi(n: float) -> float:
        return max(4.5, math.log(n / 2.0 + 3.0) + 4.5)

    memo: dict[tuple, object] = {}

    def tab(kind: str, m: int, n: float, a: FloatArray) -> FloatArray:
        return _table(kind, m, n, a, j_lo, n_u, rule, h, yhi(n), memo)

    F1 = np.clip(tab("cdf", 1, nu, a1), 0.0, 1.0)
    F1c = np.clip(tab("sf", 1, nu, a1), 0.0, 1.0)
    f1 = np.maximum(tab("pdf", 1, nu, a1), 0.0)
    S1 = np.clip(tab("sf", 1, nu2, a0), 0.0, 1.0)
    S2 = np.clip(tab("sf", 2, nu2, a0), 0.0, 1.0)
    F0 = np.clip(tab("cdf", 1, nu, a0), 0.0, 1.0)
    p1 = np.maximum(tab("pdf", 1, nu2, a1), 0.0)
    p2 = np.maximum(tab("pdf", 2, nu2, a1), 0.0)
    memo.clear()

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


MAX_CHUNK = 24
"""Noise levels evaluated together (vectorised) on one lattice."""
CHUNK_SLACK = 1.25
"""A chunk's common lattice may exceed its members' own lattices by this factor."""


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
class Moments:
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


ROUNDING = 5e-14
"""Relative rounding allowance per moment (sums of up to a few thousand positive terms)."""


def moments(sigma: ArrayLike, K: int, d: int, delta: float, input: Input = "noisy",
            rule: str | Rule = "accurate", error: bool = True) -> Moments:
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
    Moments, every field shaped like ``sigma`` (``A_err``/``B_err``: ``(2,) + shape``).

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

    return Moments(sh(EN), sh(ED), sh(ENe), sh(EDe), sh(A[:, 0]), sh(A[:, 1]), sh(B[:, 0]),
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


# ---------------------------------------------------------------------------------------
# Limits and the peak of the exact curve
# ---------------------------------------------------------------------------------------
def snr_limits(K: int, d: int, delta: float, input: Input = "noisy") -> tuple[float, float]:
    """Limits of the exact SNR as ``sigma -> 0`` and ``sigma -> inf``.

    ``c -> 0`` at both ends, so ``SNR -> v0 / ((K-1) v1)``: ``1/((K-1) delta^2)`` at 0 for
    both inputs; at infinity ``1/(K-1)`` (noisy, ``v0/v1 -> 1``) or ``1/((K-1) delta^2)``
    (clean).  Derived (:mod:`molrg.symbolic.derive`, ``ExactLimits``).
    """
    values = {"K": float(K), "d": float(d), "delta": delta, "sigma": 1.0}
    return (float(gen.call(f"{input}_exact_ratio_of_means_zero", np, **values)),
            float(gen.call(f"{input}_exact_ratio_of_means_inf", np, **values)))


class Peak(NamedTuple):
    """Result of :func:`exact_peak` (a 4-tuple).

    Attributes
    ----------
    sigma_star : argmax of the exact SNR over ``sigma > 0``; ``0.0`` when the supremum is
        the ``sigma -> 0`` limit (curve decreasing from the left), ``inf`` when it is the
        ``sigma -> inf`` limit (still rising at ``SCAN_MAX``).
    snr_star : the SNR there (the limit when not interior).
    sigma_star_error : bound on ``|sigma_star - true argmax|`` (0 when not interior).
    interior : whether the maximum is attained at an interior noise level.
    """

    sigma_star: float
    snr_star: float
    sigma_star_error: float
    interior: bool


@dataclass(frozen=True)
class PeakDetails:
    """Diagnostics of :func:`exact_peak_details`.

    Attributes
    ----------
    peak : the :class:`Peak`.
    snr_error : error bound of ``snr_star``.
    curvature : ``-d^2 SNR / d(log sigma)^2`` at the peak (nan when not interior).
    status : ``"interior"``, ``"left-limit"`` or ``"rising-right"``.
    evaluations : number of single-sigma evaluations used.
    scan_sigma, scan_snr : the log-spaced scan that bracketed the peak (``"scan"`` rule,
        relative error up to ~3e-8; or the caller's ``scan`` grid, evaluated by ``rule``
        without bounds): a coarse picture of the whole curve.
    """

    peak: Peak
    snr_error: float
    curvature: float
    status: str
    evaluations: int
    scan_sigma: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)
    scan_snr: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)


SCAN = (1e-3, 1e2, 11)
"""Initial log-spaced scan ``(sigma_min, sigma_max, points)``; extended by decades when the
maximum is at an end (down to ``SCAN_MIN``, up to ``SCAN_MAX``)."""
SCAN_MIN, SCAN_MAX = 1e-8, 1e4


def exact_peak_details(K: int, d: int, delta: float, input: Input = "noisy",
                       rule: str | Rule = "accurate", scan_rule: str | Rule = "scan",
                       scan: FloatArray | None = None) -> PeakDetails:
    """Argmax of the exact ratio-of-means SNR over ``sigma > 0`` with diagnostics.

    Algorithm (``x = log sigma``, ``f = log SNR``):

    1. scan (``SCAN``, rule ``scan_rule``, one vectorised call; or the caller's increasing
       ``scan`` grid plus the ``SCAN`` points outside its range, evaluated by ``rule``, so
       that the scan is also an accurate picture of the curve), extended by three ``SCAN``
       steps while the maximum is at an end; the largest sample brackets the maximiser
       between its neighbours (the curve is unimodal).  A largest sample not above the
       ``sigma -> 0`` limit (up to rounding) means the curve decreases from the left
       (``"left-limit"``);
       one at ``SCAN_MAX`` means it still rises (``"rising-right"``).
    2. safeguarded Newton iteration from the vertex of the parabola through the three
       bracketing scan points: each step evaluates the stencil ``x, x +- w`` (one
       vectorised call, rule ``rule``), shrinks the bracket with the unimodality test
       ``f(x+w) > f(x-w)``, takes ``-f'/f''`` (central differences; an uphill step of
       ``2w`` where ``f'' >= 0``) limited to ``4w`` (trust region) and clipped to the
       bracket, and sets ``w = clip(2 |step|, W_MIN, 0.1)``; it stops when
       ``|step| <= NEWTON_TOL`` with ``w = W_MIN``.  Brent's method on the bracket
       (``xatol = 1e-7``, then a stencil with ``w = 10 W_MIN``) is the fallback if that does
       not happen in ``NEWTON_MAX`` steps (narrow peaks at large ``d``).
    3. error: the SNR at the maximiser with its bound ``eps`` and the curvature
       ``C = -d^2 SNR/dx^2`` from the last stencil.  Near the maximum
       ``SNR ~ f0 - C (x - x*)^2 / 2``, so values perturbed by at most ``eps`` move the
       argmax by at most ``2 sqrt(eps / C)``; with the last step (Newton converges
       quadratically) and the stencil's ``O(w^2)`` derivative error,
       ``|dx| <= 2 sqrt(eps / C) + 2 |last step| + w^2`` and
       ``sigma_star_error = sigma_star (exp(|dx|) - 1)``.
    """
    r_fine = RULES[rule] if isinstance(rule, str) else rule
    r_scan = RULES[scan_rule] if isinstance(scan_rule, str) else scan_rule
    count = [0]

    def f_scan(s: FloatArray) -> FloatArray:
        count[0] += s.size
        return moments(s, K, d, delta, input, r_scan if scan is None else r_fine,
                       error=False).snr

    def f_fine(x: FloatArray) -> FloatArray:
        count[0] += x.size
        return moments(np.exp(x), K, d, delta, input, r_fine, error=False).snr

    low, high = snr_limits(K, d, delta, input)
    lo, hi, n = SCAN
    sig = np.geomspace(lo, hi, n)
    step = math.log(sig[1] / sig[0])  # extension step: the default scan's
    if scan is not None:  # the caller's grid, plus the default points outside its range
        grid = np.asarray(scan, dtype=float)
        sig = np.concatenate([sig[sig < grid[0]], grid, sig[sig > grid[-1]]])
    vals = f_scan(sig)
    while True:
        i = int(np.argmax(vals))
        if i == 0 and sig[0] > SCAN_MIN * 1.0001:
            if vals[0] <= low * (1.0 + 1e-8):
                break  # decreasing from the sigma -> 0 limit
            new = sig[0] * np.exp(-step * np.arange(3, 0, -1))
            sig, vals = np.concatenate([new, sig]), np.concatenate([f_scan(new), vals])
        elif i == sig.size - 1 and sig[-1] < SCAN_MAX / 1.0001:
            new = sig[-1] * np.exp(step * np.arange(1, 4))
            sig, vals = np.concatenate([sig, new]), np.concatenate([vals, f_scan(new)])
        else:
            break
    i = int(np.argmax(vals))
    if vals[i] <= low * (1.0 + 1e-8):  # never above the sigma -> 0 limit (up to rounding)
        return PeakDetails(Peak(0.0, low, 0.0, False), 0.0, math.nan, "left-limit", count[0],
                           sig, vals)
    if i == sig.size - 1:
        return PeakDetails(Peak(math.inf, high, 0.0, False), 0.0, math.nan, "rising-right",
                           count[0], sig, vals)
    a = math.log(sig[i - 1]) if i > 0 else math.log(SCAN_MIN)
    b = math.log(sig[i + 1])
    x = math.log(sig[i])
    if i > 0:  # vertex of the parabola through the bracketing scan points
        x0, x2 = a, b
        y0, y1, y2 = np.log(vals[i - 1:i + 2])
        num = (x - x0) ** 2 * (y1 - y2) - (x - x2) ** 2 * (y1 - y0)
        den = (x - x0) * (y1 - y2) - (x - x2) * (y1 - y0)
        if den != 0:
            x = min(max(x - 0.5 * num / den, a), b)
    w, last, curv, ok = min(0.25 * step, 0.1), math.inf, math.nan, False
    for _ in range(NEWTON_MAX):
        fm, f0, fp = f_fine(x + np.array([-w, 0.0, w]))
        if fp > fm:
            a = max(a, x - w)
        elif fm > fp:
            b = min(b, x + w)
        lm, l0, lp = math.log(fm), math.log(f0), math.log(fp)
        d1, d2 = (lp - lm) / (2.0 * w), (lp - 2.0 * l0 + lm) / (w * w)
        curv = -(fp - 2.0 * f0 + fm) / (w * w)
        newton = -d1 / d2 if d2 < 0 else math.copysign(2.0 * w, d1)
        newton = min(max(newton, -4.0 * w), 4.0 * w)  # trust region
        x_new = min(max(x + newton, a), b)
        last, x = abs(x_new - x), x_new
        if last <= NEWTON_TOL and w <= W_MIN * 1.0001:
            ok = curv > 0
            break
        w = min(max(2.0 * last, W_MIN), 0.1)
    if not ok:  # fallback: Brent on the bracket
        from scipy.optimize import minimize_scalar

        res = minimize_scalar(lambda t: -math.log(float(f_fine(np.array([t]))[0])),
                              bounds=(a, b), method="bounded", options={"xatol": 1e-7})
        x, last, w = float(res.x), 1e-7, 10.0 * W_MIN
        fm, f0, fp = f_fine(x + np.array([-w, 0.0, w]))
        curv = -(fp - 2.0 * f0 + fm) / (w * w)
    centre = moments(np.array([math.exp(x)]), K, d, delta, input, r_fine, error=True)
    count[0] += 1
    f_star, eps = float(centre.snr[0]), float(centre.snr_err[0])
    # numerically flat top (no positive curvature): fall back to the bracket width
    dx = 2.0 * math.sqrt(eps / curv) + 2.0 * last + w * w if curv > 0 else b - a
    s_star = math.exp(x)
    return PeakDetails(Peak(s_star, f_star, s_star * math.expm1(dx), True), eps, curv,
                       "interior", count[0], sig, vals)


NEWTON_MAX = 20
"""Newton steps before falling back to Brent's method."""
NEWTON_TOL = 1e-7
"""Convergence tolerance of the Newton iteration in ``log sigma``."""
W_MIN = 1e-4
"""Smallest half-width of the Newton stencil in ``log sigma``."""


def exact_peak(K: int, d: int, delta: float, input: Input = "noisy",
               rule: str | Rule = "accurate", scan_rule: str | Rule = "scan") -> Peak:
    """Argmax of the exact ratio-of-means SNR over ``sigma > 0``.

    Returns
    -------
    Peak ``(sigma_star, snr_star, sigma_star_error, interior)``; see
    :func:`exact_peak_details` for the algorithm and the error bound.  Not interior:
    ``sigma_star = 0`` and ``snr_star`` the ``sigma -> 0`` limit ``v0/((K-1) v1)``
    (curve decreasing from the left), or ``sigma_star = inf`` and the ``sigma -> inf``
    limit (still rising at ``SCAN_MAX``).
    """
    return exact_peak_details(K, d, delta, input, rule, scan_rule).peak
