"""Statistics on SNR curves: unimodality with error bars, and the peak of the SNR.

:func:`unimodality` and :func:`count_local_maxima` take plain curves, so any curve
(simulated, theoretical, crafted) can be analysed.  :func:`snr_peak` locates the maximum
of the SNR itself: exactly (quadrature, a bracketed maximiser on the deterministic curve,
with its numerical uncertainty) or by Monte Carlo (independent replicate curves, each
with common random numbers, refined below the grid spacing).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .estimators import _iv, snr
from .options import MonteCarlo, Quadrature
from .validation import ParameterError, check_int, check_sigma

__all__ = ["SNRPeak", "Unimodality", "count_local_maxima", "snr_peak", "unimodality"]


@dataclass(frozen=True)
class Unimodality:
    """Largest standardised violation of unimodality around the curve's argmax.

    ``z = max`` over pairs ``i < j`` on the rising side (up to the argmax) of
    ``(y_i - y_j) / sqrt(se_i^2 + se_j^2)`` and, on the falling side, of
    ``(y_j - y_i) / sqrt(se_i^2 + se_j^2)``: how many combined standard errors the worst
    dip (left) or rise (right) amounts to.  ``z <= 0`` for an exactly unimodal curve; for
    an exact curve (``se = 0``) any violation is ``+inf``.  Using the independent-errors
    combination is conservative for common-random-number curves.
    """

    z: float
    argmax: int
    where: tuple[int, int]


def unimodality(y: Any, se: Any) -> Unimodality:
    """Unimodality statistic of a curve ``y`` with standard errors ``se`` (1-D, same length)."""
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    if y.ndim != 1 or y.shape != se.shape or y.size < 2:
        raise ParameterError("y and se must be 1-D arrays of the same length >= 2")
    if np.any(se < 0) or not np.all(np.isfinite(y)) or not np.all(np.isfinite(se)):
        raise ParameterError("y must be finite and se finite and non-negative")
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
class SNRPeak:
    """The maximum of the SNR over ``sigma``.

    Attributes
    ----------
    sigma, stderr : the argmax and its uncertainty (quadrature: numerical; Monte Carlo:
        standard error over independent replicate curves).  ``sigma = 0`` with
        ``interior = False`` when the curve decreases from ``sigma -> 0``.
    snr, snr_stderr : the SNR at the peak and its uncertainty.
    interior : whether the maximum is attained at an interior noise level.
    method : ``"quadrature"``, ``"reduced"`` or ``"ambient"``.
    replicates : Monte Carlo replicate argmaxes (empty for quadrature).
    """

    sigma: float
    stderr: float
    snr: float
    snr_stderr: float
    interior: bool
    method: str
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "stderr": self.stderr, "snr": self.snr,
                "snr_stderr": self.snr_stderr, "interior": self.interior,
                "method": self.method, "replicates": self.replicates}


REFINE_POINTS = 41
"""Points of each replicate's local common-random-number curve (Monte Carlo peak)."""


def snr_peak(
    model: Any,
    /,
    *,
    input: str = "noisy",
    estimand: str = "ratio-of-means",
    denominator: str = "others",
    denoiser: Any = None,
    method: str | Quadrature | MonteCarlo = "auto",
    grid: Any = None,
    replicates: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> SNRPeak:
    """The peak of the SNR curve of :func:`molrg.snr` (same arguments).

    Quadrature (the default where it applies): a bracketed maximiser on the deterministic
    curve; ``stderr`` is the numerical uncertainty of the argmax.  ``grid`` is not needed.

    Monte Carlo: the SNR on ``grid`` (required, 1-D increasing) locates the argmax ``i``;
    ``replicates`` independent seeds (spawned from the method's seed) each evaluate the
    SNR on :data:`REFINE_POINTS` points of ``[grid[i-1], grid[i+1]]`` in one call (common
    random numbers, so the curve is smooth), a cubic spline in ``log sigma`` is maximised,
    and the replicate argmaxes give the mean and its standard error.  If the coarse
    argmax is on the edge of the grid, ``interior`` is False and no refinement is done.
    """
    replicates = check_int("replicates", replicates, low=2)
    resolved = _iv(model, 1.0, input, estimand, denominator, denoiser, method, progress).method
    if isinstance(resolved, Quadrature):
        from . import quadrature

        st = model.setting
        sigma, value, err, interior = quadrature.exact_peak(st.K, st.d, st.delta, input)
        value_err = float(snr(model, sigma, input=input).stderr) if interior else 0.0
        return SNRPeak(float(sigma), float(err), float(value), value_err, bool(interior),
                       "quadrature")
    if grid is None:
        raise ParameterError("grid is required for a Monte Carlo peak; valid: a 1-D "
                             "increasing array of noise levels")
    grid = check_sigma(grid, "grid")
    if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
        raise ParameterError("grid must be 1-D, increasing, with at least 3 points")
    assert isinstance(resolved, MonteCarlo)
    mc = resolved.replace(batch=method.batch if isinstance(method, MonteCarlo) else None)
    kwargs = {"input": input, "estimand": estimand, "denominator": denominator,
              "denoiser": denoiser}
    with warnings.catch_warnings():  # _iv above has warned the caller already
        warnings.simplefilter("ignore", RuntimeWarning)
        coarse = snr(model, grid, method=mc, **kwargs)
    i = int(np.argmax(coarse.estimate))
    if i in (0, grid.size - 1):
        return SNRPeak(float(grid[i]), math.nan, float(coarse.estimate[i]),
                       float(coarse.stderr[i]), False, mc.simulator)
    from scipy.interpolate import CubicSpline
    from scipy.optimize import minimize_scalar

    seed = mc.seed
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    if not isinstance(seed, np.random.SeedSequence):
        seed = np.random.SeedSequence(seed)
    children = seed.spawn(replicates)
    per = max(2 * getattr(model, "K", 2), mc.samples // replicates)
    u = np.linspace(math.log(grid[i - 1]), math.log(grid[i + 1]), REFINE_POINTS)
    peaks, heights = [], []
    for r, child in enumerate(children):
        with warnings.catch_warnings():  # the first snr call above has warned already
            warnings.simplefilter("ignore", RuntimeWarning)
            curve = snr(model, np.exp(u), method=mc.replace(samples=per, seed=child), **kwargs)
        spline = CubicSpline(u, np.log(curve.estimate))
        j = int(np.argmax(curve.estimate))
        lo, hi = u[max(j - 1, 0)], u[min(j + 1, u.size - 1)]
        res = minimize_scalar(lambda x, s=spline: -float(s(x)), bounds=(lo, hi),
                              method="bounded", options={"xatol": 1e-9})
        peaks.append(math.exp(res.x))
        heights.append(math.exp(-res.fun))
        if progress is not None:
            progress(r + 1, replicates)
    p, h = np.array(peaks), np.array(heights)
    return SNRPeak(float(p.mean()), float(p.std(ddof=1) / math.sqrt(replicates)),
                   float(h.mean()), float(h.std(ddof=1) / math.sqrt(replicates)), True,
                   mc.simulator, p)
