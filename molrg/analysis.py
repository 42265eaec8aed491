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

from .model import MoLRG
from .snr import snr

__all__ = [
    "PeakEstimate",
    "Unimodality",
    "count_local_maxima",
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
    vertex (quadratic fit of ``log SNR`` against ``log sigma`` on a fine local grid with
    common random numbers); ``stderr`` is their standard deviation over
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
    points: int = 17,
    progress: Callable[[int, int], None] | None = None,
    **snr_options: Any,
) -> PeakEstimate:
    """Locate the simulated SNR peak finer than the grid ``sigma`` (with ``estimate`` on it).

    Around the grid argmax ``i`` a fine log-spaced grid of ``points`` values spans
    ``[sigma[i-2], sigma[i+2]]``; ``replicates`` independent seeds (spawned from ``seed``)
    each simulate it with ``samples // replicates`` samples and common random numbers;
    each replicate's peak is the vertex of a weighted quadratic fit of ``log SNR`` in
    ``log sigma`` (the fine-grid argmax if the fit is not concave or its vertex leaves
    the window).
    """
    sigma = np.asarray(sigma, dtype=float)
    estimate = np.asarray(estimate, dtype=float)
    i = int(np.argmax(estimate))
    if i == 0 or i == sigma.size - 1:
        return PeakEstimate(float(sigma[i]), math.nan, float(estimate[i]), math.nan,
                            np.array([]), False)
    lo, hi = sigma[max(i - 2, 0)], sigma[min(i + 2, sigma.size - 1)]
    fine = np.exp(np.linspace(math.log(lo), math.log(hi), points))
    children = np.random.SeedSequence(seed).spawn(replicates)
    peaks, heights = [], []
    for r, child in enumerate(children):
        res = snr(model, fine, input=input, estimand=estimand,
                  samples=max(2 * model.K, samples // replicates),
                  seed=np.random.default_rng(child), **snr_options)
        p, h = _vertex(np.log(fine), np.log(res.estimate), res.stderr / res.estimate)
        peaks.append(math.exp(p))
        heights.append(math.exp(h))
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


def _vertex(u: np.ndarray, v: np.ndarray, rel_se: np.ndarray) -> tuple[float, float]:
    """Vertex ``(u*, v*)`` of a weighted quadratic fit ``v ~ a u^2 + b u + c``."""
    weights = 1.0 / np.maximum(rel_se, 1e-12)
    a, b, c = np.polyfit(u, v, 2, w=weights)
    if a < 0:
        top = -b / (2 * a)
        if u[0] <= top <= u[-1]:
            return float(top), float(c - b * b / (4 * a))
    j = int(np.argmax(v))
    return float(u[j]), float(v[j])
