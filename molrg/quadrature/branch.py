"""Branch-point corrections of the lattice tables: Navot's generalised Euler-Maclaurin
series where ``e^{-u} <= NAVOT_MAX_C`` and a generalised Gauss-Laguerre rule in the
boundary layer beyond (see :mod:`molrg.quadrature`)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special as sc

from .rules import (
    LAYER_MIN_U,
    LFACT,
    NAVOT_MAX_C,
    FloatArray,
    Grid,
    Rule,
    gamma_rule,
    kernel_poly,
    log_reg_gamma,
    zeta_neg,
)

LAYER_MANY_B = 10.0
"""From this ``nu/2`` on the boundary-layer rule uses ``3 n_laguerre`` nodes."""
BRANCH_NEGLIGIBLE = 1e-30
"""Below this bound on the singular part the branch point is not corrected."""
K64 = np.arange(256.0)
_POWERS: dict[tuple[float, int, int], FloatArray] = {}


@lru_cache(maxsize=4096)
def branch_matters(nu: float, a: float) -> bool:
    """Whether the chi-square branch point at ``u + y = 0`` can matter: the singular part
    within 6 logit units of it is bounded by ``k_m(y_b) F_nu(6/a)`` (cdf; the density
    integrates to the same) and ``k_m <= 1``, so below ``BRANCH_NEGLIGIBLE`` the plain
    lattice sum is used."""
    return float(sc.gammainc(nu / 2.0, 3.0 / a)) > BRANCH_NEGLIGIBLE


@lru_cache(maxsize=256)
def _navot_hankel(gam: float, h: float, n: int) -> FloatArray:
    """``H[j, k] = zeta(-gam-j-k) h^(gam+j+k+1)`` for ``j + k < n`` (0 elsewhere)."""
    logz, sz = zeta_neg(gam, n)
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
    out = kernel_poly(m, n).T @ _navot_hankel(gam, h, n)
    out.setflags(write=False)
    return out


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
    out = np.where(k % 2 == 0, 1.0, -1.0) * np.exp(-LFACT[:n])
    if kind != "pdf":
        out = out / (b + k)
    out.setflags(write=False)
    return out


def navot(kind: str, m: int, nu: float, a: FloatArray, j_first: int, count: int,
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
        np.minimum(-(K64[:n][None, :] + b) * log_scale - math.lgamma(b), 700.0))
    omega = coef @ _navot_matrix(m, gam, h, n).T  # rows: omega for each a_r
    j0 = math.ceil(-math.log(NAVOT_MAX_C) / h)
    powers = _neg_c_powers(h, j0, j_first + count, n)
    poly = omega @ powers[j_first - j0:j_first - j0 + count].T
    u = (j_first + np.arange(count)) * h
    km = np.exp(-m * u - np.exp(-u)) / math.gamma(m)
    return poly * km[None, :]



def layer(kind: str, m: int, nu: float, a: FloatArray, u: FloatArray, rule: Rule
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
    t, w = gamma_rule(alpha + 1.0, rule.n_laguerre * (3 if b >= LAYER_MANY_B else 1))
    cvec = np.exp(-u)
    s = np.log1p(t[None, :] * (1.0 / cvec)[:, None])  # (n_lay, n_L), common to all rows
    ar = a[:, None, None]
    if kind == "cdf":
        x = s[None, :, :] / (2.0 * ar)
        logg = (log_reg_gamma(b, x.ravel()).reshape(x.shape) - b * np.log(t)[None, None, :])
    else:
        logg = ((b - 1.0) * (np.log(s / t[None, :])[None] - np.log(ar)) - s[None] / (2.0 * ar)
                - b * math.log(2.0) - math.lgamma(b) - np.log(ar))
    if m != 1:
        logg = logg + (m - 1.0) * s[None]
    logpref = (1.0 - m) * u - cvec - math.lgamma(m) + math.lgamma(alpha + 1.0)
    vals = np.exp(np.minimum(logg, 700.0)) @ w
    return vals * np.exp(np.minimum(logpref, 700.0))[None, :]


def correct_branch(T: FloatArray, kind: str, m: int, nu: float, a: FloatArray, grid: Grid
                   ) -> None:
    """Correct the lattice rows ``T`` (in place) at the chi-square branch point: the Navot
    series where ``e^{-u} <= NAVOT_MAX_C``, the boundary-layer rule down to ``LAYER_MIN_U``
    and the table's limit below it, for the rows where :func:`branch_matters`."""
    rows = np.array([branch_matters(nu, float(ar)) for ar in a])
    if not rows.any():
        return
    h, j_lo, n_u, memo = grid.h, grid.j_lo, grid.n_u, grid.memo
    const = 1.0 if kind == "sf" else 0.0
    base = "pdf" if kind == "pdf" else "cdf"
    ab = a[rows]
    j_nav = max(math.ceil(-math.log(NAVOT_MAX_C) / h), j_lo)  # first Navot index
    j_lay = max(math.ceil(LAYER_MIN_U / h), j_lo)  # first layer index
    key = ("branch", base, m, nu, h, ab.tobytes())
    if key in memo:
        corr, lay = memo[key]  # type: ignore[misc]
    else:
        n_nav = j_lo + n_u - j_nav
        corr = navot(base, m, nu, ab, j_nav, n_nav, grid.rule, h) if n_nav > 0 else None
        n_lay = min(j_nav, j_lo + n_u) - j_lay
        lay = None
        if n_lay > 0:
            u_lay: FloatArray = (j_lay + np.arange(n_lay, dtype=np.float64)) * h
            lay = layer(base, m, nu, ab, u_lay, grid.rule)
        memo[key] = (corr, lay)
    Tb = T if rows.all() else T[rows]
    if corr is not None:
        sl = slice(j_nav - j_lo, n_u)
        Tb[:, sl] = Tb[:, sl] + corr if kind == "sf" else Tb[:, sl] - corr
    if lay is not None:
        sl = slice(j_lay - j_lo, j_lay - j_lo + lay.shape[1])
        Tb[:, sl] = 1.0 - lay if kind == "sf" else lay
    if j_lay > j_lo:
        Tb[:, :j_lay - j_lo] = const
    if Tb is not T:
        T[rows] = Tb
