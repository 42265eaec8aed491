"""Theorem-1 numerics built from the SymPy derivations (:mod:`molrg.symbolic`).

Every formula evaluated here is a lambdified derived expression; this module adds
validation, namespaces, the peak finder and the empirical peak-location law.

Functions take ``sigma`` (scalar or array of any supported namespace; NumPy by default)
and the model parameters ``K, d, delta``; ``input`` selects the mode ("noisy" feeds
``x_t`` to the denoiser, "clean" feeds ``x0`` with ``sigma`` as the level indicator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from scipy.optimize import brentq

from ._validation import check_choice, check_int, check_real, check_sigma

__all__ = [
    "INPUTS",
    "Coefficients",
    "Peak",
    "approx_snr",
    "coefficients",
    "dlogsnr_dlogsigma",
    "evaluate",
    "exact_limits",
    "limits",
    "margin",
    "peak",
    "peak_law",
]

INPUTS = ("noisy", "clean")


def _symbolic() -> Any:
    from . import symbolic  # lazy: SymPy stays off import of molrg

    return symbolic


def _iv(K: Any, d: Any, delta: Any, input: str) -> tuple[int, int, float, str]:
    return (
        check_int("K", K, low=2),
        check_int("d", d, low=1),
        check_real("delta", delta, low=0.0, high=1.0),
        check_choice("input", input, INPUTS),
    )


def evaluate(name: str, sigma: Any, K: int, d: int, delta: float, input: str = "noisy") -> Any:
    """Evaluate the derived expression ``name`` (see :func:`molrg.symbolic.expressions`).

    ``sigma`` may be an array of any supported namespace; the result has its namespace
    and shape.  Python scalars are evaluated on NumPy.
    """
    K, d, delta, input = _iv(K, d, delta, input)
    xp, s = _as_array(sigma)
    fn = _symbolic().lambdified(name, input, xp)
    out = fn(s, float(K), float(d), float(delta))
    return out if hasattr(out, "shape") and out.shape == s.shape else s * 0 + out


def _as_array(sigma: Any) -> tuple[ModuleType, Any]:
    if hasattr(sigma, "__array_namespace__") or type(sigma).__module__.startswith("cupy"):
        return array_namespace(sigma), sigma
    import array_api_compat.numpy

    xp: Any = array_api_compat.numpy

    return xp, xp.asarray(check_sigma(sigma))


@dataclass(frozen=True)
class Coefficients:
    """Posterior-mean coefficients at one or more noise levels (arrays shaped like sigma).

    ``zeta``/``xi``: shrinkage on the own / other subspaces; ``zeta_minus_xi`` their
    difference computed without cancellation; ``kappa``: the logit coefficient,
    ``g_k = kappa ||U_k^T x||^2 + const``.
    """

    zeta: Any
    xi: Any
    zeta_minus_xi: Any
    kappa: Any


def coefficients(sigma: Any, delta: float) -> Coefficients:
    """Derived Proposition-1 coefficients at ``sigma`` (any namespace) for ``delta``."""
    delta = check_real("delta", delta, low=0.0, high=1.0)
    xp, s = _as_array(sigma)
    sym = _symbolic()
    # These four expressions involve sigma and delta only; K and d are placeholders.
    vals = {
        name: sym.lambdified(name, "noisy", xp)(s, 2.0, 1.0, delta)
        for name in ("zeta", "xi", "zeta_minus_xi", "kappa")
    }
    return Coefficients(**vals)


def margin(sigma: Any, d: int, delta: float, input: str = "noisy") -> Any:
    """Theorem 1's margin ``Delta(sigma; d, delta) = E g_k - E g_l``."""
    return evaluate("margin", sigma, 2, d, delta, input)


def approx_snr(sigma: Any, K: int, d: int, delta: float, input: str = "noisy") -> Any:
    """Theorem 1's approximate SNR, ``C(sigma)/(K-1) * bracket^2``."""
    return evaluate("snr_approx", sigma, K, d, delta, input)


def dlogsnr_dlogsigma(sigma: Any, K: int, d: int, delta: float, input: str = "noisy") -> Any:
    """Derived ``d log SNR_approx / d log sigma``."""
    return evaluate("dlogsnr_dlogsigma", sigma, K, d, delta, input)


def limits(K: int, d: int, delta: float, input: str = "noisy") -> tuple[float, float]:
    """Derived limits of the approximate SNR as sigma -> 0 and sigma -> infinity."""
    s = np.ones(1)
    return (
        float(evaluate("snr_approx_limit_zero", s, K, d, delta, input)[0]),
        float(evaluate("snr_approx_limit_inf", s, K, d, delta, input)[0]),
    )


def exact_limits(
    K: int, d: int, delta: float, input: str = "noisy", estimand: str = "ratio-of-means"
) -> tuple[float, float]:
    """Derived limits of the *exact* SNR of the optimal denoiser (sigma -> 0, infinity).

    For ``estimand="mean-of-ratios"`` the limits are finite only when ``(K-1) d > 2``;
    otherwise ``inf`` is returned (the mean of ``1/chi2_m`` diverges for ``m <= 2``).
    """
    K, d, delta, input = _iv(K, d, delta, input)
    check_choice("estimand", estimand, ("ratio-of-means", "mean-of-ratios"))
    prefix = "snr_exact" if estimand == "ratio-of-means" else "mean_of_ratios"
    if estimand == "mean-of-ratios" and (K - 1) * d <= 2:
        return math.inf, math.inf
    s = np.ones(1)
    return (
        float(evaluate(f"{prefix}_limit_zero", s, K, d, delta, input)[0]),
        float(evaluate(f"{prefix}_limit_inf", s, K, d, delta, input)[0]),
    )


# ---------------------------------------------------------------------------------------
# Peak of the approximation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peak:
    """Location of the maximum of Theorem 1's approximate SNR over ``sigma > 0``.

    Attributes
    ----------
    sigma : argmax; ``0.0`` when the curve decreases from ``sigma -> 0`` (no interior peak).
    snr : the approximate SNR there (the sigma -> 0 limit when not interior).
    interior : whether the maximum is attained at an interior noise level.
    n_local_max : number of interior local maxima found by the sign scan.
    bracket : ``(lo, hi)`` in sigma where the derivative changes sign (nan if none).
    """

    sigma: float
    snr: float
    interior: bool
    n_local_max: int
    bracket: tuple[float, float]


SCAN_POINTS = 4001


def peak(K: int, d: int, delta: float, input: str = "noisy") -> Peak:
    """Root-find the peak of the approximate SNR (Brent on the derived derivative).

    Bracketing.  The derived ``f = d log SNR / d log sigma`` is continuous.  The search
    interval ``[1e-4 delta, hi]`` starts where ``sigma^2/delta^2 = 1e-8`` (the curve sits
    on its sigma -> 0 limit there) and ``hi`` grows by decades until ``f(hi) < 0``, where
    the curve has entered its monotone tail (``margin -> 0``).  A sign scan of ``f`` on
    ``SCAN_POINTS`` log-spaced points then lists every + to - change; each such cell
    provably contains a root (intermediate value theorem), Brent's method refines it to
    ``|d log sigma| < 1e-13``, and the largest local maximum is returned.  If ``f < 0``
    already at the left end and no + to - change occurs, the maximum is the sigma -> 0
    limit.
    """
    K, d, delta, input = _iv(K, d, delta, input)
    sym = _symbolic()
    import array_api_compat.numpy as xp

    f = sym.lambdified("dlogsnr_dlogsigma", input, xp)
    g = sym.lambdified("snr_approx", input, xp)
    args = (float(K), float(d), float(delta))

    lo = 1e-4 * delta
    hi = 10.0
    while float(f(np.asarray(hi), *args)) >= 0.0:
        hi *= 10.0
        if hi > 1e12:
            raise RuntimeError(f"no decreasing tail found for K={K}, d={d}, delta={delta}")
    u = np.linspace(math.log(lo), math.log(hi), SCAN_POINTS)
    fu = f(np.exp(u), *args)
    pos = fu > 0
    cells = np.nonzero(pos[:-1] & ~pos[1:])[0]
    roots = []
    for i in cells:
        root = brentq(lambda t: float(f(np.asarray(math.exp(t)), *args)), u[i], u[i + 1],
                      xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
        roots.append(math.exp(root))
    limit_zero = float(g(np.asarray(lo * 1e-4), *args))
    if not roots:
        return Peak(0.0, limit_zero, False, 0, (math.nan, math.nan))
    values = [float(g(np.asarray(r), *args)) for r in roots]
    best = int(np.argmax(values))
    if values[best] < limit_zero:
        return Peak(0.0, limit_zero, False, len(roots), (math.nan, math.nan))
    i = cells[best]
    return Peak(roots[best], values[best], True, len(roots),
                (math.exp(u[i]), math.exp(u[i + 1])))


# ---------------------------------------------------------------------------------------
# Peak-location law (beyond the paper; see docs/peak_law.md)
# ---------------------------------------------------------------------------------------
def peak_law(K: int, d: int, delta: float, input: str = "clean") -> float:
    """Closed-form large-``d`` law for the peak location ``sigma*(K, d, delta)``.

    ``nan`` where the law does not exist (its Lambert-W argument is below ``-1/e``).

    See :func:`molrg.symbolic.derive_peak_law` for the derivation and
    ``docs/peak_law.md`` for its measured error over the box.
    """
    K, d, delta, input = _iv(K, d, delta, input)
    fn = _symbolic().lambdified_peak_law(input)
    return float(fn(float(K), float(d), float(delta)))
