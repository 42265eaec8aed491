"""The corrected approximation of Theorem 1 (``form="corrected"``): numbers.

The derivation is :mod:`molrg.symbolic.corrected`: the exact SNR is written, with no
approximation, through four weight moments ``p1, p2, q1, q2``, each a Gumbel race between
``Y = a chi2_nu + G_j`` variables (one-dimensional integrals); the corrected approximation
takes the law of each ``Y`` from its exact cumulant generating function by the
Lugannani-Rice saddle-point formula.  What Theorem 1's expected-logit step throws away --
the chi-square spread of the logits, the maximum over the ``K - 1`` competitors, the
correlation of the weight with the energy -- is kept.

Numerics (NumPy/SciPy only: the saddle-point equations involve ``log Gamma`` and the
digamma function, which the array API does not provide; :func:`molrg.approx_snr` converts
other namespaces to NumPy and back):

* saddle points ``K_Y'(theta) = y`` by a bracketed Newton iteration in
  ``u = -log(theta_max - theta)`` on ``asinh K_Y' - asinh y`` (at most 7 steps in the box);
* each moment ``E[Phi(A)]`` is a Stieltjes sum on one node set per sigma (saddle-point
  quantiles of the racers and of the competitors' maximum; about 100 nodes), with a
  6-point Gauss-Legendre mean of ``Phi`` on each interval under a log-linear density and a
  Gumbel-shaped ``Phi``.

Measured against the exact SNR (docs/results.md): peak location within 5% and peak SNR
within 10% in 98-100% of the settings of a (K, d, delta) grid; the weak spot is ``d <= 2``
with small ``delta`` (peak SNR off by up to ~10%: the saddle point overstates the
``chi2_1`` lower tail).  Both limits are exact.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ._generated import (
    FORMULAS,
    corrected_cgf,
    corrected_cgf1,
    corrected_cgf2,
    corrected_kappa3,
    corrected_mean,
    corrected_variance,
)
from .arrays import to_numpy
from .asymptotes import exact_snr_limits
from .models import Setting
from .validation import ParameterError

__all__ = ["evaluate", "limits", "peak", "snr", "weight_moments"]

NODES = {"bulk": 28, "phi": 28, "own": 16}
"""Node counts: quantiles of the racers A (normal scores), of the competitors' maximum
(Gumbel-reduced levels of Phi = F_B^(K-1)) and of the own block O."""


def _cgf(theta: Any, a: Any, nu: Any, j: Any) -> Any:
    return corrected_cgf(np, theta, a, nu, j)


def _cgf1(theta: Any, a: Any, nu: Any, j: Any) -> Any:
    return corrected_cgf1(np, theta, a, nu, j)


def _cgf2(theta: Any, a: Any, nu: Any, j: Any) -> Any:
    return corrected_cgf2(np, theta, a, nu, j)


def _newton_u(target: np.ndarray, a: np.ndarray, nu: np.ndarray, j: np.ndarray,
              residual: Any, slope: Any, start: np.ndarray, iters: int) -> np.ndarray:
    """Bracketed Newton in ``u = -log(theta_max - theta)`` on ``residual(theta) - target``."""
    tmax = np.minimum(j, 0.5 / a)
    th0 = np.clip(start, -1e6, tmax - 1e-3 * np.minimum(tmax, 1.0))
    shape = np.broadcast(target, a).shape
    u = np.broadcast_to(-np.log(tmax - th0), shape).copy()
    lo = np.full(shape, -40.0)
    hi = np.full(shape, 60.0)
    for _ in range(iters):
        e = np.exp(-u)
        th = tmax - e
        g = residual(th) - target
        lo = np.where(g < 0, u, lo)
        hi = np.where(g >= 0, u, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = u - g / (slope(th) * e)
        bad = (new < lo) | (new > hi) | ~np.isfinite(new)
        new = np.where(bad, 0.5 * (lo + hi), new)
        done = bool(np.all(np.abs(new - u) < 1e-10))
        u = new
        if done:
            break
    return tmax - np.exp(-u)  # type: ignore[no-any-return]


def _saddle(y: np.ndarray, a: np.ndarray, nu: np.ndarray, j: np.ndarray) -> tuple[Any, Any]:
    """Saddle points ``K_Y'(theta) = y`` (``y`` floored at -6: ``F_Y(-6) < 1e-175``)."""
    y = np.maximum(y, -6.0)
    mean = corrected_mean(np, a, nu, j)
    var = corrected_variance(np, a, nu, j)
    ay = np.arcsinh(y)

    def residual(th: Any) -> Any:
        return np.arcsinh(_cgf1(th, a, nu, j))

    def slope(th: Any) -> Any:
        k1 = _cgf1(th, a, nu, j)
        return _cgf2(th, a, nu, j) / np.sqrt(1 + k1 * k1)

    return _newton_u(ay, a, nu, j, residual, slope, (y - mean) / var, 12), y


def _lugannani_rice(theta: Any, y: Any, a: Any, nu: Any, j: Any) -> tuple[Any, Any, Any]:
    """``(log F, log S, log f)`` of ``Y`` at ``y`` from its saddle point ``theta``.

    ``F = Phi(w) + phi(w) (1/w - 1/u)`` with ``w = sign(theta) sqrt(2 (theta y - K))`` and
    ``u = theta sqrt(K'')``; at the mean (``u -> 0``) the correction tends to
    ``kappa3 / (6 var^1.5)``.  Survival functions are carried separately so tails keep their
    relative accuracy.
    """
    from scipy import special

    kt = _cgf(theta, a, nu, j)
    k2 = _cgf2(theta, a, nu, j)
    dev = np.maximum(2 * (theta * y - kt), 0.0)
    w = np.sign(theta) * np.sqrt(dev)
    u = theta * np.sqrt(k2)
    small = np.abs(u) < 1e-4
    ws = np.where(small, 1.0, w)
    us = np.where(small, 1.0, u)
    corr = np.where(small, 0.0, 1 / ws - 1 / us)
    if small.any():
        var = corrected_variance(np, a[small], nu[small], j[small])
        k3 = corrected_kappa3(np, a[small], nu[small], j[small])
        corr[small] = k3 / var**1.5 / 6.0
    phi = np.exp(-0.5 * w * w) / math.sqrt(2 * math.pi)
    F = special.ndtr(w) + phi * corr
    S = special.ndtr(-w) - phi * corr
    tiny = 1e-300
    log_f = np.where(w < 0, np.log(np.maximum(F, tiny)), np.log1p(-np.clip(S, 0, 1 - 1e-16)))
    log_s = np.where(w > 0, np.log(np.maximum(S, tiny)), np.log1p(-np.clip(F, 0, 1 - 1e-16)))
    log_density = -0.5 * dev - 0.5 * np.log(2 * math.pi * k2)
    return log_f, log_s, log_density


def _quantile(z: np.ndarray, a: np.ndarray, nu: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Saddle-point quantile: ``y`` whose signed deviance root ``w(y)`` equals ``z``."""
    var = corrected_variance(np, a, nu, j)
    az = np.arcsinh(z)

    def w_of(th: Any) -> Any:
        k1 = _cgf1(th, a, nu, j)
        dev = np.maximum(2 * (th * k1 - _cgf(th, a, nu, j)), 0.0)
        return np.sign(th) * np.sqrt(dev)

    def residual(th: Any) -> Any:
        return np.arcsinh(w_of(th))

    def slope(th: Any) -> Any:
        w = w_of(th)
        k2 = _cgf2(th, a, nu, j)
        with np.errstate(divide="ignore", invalid="ignore"):
            dw = np.where(np.abs(w) > 1e-8, th * k2 / np.where(w == 0, 1.0, w), np.sqrt(k2))
        return dw / np.sqrt(1 + w * w)

    theta = _newton_u(az, a, nu, j, residual, slope, z / np.sqrt(var), 14)
    return _cgf1(theta, a, nu, j)  # type: ignore[no-any-return]


@functools.cache
def _levels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.linspace(-6.5, 8.5, NODES["bulk"]),
            np.linspace(-math.log(60.0), -math.log(1e-6), NODES["phi"]),
            np.linspace(-6.5, 8.5, NODES["own"]))


def _nodes(a_own: np.ndarray, a_other: np.ndarray, K: int, d: int) -> np.ndarray:
    """One node set per sigma, ``(S, n)``, shared by ``p`` and ``q`` (so ``p = q`` exactly
    when ``a_own = a_other``: the sigma -> infinity limit is exact)."""
    from scipy import special

    z_a, t_m, z_o = _levels()
    S = a_own.size
    log_fb = -np.exp(-t_m) / (K - 1)  # Phi = exp(-e^{-t}): log F_B = -e^{-t}/(K-1)
    z_b = np.where(log_fb > -0.69, -special.ndtri(-np.expm1(log_fb)),
                   special.ndtri(np.exp(log_fb)))
    spec = [(z_a, a_own, d + 2.0, 1.5), (z_a, a_other, d + 2.0, 1.5),
            (z_b, a_other, float(d), 1.0), (z_o, a_own, float(d), 1.0)]
    Z = np.concatenate([np.broadcast_to(z, (S, z.size)) for z, _, _, _ in spec], axis=1)
    A = np.concatenate([np.broadcast_to(s[:, None], (S, z.size)) for z, s, _, _ in spec], axis=1)
    NU = np.concatenate([np.full((S, z.size), n) for z, _, n, _ in spec], axis=1)
    J = np.concatenate([np.full((S, z.size), k) for z, _, _, k in spec], axis=1)
    return np.sort(_quantile(Z, A, NU, J), axis=1)


_GL_U, _GL_W = np.polynomial.legendre.leggauss(6)
_GL_U = 0.5 * (_GL_U + 1)
_GL_W = 0.5 * _GL_W


def _stieltjes(y: np.ndarray, log_f: Any, log_s: Any, log_density: Any,
               log_phi: np.ndarray) -> np.ndarray:
    """``E[Phi(A)]`` on nodes ``y_0 < ... < y_N``: ``F_A(y_0) Phi_0 + sum_i dF_i <Phi>_i +
    S_A(y_N)``, with ``<Phi>_i`` the ``f_A``-weighted mean of ``Phi`` on interval ``i``
    (``log f_A`` and ``log(-log Phi)`` linear there; 6-point Gauss-Legendre)."""
    F = np.exp(log_f)
    S = np.exp(log_s)
    dF = np.maximum(np.where(F[:, 1:] > 0.5, S[:, :-1] - S[:, 1:], F[:, 1:] - F[:, :-1]), 0.0)
    ell = np.log(np.clip(-log_phi, 1e-300, 1e300))
    g = np.clip(log_density[:, 1:] - log_density[:, :-1], -500, 500)[..., None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        gs = np.where(np.abs(g) < 1e-8, 1.0, g)
        s_pos = 1 + np.log(_GL_U + (1 - _GL_U) * np.exp(-np.abs(gs))) / gs
        s_neg = np.log1p(_GL_U * np.expm1(-np.abs(gs))) / gs
        sv = np.where(np.abs(g) < 1e-8, _GL_U, np.where(g > 0, s_pos, s_neg))
    ellv = ell[:, :-1, None] + (ell[:, 1:] - ell[:, :-1])[..., None] * sv
    mean = np.sum(_GL_W * np.exp(-np.exp(np.minimum(ellv, 700.0))), axis=-1)
    return F[:, 0] * np.exp(log_phi[:, 0]) + np.sum(dF * mean, axis=1) + S[:, -1]  # type: ignore[no-any-return]


def weight_moments(sigma: np.ndarray, setting: Setting, input: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(p1, p2, q1, q2)`` at ``sigma`` (1-D NumPy) by the saddle-point race (unchecked)."""
    K, d, delta = setting.K, setting.d, setting.delta
    f = FORMULAS[input]
    a_own = np.broadcast_to(f.corrected_a_own(np, sigma=sigma, delta=delta),
                            sigma.shape).astype(float)
    a_other = np.broadcast_to(f.corrected_a_other(np, sigma=sigma, delta=delta),
                              sigma.shape).astype(float)
    y = _nodes(a_own, a_other, K, d)
    jobs = [(a_other, d, 1.0), (a_own, d + 2, 1.0), (a_own, d + 2, 2.0),
            (a_own, d, 1.0), (a_other, d + 2, 1.0), (a_other, d + 2, 2.0)]
    Y = np.concatenate([y.ravel()] * len(jobs))
    A = np.concatenate([np.broadcast_to(s[:, None], y.shape).ravel() for s, _, _ in jobs])
    NU = np.concatenate([np.full(y.size, float(n)) for _, n, _ in jobs])
    J = np.concatenate([np.full(y.size, k) for _, _, k in jobs])
    theta, Yc = _saddle(Y, A, NU, J)
    parts = [v.reshape(len(jobs), *y.shape) for v in _lugannani_rice(theta, Yc, A, NU, J)]
    (lfb, _, _), race_p1, race_p2, (lfo, _, _), race_q1, race_q2 = (
        tuple(p[i] for p in parts) for i in range(len(jobs)))
    phi_p = (K - 1) * lfb
    phi_q = lfo + (K - 2) * lfb
    return (_stieltjes(y, race_p1[0], race_p1[1], race_p1[2], phi_p),
            _stieltjes(y, race_p2[0], race_p2[1], race_p2[2], phi_p),
            _stieltjes(y, race_q1[0], race_q1[1], race_q1[2], phi_q),
            _stieltjes(y, race_q2[0], race_q2[1], race_q2[2], phi_q))


def snr(sigma: np.ndarray, setting: Setting, input: str) -> np.ndarray:
    """The corrected SNR at ``sigma`` (1-D float64 NumPy; unchecked)."""
    with np.errstate(under="ignore"):
        p1, p2, q1, q2 = weight_moments(sigma, setting, input)
    return FORMULAS[input].corrected_snr_of_moments(  # type: ignore[no-any-return]
        np, sigma=sigma, K=float(setting.K), delta=setting.delta, p1=p1, p2=p2, q1=q1, q2=q2)


def evaluate(quantity: str, xp: Any, sigma: Any, setting: Setting, input: str) -> Any:
    """``quantity`` (``"snr"``) of the corrected form, in ``sigma``'s namespace and shape."""
    if quantity != "snr":
        raise ParameterError(f"form='corrected' has no closed-form {quantity}; valid forms: "
                             "'printed', 'derived'")
    host = np.asarray(to_numpy(sigma), dtype=np.float64)
    out = snr(np.atleast_1d(host).ravel(), setting, input).reshape(host.shape)
    return xp.asarray(out, dtype=sigma.dtype)


def limits(setting: Setting, input: str) -> tuple[float, float]:
    """The corrected form's limits: the exact ones (``v_own / ((K-1) v_other)`` at either end:
    ``beta -> 1`` as sigma -> 0, and ``p = q`` as sigma -> infinity)."""
    return exact_snr_limits(setting.K, setting.d, setting.delta, input)


PeakNumbers = tuple[float, float, bool, int, tuple[float, float]]
"""``(sigma, snr, interior, n_local_max, bracket)``: the fields of :class:`molrg.Peak`
(which :func:`molrg.peak` builds from them)."""


def peak(setting: Setting, input: str) -> PeakNumbers:
    """The corrected curve's maximum: a log scan of ``[min(1e-3, delta/20), 1e2]`` with
    spacing ``log(1e5)/11`` (12 points for ``delta >= 0.02``), three zoom rounds of 4 points
    (spacing / 3 each), then a parabola through the best point and its neighbours in
    ``(log sigma, log SNR)``; about 15 ms.  Returns numbers (``PeakNumbers``)."""
    lo = math.log(min(1e-3, setting.delta / 20))
    step = math.log(1e5) / 11
    u = np.linspace(lo, math.log(1e2), math.ceil((math.log(1e2) - lo) / step) + 1)
    f = np.log(snr(np.exp(u), setting, input))
    interior_max = int(np.sum((f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])))
    i = int(np.argmax(f))
    if i in (0, u.size - 1):
        value = limits(setting, input)[0] if i == 0 else math.exp(f[i])
        return (0.0 if i == 0 else math.exp(u[i]), value, False, interior_max,
                (math.nan, math.nan))
    h = u[1] - u[0]
    bracket = (math.exp(u[i - 1]), math.exp(u[i + 1]))
    for _ in range(3):
        i = int(np.argmax(f))
        new = u[i] + h * np.array([-2.0, -1.0, 1.0, 2.0]) / 3
        u = np.concatenate([u, new])
        f = np.concatenate([f, np.log(snr(np.exp(new), setting, input))])
        order = np.argsort(u)
        u, f = u[order], f[order]
        h /= 3
    i = int(np.argmax(f))
    x0, x1, x2 = u[i - 1:i + 2]
    y0, y1, y2 = f[i - 1:i + 2]
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
    B = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / den
    C = y1 - A * x1**2 - B * x1
    if A < 0 and x0 <= -B / (2 * A) <= x2:
        xs = -B / (2 * A)
        return (math.exp(xs), math.exp(C - B * B / (4 * A)), True, max(interior_max, 1),
                bracket)
    return (math.exp(x1), math.exp(y1), True, max(interior_max, 1), bracket)
