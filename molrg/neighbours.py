"""The neighbouring theories' predictions for the U-turn levels of the MoLRG.

Speciation (Biroli et al.'s spectral level; our reading of Achilli et al.'s free-entropy
criterion) and collapse (Biroli et al.'s excess-entropy level), transcribed from their
SymPy derivation in :mod:`molrg.symbolic.speciation` (``tests/test_speciation_theory.py``
checks these transcriptions against the SymPy expressions).  ``verify speciation`` and
``verify collapse`` compare them with the measured levels of :mod:`molrg.uturn`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import brentq

__all__ = ["achilli_level", "biroli_collapse_level", "biroli_speciation_level",
           "class_information", "excess_entropy", "free_entropy_balance"]


def biroli_speciation_level(K: int, delta: float) -> float:
    """Biroli et al.'s spectral speciation level ``sigma_S = sqrt(Lambda - 1)``,
    ``Lambda = (1 + (K-1) delta^2) / K`` the largest covariance eigenvalue of the MoLRG;
    NaN when ``Lambda <= 1`` (always, for ``0 < delta < 1``: no level predicted)."""
    lam = (1.0 + (K - 1) * delta * delta) / K
    return math.sqrt(lam - 1.0) if lam > 1.0 else math.nan


def achilli_level(d: int, delta: float) -> float:
    """Our reading of Achilli et al.'s criterion (mean free-entropy difference between the
    true class and another equals its standard deviation):
    ``sigma_rs^2 = (1 - rho* delta^2) / (rho* - 1)``, ``rho* = (sqrt(d-1)+1)/(sqrt(d-1)-1)``;
    NaN when ``d <= 2`` or ``rho* delta^2 >= 1`` (the balance is never reached)."""
    if d <= 2:
        return math.nan
    q = math.sqrt(d - 1.0)
    rho = (q + 1.0) / (q - 1.0)
    s2 = (1.0 - rho * delta * delta) / (rho - 1.0)
    return math.sqrt(s2) if s2 > 0 else math.nan


def free_entropy_balance(d: int, delta: float, sigma: Any) -> np.ndarray:
    """``E[L] / sd[L]`` of the class log-likelihood ratio at ``sigma`` (1 at Achilli's level)."""
    s2 = np.asarray(sigma, dtype=np.float64) ** 2
    a, b = 1.0 + s2, delta * delta + s2
    mean = d * (a - b) ** 2 / (2 * a * b)
    var = d * (a - b) ** 2 * (a * a + b * b) / (2 * a * a * b * b)
    return np.asarray(mean / np.sqrt(var))


def class_information(K: int, d: int, delta: float, sigma: Any, *, samples: int = 20000,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mutual information ``I(class; x_sigma)`` (nats) and its Monte Carlo standard error.

    ``I = log K - E[H(w)]``, ``w = softmax(kappa r)`` the class posterior of the block
    energies ``r`` (own ``(1+s^2) chi2_d``, others ``(delta^2+s^2) chi2_d``); one set of
    chi-square draws is shared by every sigma (a smooth curve)."""
    sig = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    rng = np.random.default_rng(seed)
    chi = rng.chisquare(d, size=(samples, K))
    info, err = np.empty(sig.size), np.empty(sig.size)
    for i, s in enumerate(sig):
        s2 = s * s
        a, b = 1.0 + s2, delta * delta + s2
        r = chi * b
        r[:, 0] = chi[:, 0] * a
        g = 0.5 * (1.0 / b - 1.0 / a) * r
        g -= g.max(axis=1, keepdims=True)
        w = np.exp(g)
        w /= w.sum(axis=1, keepdims=True)
        h = -np.sum(np.where(w > 0, w * np.log(np.where(w > 0, w, 1.0)), 0.0), axis=1)
        info[i] = math.log(K) - h.mean()
        err[i] = h.std(ddof=1) / math.sqrt(samples)
    return info, err


def excess_entropy(K: int, d: int, delta: float, sigma: Any, *,
                   information: bool = True) -> np.ndarray:
    """Excess entropy of ``p_sigma`` over one point's Gaussian kernel (nats), on ``span(U)``:
    ``d/2 log(1 + 1/s^2) + (K-1) d/2 log(1 + delta^2/s^2) + I(s)``."""
    s2 = np.atleast_1d(np.asarray(sigma, dtype=np.float64)) ** 2
    out = 0.5 * d * np.log1p(1.0 / s2) + 0.5 * (K - 1) * d * np.log1p(delta * delta / s2)
    if information:
        out = out + class_information(K, d, delta, np.sqrt(s2))[0]
    return np.asarray(out)


def biroli_collapse_level(K: int, d: int, delta: float, N: float, *,
                          information: bool = True) -> float:
    """Biroli et al.'s collapse level: ``excess_entropy(sigma) = log N`` (decreasing in sigma;
    root in ``log sigma`` by Brent's method on ``[1e-4, 1e3]``)."""
    target = math.log(N)

    def f(u: float) -> float:
        return float(excess_entropy(K, d, delta, math.exp(u), information=information)[0]) - target

    lo, hi = math.log(1e-4), math.log(1e3)
    if f(lo) < 0 or f(hi) > 0:
        return math.nan
    return math.exp(brentq(f, lo, hi, xtol=1e-10))
