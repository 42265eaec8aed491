"""The peak of the SNR over sigma (:func:`snr_peak`): exactly (quadrature, a bracketed
maximiser on the deterministic curve, with its numerical uncertainty) or by Monte Carlo
(independent replicate curves, each with common random numbers, refined below the grid
spacing).  Part of :mod:`molrg.analysis`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from . import _threads, quadrature
from .estimators import UntrustworthyWarning, _iv, snr
from .options import Method, MonteCarlo
from .validation import ParameterError, check_int, check_sigma

__all__ = ["REFINE_POINTS", "SNRPeak", "snr_peak"]


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
    untrustworthy : Monte Carlo: a replicate's own argmax lies on the grid's edge, or an
        estimate near a peak is flagged (:attr:`molrg.SNRResult.untrustworthy`): then
        ``stderr`` does not cover and verdicts on the peak are "undetermined".
    tail_share : Monte Carlo: the largest :attr:`molrg.SNRResult.tail_share` near the peaks.
    scan_sigma, scan_snr, scan_stderr : quadrature: the scan of the whole curve that
        bracketed the peak -- ``grid`` when given (extended while the maximum is at an end),
        evaluated by the method's rule (relative error ~1e-11), else 11 log-spaced points
        in ``[1e-3, 1e2]`` (``"scan"`` rule, relative error up to ~3e-8); ``scan_stderr``
        is empty (error bounds of any point: :func:`molrg.snr`).  Monte Carlo: the coarse
        grid curve and its standard errors.
    """

    sigma: float
    stderr: float
    snr: float
    snr_stderr: float
    interior: bool
    method: str
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    scan_sigma: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    scan_snr: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    scan_stderr: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    untrustworthy: bool = False
    tail_share: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "stderr": self.stderr, "snr": self.snr,
                "snr_stderr": self.snr_stderr, "interior": self.interior,
                "method": self.method, "replicates": self.replicates,
                "untrustworthy": self.untrustworthy, "tail_share": self.tail_share}


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
    method: str | Method = "auto",
    grid: Any = None,
    replicates: int = 8,
) -> SNRPeak:
    """The peak of the SNR curve of :func:`molrg.snr` (same arguments).

    Quadrature (the default where it applies): a bracketed maximiser on the deterministic
    curve; ``stderr`` is the numerical uncertainty of the argmax.  ``grid`` is optional:
    when given, the curve is first evaluated on it (``scan_*``), which brackets the peak
    and doubles as an accurate picture of the curve's shape (the validity map's
    unimodality check).

    Monte Carlo: the SNR on ``grid`` (required, 1-D increasing) locates the argmax ``i``
    (``scan_*``; ``interior`` is False and nothing is refined when it is on the grid's
    edge).  ``replicates`` independent seeds (spawned from the method's seed, ``samples //
    replicates`` samples each) each evaluate the SNR on the grid, find their *own* argmax
    ``j`` and refine it on :data:`REFINE_POINTS` points of ``[grid[j-1], grid[j+1]]`` with
    the same samples (common random numbers, so the curve is smooth): a cubic spline in
    ``log sigma`` is maximised.  The mean of the replicate argmaxes is the peak; its
    ``stderr`` is their standard deviation over ``sqrt(replicates)``, scaled by
    ``t_{R-1}(0.97725) / 2`` so that +-2 ``stderr`` is a 95.45% Student-t interval
    (so the argmax's step, and its uncertainty, are in the error).  A replicate whose own
    argmax is on the grid's edge, or a flagged estimate near a peak, makes the result
    ``untrustworthy`` (with a :class:`molrg.UntrustworthyWarning`).  The Monte Carlo
    method's ``progress`` is called ``progress(r, replicates)`` after each replicate.

    Examples
    --------
    >>> import molrg
    >>> p = molrg.snr_peak(molrg.MoLRG(K=3, d=5, n=50, delta=0.2))
    >>> round(p.sigma, 4), round(p.snr, 3), p.interior
    (0.3257, 30.766, True)
    """
    replicates = check_int("replicates", replicates, low=2, high=10_000)
    resolved = _iv(model, 1.0, input, estimand, denominator, denoiser, method).method
    if grid is not None:
        grid = check_sigma(grid, "grid")
        if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
            raise ParameterError("grid must be 1-D, increasing, with at least 3 points")
    if resolved.exact:
        st = model.setting
        with _threads.limit_blas(1):  # tiny products: one BLAS thread (molrg/_threads.py)
            details = quadrature.exact_peak_details(st.K, st.d, st.delta,
                                                    cast("quadrature.Input", input),
                                                    rule=resolved.rule,  # type: ignore[attr-defined]
                                                    scan=grid)
        sigma, value, err, interior = details.peak
        return SNRPeak(float(sigma), float(err), float(value), details.snr_error,
                       bool(interior), "quadrature", np.empty(0), details.scan_sigma,
                       details.scan_snr)
    if grid is None:
        raise ParameterError("grid is required for a Monte Carlo peak; valid: a 1-D "
                             "increasing array of noise levels")
    mc = cast(MonteCarlo, resolved)  # the plan's Monte Carlo method, batch as given
    progress, mc = mc.progress, mc.replace(progress=None)  # progress: after each replicate
    kwargs = {"input": input, "estimand": estimand, "denominator": denominator,
              "denoiser": denoiser}
    with warnings.catch_warnings():  # _iv above has warned the caller already
        warnings.simplefilter("ignore", RuntimeWarning)
        coarse = snr(model, grid, method=mc, **kwargs)
    i = int(np.argmax(coarse.estimate))
    if i in (0, grid.size - 1):
        flagged = bool(coarse.untrustworthy[i])
        if flagged:
            warnings.warn("Monte Carlo SNR untrustworthy at the grid's largest value",
                          UntrustworthyWarning, stacklevel=2)
        return SNRPeak(float(grid[i]), math.nan, float(coarse.estimate[i]),
                       float(coarse.stderr[i]), False, mc.simulator, np.empty(0), grid,
                       coarse.estimate, coarse.stderr, untrustworthy=flagged,
                       tail_share=float(coarse.tail_share[i]))
    return _mc_peak(model, grid, coarse, i, mc, kwargs, replicates, progress)


def _mc_peak(model: Any, grid: np.ndarray, coarse: Any, i: int, mc: MonteCarlo,
             kwargs: dict[str, Any], replicates: int,
             progress: Callable[[int, int], None] | None) -> SNRPeak:
    """The Monte Carlo branch of :func:`snr_peak` (see there): replicates refine around
    their own argmax."""
    from scipy.interpolate import CubicSpline
    from scipy.optimize import minimize_scalar
    from scipy.stats import t as student_t

    children = mc.seed_sequence().spawn(replicates)
    per = max(2 * getattr(model, "K", 2), mc.samples // replicates)
    log_grid = np.log(grid)
    peaks, heights = [], []
    flagged = bool(np.any(coarse.untrustworthy[max(i - 1, 0):i + 2]))
    share = float(np.max(coarse.tail_share[max(i - 1, 0):i + 2]))
    for r, child in enumerate(children):
        rep = mc.replace(samples=per, seed=child)
        with warnings.catch_warnings():  # the first snr call has warned already
            warnings.simplefilter("ignore", RuntimeWarning)
            curve = snr(model, grid, method=rep, **kwargs)
        j = int(np.argmax(curve.estimate))
        share = max(share, float(np.max(curve.tail_share[max(j - 1, 0):j + 2])))
        if j in (0, grid.size - 1) or not np.all(np.isfinite(curve.estimate)):
            flagged = True  # this replicate's peak may lie beyond the grid
            peaks.append(float(grid[j]))
            heights.append(float(curve.estimate[j]))
        else:
            u = np.linspace(log_grid[j - 1], log_grid[j + 1], REFINE_POINTS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fine = snr(model, np.exp(u), method=rep, **kwargs)
            k = int(np.argmax(fine.estimate))
            flagged |= bool(np.any(fine.untrustworthy[max(k - 1, 0):k + 2]))
            share = max(share, float(np.max(fine.tail_share[max(k - 1, 0):k + 2])))
            if np.all(fine.estimate > 0) and np.all(np.isfinite(fine.estimate)):
                spline = CubicSpline(u, np.log(fine.estimate))
                lo, hi = u[max(k - 1, 0)], u[min(k + 1, u.size - 1)]
                res = minimize_scalar(lambda x, s=spline: -float(s(x)), bounds=(lo, hi),
                                      method="bounded", options={"xatol": 1e-9})
                peaks.append(math.exp(res.x))
                heights.append(math.exp(-res.fun))
            else:
                flagged = True
                peaks.append(float(np.exp(u[k])))
                heights.append(float(fine.estimate[k]))
        if progress is not None:
            progress(r + 1, replicates)
    p, h = np.array(peaks), np.array(heights)
    scale = float(student_t.ppf(0.97725, replicates - 1)) / 2.0 / math.sqrt(replicates)
    if flagged:
        warnings.warn(
            "Monte Carlo SNR peak untrustworthy: a replicate's own argmax is on the grid's "
            "edge or an estimate near a peak is flagged (heavy tails or too few samples per "
            f"replicate: {per}); its stderr does not cover", UntrustworthyWarning,
            stacklevel=3)
    return SNRPeak(float(p.mean()), float(p.std(ddof=1) * scale),
                   float(h.mean()), float(h.std(ddof=1) * scale), True,
                   mc.simulator, p, grid, coarse.estimate, coarse.stderr,
                   untrustworthy=flagged, tail_share=share)
