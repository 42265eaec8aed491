"""The exact-peak finder: the argmax of the exact ratio-of-means SNR over ``sigma > 0``
(scan, safeguarded Newton, Brent fallback) with an error bound on its location."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from ..asymptotes import exact_snr_limits
from ..options import Input
from .moments import moments
from .rules import RULES, FloatArray, Rule

SCAN = (1e-3, 1e2, 11)
"""Initial log-spaced scan ``(sigma_min, sigma_max, points)``; extended by decades when the
maximum is at an end (down to ``SCAN_MIN``, up to ``SCAN_MAX``)."""
SCAN_MIN, SCAN_MAX = 1e-8, 1e4
NEWTON_MAX = 20
"""Newton steps before falling back to Brent's method."""
NEWTON_TOL = 1e-7
"""Convergence tolerance of the Newton iteration in ``log sigma``."""
W_MIN = 1e-4
"""Smallest half-width of the Newton stencil in ``log sigma``."""


def snr_limits(K: int, d: int, delta: float, input: Input = "noisy") -> tuple[float, float]:
    """Limits of the exact SNR as ``sigma -> 0`` and ``sigma -> inf``.

    ``c -> 0`` at both ends, so ``SNR -> v0 / ((K-1) v1)``: ``1/((K-1) delta^2)`` at 0 for
    both inputs; at infinity ``1/(K-1)`` (noisy, ``v0/v1 -> 1``) or ``1/((K-1) delta^2)``
    (clean).  Derived (:mod:`molrg.symbolic.derive`, ``ExactLimits``); the numbers of
    :func:`molrg.asymptotes.exact_snr_limits`.
    """
    return exact_snr_limits(K, d, delta, input)


class ExactPeak(NamedTuple):
    """Result of :func:`exact_peak` (a 4-tuple; ``molrg.quadrature.Peak`` is this class).

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
    peak : the :class:`ExactPeak`.
    snr_error : error bound of ``snr_star``.
    curvature : ``-d^2 SNR / d(log sigma)^2`` at the peak (nan when not interior).
    status : ``"interior"``, ``"left-limit"`` or ``"rising-right"``.
    evaluations : number of single-sigma evaluations used.
    scan_sigma, scan_snr : the log-spaced scan that bracketed the peak (``"scan"`` rule,
        relative error up to ~3e-8; or the caller's ``scan`` grid, evaluated by ``rule``
        without bounds): a coarse picture of the whole curve.
    """

    peak: ExactPeak
    snr_error: float
    curvature: float
    status: str
    evaluations: int
    scan_sigma: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)
    scan_snr: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)


@dataclass(frozen=True)
class _Curve:
    """The exact curve of one setting under two rules, counting evaluations."""

    K: int
    d: int
    delta: float
    input: Input
    fine: Rule
    scan: Rule
    count: list[int] = field(default_factory=lambda: [0])

    def at_sigma(self, s: FloatArray, rule: Rule) -> FloatArray:
        self.count[0] += s.size
        return moments(s, self.K, self.d, self.delta, self.input, rule, error=False).snr

    def at_log(self, x: FloatArray) -> FloatArray:
        self.count[0] += x.size
        return moments(np.exp(x), self.K, self.d, self.delta, self.input, self.fine,
                       error=False).snr


def _scan(f_scan: Callable[[FloatArray], FloatArray], scan: FloatArray | None, low: float
          ) -> tuple[FloatArray, FloatArray, float]:
    """Step 1 of :func:`exact_peak_details`: the scan, extended while its maximum is at an
    end; returns ``(sigma, snr, extension step in log sigma)``."""
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
    return sig, vals, step


def _start(sig: FloatArray, vals: FloatArray, i: int) -> tuple[float, float, float]:
    """The bracket ``(a, b)`` of the scan maximum ``i`` and the vertex of the parabola
    through the bracketing scan points (``log sigma``)."""
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
    return a, b, x


def _newton(f_fine: Callable[[FloatArray], FloatArray], a: float, b: float, x: float,
            w: float) -> tuple[float, float, float, float, float, float]:
    """Step 2: safeguarded Newton (Brent on the bracket if it does not converge); returns
    ``(x, last step, w, curvature, a, b)``."""
    last, curv, ok = math.inf, math.nan, False
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
        res = minimize_scalar(lambda t: -math.log(float(f_fine(np.array([t]))[0])),
                              bounds=(a, b), method="bounded", options={"xatol": 1e-7})
        x, last, w = float(res.x), 1e-7, 10.0 * W_MIN
        fm, f0, fp = f_fine(x + np.array([-w, 0.0, w]))
        curv = -(fp - 2.0 * f0 + fm) / (w * w)
    return x, last, w, curv, a, b


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
    curve = _Curve(K, d, delta, input, RULES[rule] if isinstance(rule, str) else rule,
                   RULES[scan_rule] if isinstance(scan_rule, str) else scan_rule)
    low, high = snr_limits(K, d, delta, input)
    scan_rule_used = curve.scan if scan is None else curve.fine
    sig, vals, step = _scan(lambda s: curve.at_sigma(s, scan_rule_used), scan, low)
    i = int(np.argmax(vals))
    if vals[i] <= low * (1.0 + 1e-8):  # never above the sigma -> 0 limit (up to rounding)
        return PeakDetails(ExactPeak(0.0, low, 0.0, False), 0.0, math.nan, "left-limit",
                           curve.count[0], sig, vals)
    if i == sig.size - 1:
        return PeakDetails(ExactPeak(math.inf, high, 0.0, False), 0.0, math.nan,
                           "rising-right", curve.count[0], sig, vals)
    a, b, x = _start(sig, vals, i)
    x, last, w, curv, a, b = _newton(curve.at_log, a, b, x, min(0.25 * step, 0.1))
    centre = moments(np.array([math.exp(x)]), K, d, delta, input, curve.fine, error=True)
    curve.count[0] += 1
    f_star, eps = float(centre.snr[0]), float(centre.snr_err[0])
    # numerically flat top (no positive curvature): fall back to the bracket width
    dx = 2.0 * math.sqrt(eps / curv) + 2.0 * last + w * w if curv > 0 else b - a
    s_star = math.exp(x)
    return PeakDetails(ExactPeak(s_star, f_star, s_star * math.expm1(dx), True), eps, curv,
                       "interior", curve.count[0], sig, vals)


def exact_peak(K: int, d: int, delta: float, input: Input = "noisy",
               rule: str | Rule = "accurate", scan_rule: str | Rule = "scan") -> ExactPeak:
    """Argmax of the exact ratio-of-means SNR over ``sigma > 0``.

    Returns
    -------
    ExactPeak ``(sigma_star, snr_star, sigma_star_error, interior)``; see
    :func:`exact_peak_details` for the algorithm and the error bound.  Not interior:
    ``sigma_star = 0`` and ``snr_star`` the ``sigma -> 0`` limit ``v0/((K-1) v1)``
    (curve decreasing from the left), or ``sigma_star = inf`` and the ``sigma -> inf``
    limit (still rising at ``SCAN_MAX``).
    """
    return exact_peak_details(K, d, delta, input, rule, scan_rule).peak
