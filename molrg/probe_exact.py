"""The exact Bayes-probe accuracy of the idealised MoLRG (:func:`molrg.probe_accuracy`'s
quadrature; the integral is derived in :mod:`molrg.probes`' docstring)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._generated import FORMULAS
from .models import as_setting
from .options import INPUTS
from .validation import check_choice, check_sigma

__all__ = ["QUAD_TAIL", "bayes_accuracy_exact", "variance_ratio"]

QUAD_TAIL = 1e-18
"""Probability mass of ``chi2_d`` beyond the quadrature's upper limit (part of the bound)."""


def variance_ratio(sigma: float, delta: float, input: str) -> float:
    """``rho = v_own / v_other`` from the generated (derived) block variances."""
    s = np.asarray(sigma, dtype=np.float64)
    formulas = FORMULAS[input]
    own = formulas.variance_own(np, sigma=s, delta=delta)
    other = formulas.variance_other(np, sigma=s, delta=delta)
    return float(own) / float(other)


def _error_probability(K: int, d: int, rho: float) -> tuple[float, float]:
    """``P(r_own / v_own * rho <= max_l r_l / v_other)`` and a bound on its numerical error.

    ``P(error) = int_0^inf f_d(t) (1 - F_d(rho t)^(K-1)) dt`` with ``t = u^2`` (removes the
    ``t^(-1/2)`` singularity of ``d = 1``); ``1 - F^(K-1)`` is formed as
    ``-expm1((K-1) log F)`` with ``log F`` from whichever of ``P`` or ``Q`` is accurate.
    """
    from scipy import integrate, special, stats

    a = d / 2.0
    log_norm = math.log(2.0) - a * math.log(2.0) - special.gammaln(a)

    def integrand(u: float) -> float:
        if u <= 0.0:
            if d > 1:
                return 0.0
            logf = log_norm
        else:
            logf = log_norm + (d - 1) * math.log(u) - 0.5 * u * u
        x = 0.5 * rho * u * u
        q = float(special.gammaincc(a, x))
        if q < 0.5:
            log_cdf = math.log1p(-q)
        else:
            p = float(special.gammainc(a, x))
            if p <= 0.0:
                return math.exp(logf)  # F = 0: the others always win
            log_cdf = math.log(p)
        return math.exp(logf) * -math.expm1((K - 1) * log_cdf)

    u_hi = math.sqrt(stats.chi2.isf(QUAD_TAIL, d))
    points = sorted({min(max(math.sqrt(d / rho), 1e-6), u_hi * 0.999),
                     min(math.sqrt(max(d - 2.0, 0.5)), u_hi * 0.999)})
    value, abserr = integrate.quad(integrand, 0.0, u_hi, points=points, epsabs=1e-15,
                                   epsrel=1e-11, limit=500)
    return value, abserr + QUAD_TAIL + 4 * np.finfo(np.float64).eps


def bayes_accuracy_exact(setting: Any, sigma: Any, /, *, input: str = "noisy"
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Exact Bayes-probe accuracy of the idealised MoLRG and a bound on its numerical error.

    ``setting`` is a :class:`~molrg.Setting` or :class:`~molrg.MoLRG`; returns float64 arrays
    shaped like ``sigma`` (see the module docstring for the integral).
    """
    st = as_setting(setting)
    sig = check_sigma(sigma)
    input = check_choice("input", input, INPUTS)
    flat = np.atleast_1d(sig)
    value = np.empty(flat.shape)
    bound = np.empty(flat.shape)
    cache: dict[float, tuple[float, float]] = {}
    for i, s in enumerate(flat):
        rho = variance_ratio(float(s), st.delta, input)
        if rho not in cache:
            cache[rho] = _error_probability(st.K, st.d, rho)
        err, b = cache[rho]
        value[i], bound[i] = 1.0 - err, b
    return value.reshape(sig.shape), bound.reshape(sig.shape)
