"""Statistics on SNR curves: unimodality with error bars, and the simulated peak.

These are the statistical tools behind ``verify theorem1``'s claims; they take plain
NumPy curves, so any curve (simulated, theoretical, crafted) can be analysed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .model import MoLRG
from .montecarlo import snr

__all__ = [
    "PeakEstimate",
    "Unimodality",
    "count_local_maxima",
    "refine_peak",
    "simulated_peak",
    "unimodality",
]


@dataclass(frozen=True)
class Unimodality:
    """Largest standardised violation of unimodality around the curve's argmax.

    ``z = max`` over pairs ``i < j`` on the rising side (up to the argmax) of
    ``(y_i - y_j) / sqrt(se_i^2 + se_j^2)`` and, on the falling side, of
    ``(y_j - y_i) / sqrt(se_i^2 + se_j^2)``: how many combined standard errors the worst
    dip (left) or rise (right) amounts to.  ``z <= 0`` for an exactly unimodal curve.
    Using the independent-errors combination is conservative for common-random-number
    curves (their differences are more precise).
    """

    z: float
    argmax: int
    where: tuple[int, int]


def unimodality(y: Any, se: Any) -> Unimodality:
    """Unimodality statistic of a curve ``y`` with standard errors ``se`` (1-D, same length)."""
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    if y.ndim != 1 or y.shape != se.shape or y.size < 2:
        raise ValueError("y and se must be 1-D arrays of the same length >= 2")
    if np.any(se < 0) or not np.all(np.isfinite(y)) or not np.all(np.isfinite(se)):
        raise ValueError("y must be finite and se finite and non-negative")
    peak = int(np.argmax(y))
    best, where = -math.inf, (peak, peak)
    scale = np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    diff = y[:, None] - y[None, :]
    exact = np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))  # where se = 0
    drop = np.divide(diff, scale, out=exact, where=scale > 0)  # y_i - y_j in SE units
    idx = np.arange(y.size)
    left = (idx[:, None] < idx[None, :]) & (idx[None, :] <= peak)  # i < j <= peak: want y_i <= y_j
    right = (idx[:, None] >= peak) & (idx[:, None] < idx[None, :])  # peak <= i < j: want y_i >= y_j
    for mask, sign in ((left, 1.0), (right, -1.0)):
        if mask.any():
            vals = np.where(mask, sign * drop, -np.inf)
            flat = int(np.argmax(vals))
            if vals.flat[flat] > best:
                best = float(vals.flat[flat])
                where = (int(flat // y.size), int(flat % y.size))
    if best == -math.inf:
        best = 0.0
    return Unimodality(z=best, argmax=peak, where=where)


def count_local_maxima(y: Any) -> int:
    """Number of strict interior local maxima of a (noise-free) curve."""
    y = np.asarray(y, dtype=float)
    return int(np.sum((y[1:-1] > y[:-2]) & (y[1:-1] >= y[2:])))


@dataclass(frozen=True)
class PeakEstimate:
    """Simulated peak location, refined below the grid spacing.

    ``sigma`` is the mean over ``replicates`` independent replicate curves of each one's
    argmax, found by a bounded Brent (golden-section) search in ``log sigma`` on that
    replicate's common-random-number curve; ``stderr`` is their standard deviation over
    ``sqrt(replicates)``.  ``snr`` and ``snr_stderr`` are the same for the peak height.
    ``interior`` is False when the coarse argmax sits on the edge of the grid (then
    ``sigma`` is that edge and no refinement is done).
    """

    sigma: float
    stderr: float
    snr: float
    snr_stderr: float
    replicates: np.ndarray
    interior: bool


def refine_peak(curve: Callable[[float], float], lo: float, hi: float,
                xtol: float = 1e-6) -> tuple[float, float]:
    """Argmax and maximum of a smooth positive ``curve(sigma)`` on ``[lo, hi]``.

    Bounded Brent search on ``-log curve(exp(u))``; ``xtol`` is absolute in ``log sigma``
    (i.e. relative in ``sigma``).
    """
    res = minimize_scalar(lambda u: -math.log(curve(math.exp(u))),
                          bounds=(math.log(lo), math.log(hi)), method="bounded",
                          options={"xatol": xtol})
    return math.exp(res.x), math.exp(-res.fun)


def simulated_peak(
    model: MoLRG,
    sigma: Any,
    estimate: Any,
    *,
    input: str = "noisy",
    estimand: str = "ratio-of-means",
    samples: int = 100_000,
    seed: int = 0,
    replicates: int = 8,
    progress: Callable[[int, int], None] | None = None,
    **snr_options: Any,
) -> PeakEstimate:
    """Locate the simulated SNR peak finer than the grid ``sigma`` (``estimate`` on it).

    The search interval is ``[sigma[i-1], sigma[i+1]]`` around the grid argmax ``i``.
    ``replicates`` independent seeds are spawned from ``seed``; each replicate evaluates
    the SNR with ``samples // replicates`` samples, re-creating its generator from the
    same seed sequence at every point, so the replicate curve uses common random numbers
    and is a smooth deterministic function of ``sigma``: :func:`refine_peak` finds its
    argmax to ``1e-6`` relative.
    """
    sigma = np.asarray(sigma, dtype=float)
    estimate = np.asarray(estimate, dtype=float)
    i = int(np.argmax(estimate))
    if i == 0 or i == sigma.size - 1:
        return PeakEstimate(float(sigma[i]), math.nan, float(estimate[i]), math.nan,
                            np.array([]), False)
    children = np.random.SeedSequence(seed).spawn(replicates)
    per_replicate = max(2 * model.K, samples // replicates)
    peaks, heights = [], []
    for r, child in enumerate(children):
        def curve(s: float, child: np.random.SeedSequence = child) -> float:
            res = snr(model, s, input=input, estimand=estimand, samples=per_replicate,
                      seed=np.random.default_rng(child), **snr_options)
            return float(res.estimate)

        p, h = refine_peak(curve, float(sigma[i - 1]), float(sigma[i + 1]))
        peaks.append(p)
        heights.append(h)
        if progress is not None:
            progress(r + 1, replicates)
    peaks_arr, heights_arr = np.array(peaks), np.array(heights)
    return PeakEstimate(
        sigma=float(peaks_arr.mean()),
        stderr=float(peaks_arr.std(ddof=1) / math.sqrt(replicates)),
        snr=float(heights_arr.mean()),
        snr_stderr=float(heights_arr.std(ddof=1) / math.sqrt(replicates)),
        replicates=peaks_arr,
        interior=True,
    )
