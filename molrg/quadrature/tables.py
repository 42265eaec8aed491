"""The tables ``T(u) = int k_m(y) G((u + y) / a) dy`` on a lattice ``u_j = (j_lo + j) h``
(the chi-square cdf, survival function or density ``G`` against the log-gamma kernel
``k_m``), by the rule in the chi-square variable or by lattice sums with far-kernel
recursions and branch corrections (see :mod:`molrg.quadrature`)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .branch import branch_matters, correct_branch
from .rules import (
    LATTICE_MIN_ASD,
    NAVOT_MAX_BETA,
    TAIL_P,
    TRAP_MIN_NU,
    Y_FAR,
    FloatArray,
    Grid,
    Rule,
    chi2_cdf_sf,
    chi2_G,
    chi2_quantile_high,
    chi2_quantile_low,
    gamma_rule,
    kernel,
)

X_RULE_ELEMENTS = 1_500_000
"""Work-array budget (elements) of the vectorised x-rule tables."""
_LAMBDAS = {1: np.array([1.0, 2.0, 3.0]), 2: np.array([2.0, 3.0, 4.0])}
"""Decay rates of the far-kernel recursions: ``k_m(y) ~ e^{m y}(1 - e^y + e^{2y}/2)``."""
_SERIES = np.array([1.0, -1.0, 0.5])
"""Coefficients of those three exponentials."""


def kernel_top(nu: float) -> float:
    """Upper end ``y_hi`` of the near kernel for chi-square degree ``nu``."""
    return max(4.5, math.log(nu / 2.0 + 3.0) + 4.5)


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
def x_rule(nu: float, a: float, rule: Rule) -> tuple[FloatArray, FloatArray]:
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
        x_hi = chi2_quantile_high(nu, TAIL_P)
        n = rule.n_gauss
        if a * x_hi < 0.1:
            n = max(n // 8, 6)
        elif a * x_hi < 1.0:
            n = max(n // 4, 8)
        elif a * x_hi < 3.0:
            n = max(n // 2, 8)
        t, w = gamma_rule(nu / 2.0, n)
        return 2.0 * t, w
    x_lo = chi2_quantile_low(nu, TAIL_P)
    x_hi = chi2_quantile_high(nu, TAIL_P) / (1.0 - 4.0 * min(a, 0.2))
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
    """Size class of :func:`x_rule` at ``a``: its node count (``nu < TRAP_MIN_NU``) or
    the power of two above it (chi-variable trapezoid)."""
    n = x_rule(nu, a, rule)[0].size
    return n if nu < TRAP_MIN_NU else 1 << (n - 1).bit_length()



def _table_x(kind: str, m: int, nu: float, a: FloatArray, u: FloatArray, rule: Rule,
             memo: dict[tuple, object]) -> FloatArray:
    """Small logit scales: rows ``E_X[psi(a_r X - u)]`` with the rule of :func:`x_rule`
    (common nodes, chosen for the largest ``a_r``).  ``psi``: cdf ``exp(-e^y)``, sf
    ``P(m, e^y)``, pdf ``k_m(y)``.  ``memo`` shares ``e^y`` and ``exp(-e^y)`` between
    tables of equal ``(nu, a)``."""
    key = ("x", nu, a.tobytes())
    if key in memo:
        ey, eey, w = memo[key]  # type: ignore[misc]
    else:
        x, w = x_rule(nu, float(a.max()), rule)
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
    """``("x", 0)`` (rule in the chi-square variable, :func:`x_rule`) or
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
    if nu / 2.0 <= NAVOT_MAX_BETA and a < 0.5 * h and branch_matters(nu, a):
        return ("lattice", math.ceil(0.5 * h / a))
    return ("lattice", 1)



def _sampled_G(kind: str, nu: float, a: FloatArray, h: float, p_range: tuple[int, int],
               memo: dict[tuple, object]) -> FloatArray:
    """``G(p h / a_r)`` for ``p0 <= p <= p1`` (``G = 0`` or ``1`` for ``p <= 0``), shared
    through ``memo`` (the cdf and survival function come from one pass)."""
    p0, p1 = p_range
    gkey = ("G", kind, nu, h, a.tobytes())
    if gkey in memo:
        G = memo[gkey]
    else:
        n_const = max(0, 1 - p0)  # entries p0 .. 0
        x = np.arange(max(p0, 1), p1 + 1)[None, :] * (h / a)[:, None]
        pad0 = np.zeros((a.size, n_const))
        if kind == "pdf":
            G = np.concatenate((pad0, chi2_G("pdf", nu, x) / a[:, None]), axis=1)
        else:
            cdf, sf = chi2_cdf_sf(nu, x)
            G_cdf = np.concatenate((pad0, cdf), axis=1)
            G_sf = np.concatenate((pad0 + 1.0, sf), axis=1)
            memo[("G", "cdf", nu, h, a.tobytes())] = G_cdf
            memo[("G", "sf", nu, h, a.tobytes())] = G_sf
            G = G_cdf if kind == "cdf" else G_sf
        memo[gkey] = G
    return np.asarray(G)


def _add_far_kernel(T: FloatArray, G: FloatArray, m: int, h: float, i_c: int, first: int,
                    const: float) -> None:
    """Add (in place) the far-kernel part ``y <= i_c h``, summed by the exact recursions;
    ``first`` is the recursion index of ``u_0`` (``-1``: its initial value)."""
    n_u = T.shape[1]
    lam = _LAMBDAS[m] * h
    r_init = const / -np.expm1(-lam)
    R = _exp_recursion(G, lam, r_init)  # (3, rows, n_G)
    series = _SERIES * np.exp(lam * i_c) * (h / math.gamma(m))
    if first >= 0:
        sl = slice(first, first + n_u)
        T += series[0] * R[0, :, sl] + series[1] * R[1, :, sl] + series[2] * R[2, :, sl]
    else:
        sl = slice(0, n_u - 1)
        T[:, 0] += float(series @ r_init)
        T[:, 1:] += series[0] * R[0, :, sl] + series[1] * R[1, :, sl] + series[2] * R[2, :, sl]


def _table_lattice(kind: str, m: int, nu: float, a: FloatArray, grid: Grid) -> FloatArray:
    """Lattice rows ``T_r(u_j) = h sum_i k_m(y_i) G((u_j + y_i)/a_r)`` on ``grid`` with the
    far-kernel recursions and the branch corrections (see :func:`table`)."""
    # Kernel split: near part y = i h, i_c < i <= i_hi (direct correlation); far part
    # y <= y_c = i_c h, where k_m(y) = e^{m y} (1 - e^y + e^{2y}/2) / Gamma(m) to
    # ~e^{3 y_c} relative, summed by exact first-order recursions (positive terms).
    h, j_lo, n_u = grid.h, grid.j_lo, grid.n_u
    i_c = math.floor(Y_FAR / h)
    i_hi = math.ceil(kernel_top(nu) / h)
    ker = kernel(m, h, i_c + 1, i_hi)
    p0 = min(1, j_lo + i_c + 1)  # every G index p < p0 has p <= 0 (G = 0 or 1 there)
    p1 = j_lo + n_u - 1 + i_hi
    G = _sampled_G(kind, nu, a, h, (p0, p1), grid.memo)
    start = j_lo + i_c + 1 - p0
    T = np.empty((a.size, n_u))
    for r, g in enumerate(G):
        T[r] = np.correlate(g[start:], ker, mode="valid")
    T *= h
    # R index of P_0 = j_lo + i_c (may be -1: then r_init)
    _add_far_kernel(T, G, m, h, i_c, j_lo + i_c - p0, 1.0 if kind == "sf" else 0.0)
    if nu / 2.0 <= NAVOT_MAX_BETA:
        correct_branch(T, kind, m, nu, a, grid)
    return T


def table(kind: str, m: int, nu: float, a: FloatArray, grid: Grid) -> FloatArray:
    """Rows (one per logit scale ``a_r``) of ``T(u) = int k_m(y) G((u + y)/a_r) dy`` at
    ``u_j = (j_lo + j) h``, ``j < n_u`` (``grid``).

    ``G`` is the chi2_nu cdf (``kind="cdf"``, 0 for negative argument), survival function
    (``"sf"``, 1 for negative argument) or density (``"pdf"``, divided by ``a``);
    equivalently ``E_X[psi(a X - u)]`` with ``psi = exp(-e^y)``, ``P(m, e^y)``, ``k_m(y)``.
    Rows are grouped by :func:`_regime`: the x-rule, the lattice with step ``h``, or a
    lattice refined to ``h/q`` and subsampled.  The grid's memo (one per chunk and rule)
    shares samples of ``G``, exponentials and branch corrections between tables.
    """
    h, n_u, rule = grid.h, grid.n_u, grid.rule
    out = np.empty((a.size, n_u))
    groups: dict[tuple[str, int], list[int]] = {}
    for r, ar in enumerate(a):
        key = _regime(nu, float(ar), h)
        if key[0] == "x":  # group x-rule rows by node count (the rule is chosen per group)
            key = ("x", _x_rule_size(nu, float(ar), rule))
        groups.setdefault(key, []).append(r)
    u = grid.u
    for (regime, q), idx in groups.items():
        rows = np.array(idx)
        ag = a[rows]
        if regime == "x":
            n_x = x_rule(nu, float(ag.max()), rule)[0].size
            per = max(1, X_RULE_ELEMENTS // (n_u * n_x))
            for s0 in range(0, ag.size, per):
                out[rows[s0:s0 + per]] = _table_x(kind, m, nu, ag[s0:s0 + per], u, rule,
                                                  grid.memo)
        elif q == 1:
            out[rows] = _table_lattice(kind, m, nu, ag, grid)
        else:  # refined lattice (branch corrections need h/q <= 2a), subsampled
            out[rows] = _table_lattice(kind, m, nu, ag, grid.refined(q))[:, ::q]
    return out
