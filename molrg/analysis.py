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
from typing import Any, cast

import numpy as np

from . import _threads, quadrature
from ._backend import to_numpy
from .estimators import UntrustworthyWarning, _iv, snr
from .options import Method, MonteCarlo
from .validation import ParameterError, ParameterTypeError, check_int, check_real, check_sigma

__all__ = ["SHAPES", "SHAPE_TOL", "AdaptiveShape", "Concordance", "CurveShape", "SNRPeak",
           "Unimodality", "adaptive_shape", "concordance", "count_local_maxima",
           "crn_covariance", "curve_shape", "grid_peak", "result_shape", "shape_threshold",
           "snr_peak", "unimodality"]


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


def _curve(name: str, value: Any, *, size: int | None = None, low: int = 2,
           nonnegative: bool = False, like: str = "") -> np.ndarray:
    """``value`` as a finite float64 1-D NumPy array (of ``size`` entries, at least ``low``)."""
    if value is None or isinstance(value, (str, bytes)):
        raise ParameterTypeError(f"{name}={value!r} must be a 1-D array of real numbers")
    try:
        arr = np.asarray(to_numpy(value) if hasattr(value, "__array_namespace__") else value)
    except (TypeError, ValueError):
        raise ParameterTypeError(f"{name} must be a 1-D array of real numbers") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterTypeError(f"{name} has dtype {arr.dtype}; valid: real numbers")
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size < low or (size is not None and arr.size != size):
        want = f"{size}" if size is not None else f">= {low}"
        of = f" (the length of {like})" if like else ""
        raise ParameterError(f"{name} has shape {arr.shape}; valid: 1-D with {want} entries{of}")
    if not np.all(np.isfinite(arr)) or (nonnegative and np.any(arr < 0)):
        raise ParameterError(f"{name} has non-finite{' or negative' if nonnegative else ''} "
                             f"entries; valid: finite{', >= 0' if nonnegative else ''}")
    return arr


def _covariance(cov: Any, size: int) -> np.ndarray:
    """``cov`` as a finite symmetric ``(size, size)`` float64 array with a non-negative
    diagonal."""
    try:
        raw = np.asarray(to_numpy(cov) if hasattr(cov, "__array_namespace__") else cov)
        if raw.dtype.kind not in "iuf":
            raise TypeError
        arr = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("cov must be a 2-D array of real numbers") from None
    if arr.shape != (size, size):
        raise ParameterError(f"cov has shape {arr.shape}; valid: ({size}, {size}) (the "
                             "length of y, twice)")
    if not np.all(np.isfinite(arr)) or np.any(np.diag(arr) < 0) \
            or not np.allclose(arr, arr.T, rtol=1e-10, atol=0.0):
        raise ParameterError("cov must be finite and symmetric with a non-negative diagonal")
    return arr


def _pair_z(y: np.ndarray, se: np.ndarray, cov: np.ndarray | None) -> np.ndarray:
    """``z[i, j] = (y_i - y_j) / sd(y_i - y_j)``: independent errors ``se_i^2 + se_j^2``,
    or paired ``cov_ii + cov_jj - 2 cov_ij`` (``+-inf`` / 0 where the sd is 0)."""
    if cov is None:
        var = se[:, None] ** 2 + se[None, :] ** 2
    else:
        dg = np.diag(cov)
        var = np.maximum(dg[:, None] + dg[None, :] - 2 * cov, 0.0)
    scale = np.sqrt(var)
    diff = y[:, None] - y[None, :]
    exact = np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))  # where sd = 0
    return np.divide(diff, scale, out=exact, where=scale > 0)


def unimodality(y: Any, se: Any, *, cov: Any = None) -> Unimodality:
    """Unimodality statistic of a curve ``y`` with standard errors ``se`` (1-D, same length).

    ``cov`` (optional, ``(S, S)``): the covariance of ``y`` across its points (e.g. a
    common-random-number curve, :func:`crn_covariance`); the pairs are then standardised
    by the error of their paired difference, ``sqrt(cov_ii + cov_jj - 2 cov_ij)``.

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> u = molrg.unimodality(np.array([1.0, 3.0, 2.0, 1.0]), np.full(4, 0.1))
    >>> bool(u.z <= 1.0), u.argmax
    (True, 1)
    >>> bool(molrg.unimodality(np.array([3.0, 1.0, 3.0]), np.full(3, 0.1)).z > 1.0)  # a dip
    True
    """
    y = _curve("y", y)
    se = _curve("se", se, size=y.size, nonnegative=True, like="y")
    c = None if cov is None else _covariance(cov, y.size)
    return _unimodality(y, _pair_z(y, se, c))


def _unimodality(y: np.ndarray, drop: np.ndarray) -> Unimodality:
    peak = int(np.argmax(y))
    best, where = -math.inf, (peak, peak)
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
    """Number of strict interior local maxima of a (noise-free) curve.

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> molrg.count_local_maxima(np.array([0.0, 2.0, 1.0, 3.0, 0.0]))
    2
    """
    y = _curve("y", y, low=1)
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
    progress: Callable[[int, int], None] | None = None,
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
    ``untrustworthy`` (with a :class:`molrg.UntrustworthyWarning`).

    Examples
    --------
    >>> import molrg
    >>> p = molrg.snr_peak(molrg.MoLRG(K=3, d=5, n=50, delta=0.2))
    >>> round(p.sigma, 4), round(p.snr, 3), p.interior
    (0.3257, 30.766, True)
    """
    replicates = check_int("replicates", replicates, low=2, high=10_000)
    resolved = _iv(model, 1.0, input, estimand, denominator, denoiser, method, progress).method
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


# ---------------------------------------------------------------------------------------
# Curve shapes and concordance (used by the probe and claim commands)
# ---------------------------------------------------------------------------------------
SHAPE_TOL = 0.02
"""Default ``tol`` of :func:`curve_shape`: a rise or fall smaller than 2% of the curve's
largest absolute value counts as negligible (what "decreasing", "increasing" and "flat"
must establish)."""

SHAPES = ("unimodal", "decreasing", "increasing", "flat", "irregular", "undetermined")
"""The outcomes of :func:`curve_shape`."""


@dataclass(frozen=True)
class CurveShape:
    """Shape of a curve ``y(sigma)`` with errors, decided at a stated confidence.

    With ``t`` the threshold (``z`` errors; with ``dof`` the Student-t quantile of the same
    one-sided tail probability) and ``z_ij = (y_i - y_j) / sd(y_i - y_j)`` (independent
    errors ``sd^2 = se_i^2 + se_j^2``; with a covariance, paired errors ``cov_ii + cov_jj -
    2 cov_ij``, far smaller for common-random-number curves):

    * ``rise = max_j z_j0`` (the strongest evidence that the curve rises above its first
      point), ``drop = max_j z_j,last`` (above its last point), ``hump = max`` over interior
      ``j`` of ``min(z_j0, z_j,last)`` (a point significantly above both ends);
      ``violation``: :func:`molrg.unimodality`'s statistic with the same errors.
    * ``no_rise``: every point is below ``y_0 + tol max|y|`` at confidence ``t``
      (``y_j - y_0 + t sd_0j <= tol max|y|``); ``no_fall`` the same at the last point;
      ``flat``: every ``|y_j - y_0| + t sd_0j <= tol max|y|``.

    ``shape`` (first that applies): ``"irregular"`` (``violation > t``), ``"unimodal"``
    (``hump > t``), ``"decreasing"`` (``drop > t`` and ``no_rise``), ``"increasing"``
    (``rise > t`` and ``no_fall``), ``"flat"``, else ``"undetermined"``: the data cannot
    decide at this confidence (more samples can).  A curve that merely fails to rise
    significantly is no longer "decreasing": it must be shown not to rise by more than
    ``tol``.  ``samples``: the Monte Carlo samples the verdict needed (0 when not given).
    """

    argmax: int
    rise: float
    drop: float
    violation: float
    shape: str
    hump: float = 0.0
    threshold: float = math.nan
    paired: bool = False
    tol: float = SHAPE_TOL
    samples: int = 0

    @property
    def decided(self) -> bool:
        return self.shape != "undetermined"

    def to_json(self) -> dict[str, Any]:
        return {"argmax": self.argmax, "rise_z": self.rise, "drop_z": self.drop,
                "violation_z": self.violation, "shape": self.shape, "hump_z": self.hump,
                "threshold": self.threshold,
                "errors": "paired (covariance)" if self.paired else "independent",
                "tol": self.tol, "samples": self.samples}


def _z(diff: float, scale: float) -> float:
    if scale > 0:
        return diff / scale
    return math.inf if diff > 0 else (-math.inf if diff < 0 else 0.0)


def shape_threshold(z: float, dof: float | None = None) -> float:
    """The threshold of :func:`curve_shape`: ``z`` (normal errors) or, with ``dof``
    degrees of freedom of the error estimate, the Student-t quantile with the same
    one-sided tail probability ``1 - Phi(z)``.

    Examples
    --------
    With exact normal errors the threshold is ``z``; with an error estimated from 10 degrees
    of freedom it is the Student-t quantile of the same tail, ``scipy.stats.t.isf(1 - Phi(3), 10)``:

    >>> import molrg
    >>> molrg.shape_threshold(3.0)
    3.0
    >>> round(molrg.shape_threshold(3.0, dof=10), 3)
    3.957
    """
    z = check_real("z", z, low=0.0, high=40.0, open_low=True)
    if dof is not None:
        dof = check_real("dof", dof, low=0.0, open_low=True)
    if dof is None:
        return float(z)
    from scipy.stats import norm, t

    return float(t.isf(norm.sf(z), dof))


def curve_shape(y: Any, se: Any, z: float, *, cov: Any = None, dof: float | None = None,
                tol: float = SHAPE_TOL, samples: int = 0) -> CurveShape:
    """Classify a curve (see :class:`CurveShape`) at ``z`` errors.

    Parameters
    ----------
    y, se : 1-D, the curve and its standard errors.
    z : the confidence, in standard errors (``> 0``).
    cov : optional ``(S, S)`` covariance of ``y`` across its points (e.g.
        :func:`crn_covariance` of common-random-number replicates); differences are then
        standardised by their paired errors.
    dof : degrees of freedom of the error estimate (``R - 1`` for a covariance from ``R``
        replicates); the threshold becomes the matching Student-t quantile.
    tol : relative size of a negligible rise or fall (``>= 0``).
    samples : recorded in the result (the samples behind the curve).

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> molrg.curve_shape(np.array([1.0, 3.0, 2.0, 1.0]), np.full(4, 0.1), 3.0).shape
    'unimodal'
    >>> molrg.curve_shape(np.array([3.0, 2.0, 1.0]), np.full(3, 0.1), 3.0).shape
    'decreasing'
    """
    y = _curve("y", y)
    se = _curve("se", se, size=y.size, nonnegative=True, like="y")
    z = check_real("z", z, low=0.0, high=40.0, open_low=True)
    tol = check_real("tol", tol, low=0.0, high=1e6, open_low=False)
    if dof is not None:
        dof = check_real("dof", dof, low=0.0, open_low=True)
    samples = check_int("samples", samples, low=0, high=10**13)
    c = None if cov is None else _covariance(cov, y.size)
    t = shape_threshold(z, dof)
    zz = _pair_z(y, se, c)
    uni = _unimodality(y, zz)
    last = y.size - 1
    rise = float(np.max(zz[1:, 0]))
    drop = float(np.max(zz[:-1, last]))
    inner = np.minimum(zz[1:-1, 0], zz[1:-1, last])
    hump = float(np.max(inner)) if inner.size else -math.inf
    if c is None:
        sd0 = np.sqrt(se**2 + se[0] ** 2)
        sdl = np.sqrt(se**2 + se[last] ** 2)
    else:
        dg = np.diag(c)
        sd0 = np.sqrt(np.maximum(dg + dg[0] - 2 * c[:, 0], 0.0))
        sdl = np.sqrt(np.maximum(dg + dg[last] - 2 * c[:, last], 0.0))
    margin = tol * float(np.max(np.abs(y)))
    no_rise = bool(np.all(y[1:] - y[0] + t * sd0[1:] <= margin))
    no_fall = bool(np.all(y[:-1] - y[last] + t * sdl[:-1] <= margin))
    flat = bool(np.all(np.abs(y - y[0]) + t * sd0 <= margin))
    if uni.z > t:
        shape = "irregular"
    elif hump > t:
        shape = "unimodal"
    elif drop > t and no_rise:
        shape = "decreasing"
    elif rise > t and no_fall:
        shape = "increasing"
    elif flat:
        shape = "flat"
    else:
        shape = "undetermined"
    return CurveShape(uni.argmax, rise, drop, float(uni.z), shape, hump, t, c is not None,
                      float(tol), int(samples))


def crn_covariance(replicates: Any) -> np.ndarray:
    """Covariance across sigma of the mean of ``R`` independent replicate curves.

    ``replicates``: ``(R, S)``, e.g. ``molrg.snr(..., replicates=R).replicates`` (each a
    common-random-number curve).  Returns ``cov(replicates) / R``, ``(S, S)``, with
    ``R - 1`` degrees of freedom (pass ``dof=R - 1`` to :func:`curve_shape`).

    Examples
    --------
    The covariance of the mean of ``R`` replicates is the sample covariance over ``R``:

    >>> import numpy as np
    >>> import molrg
    >>> replicates = np.random.default_rng(0).normal(size=(4, 3))  # 4 curves at 3 noise levels
    >>> cov = molrg.crn_covariance(replicates)
    >>> cov.shape, bool(np.allclose(cov, np.cov(replicates, rowvar=False) / 4))
    ((3, 3), True)
    """
    try:
        raw = np.asarray(to_numpy(replicates) if hasattr(replicates, "__array_namespace__")
                         else replicates)
        if raw.dtype.kind not in "iuf":
            raise TypeError
        arr = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("replicates must be an (R, S) array of real numbers") from None
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ParameterError(f"replicates has shape {arr.shape}; valid: (R, S) with R >= 2")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("replicates has non-finite entries; valid: finite")
    return np.atleast_2d(np.cov(arr, rowvar=False, ddof=1)) / arr.shape[0]


def result_shape(result: Any, z: float, *, tol: float = SHAPE_TOL) -> CurveShape:
    """:func:`curve_shape` of an :class:`~molrg.SNRResult` (or any result with
    ``estimate``, ``stderr`` and optional ``replicates``): paired errors from the
    replicates when there are any, else independent errors.

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> result = molrg.snr(molrg.MoLRG(K=3, d=5, n=50, delta=0.2), np.geomspace(0.05, 5, 12))
    >>> molrg.result_shape(result, 3.0).shape
    'unimodal'
    """
    if not (hasattr(result, "estimate") and hasattr(result, "stderr")):
        raise ParameterTypeError(f"result={result!r} must have estimate and stderr (e.g. a "
                                 "molrg.SNRResult)")
    try:
        reps = np.asarray(getattr(result, "replicates", np.empty(0)), dtype=np.float64)
        samples = int(getattr(result, "n_samples", 0))
    except (TypeError, ValueError):
        raise ParameterTypeError("result.replicates must be a real (R, S) array and "
                                 "result.n_samples an integer") from None
    if reps.size and reps.shape[0] >= 2:
        reps = reps.reshape(reps.shape[0], -1)
        return curve_shape(result.estimate, result.stderr, z, cov=crn_covariance(reps),
                           dof=reps.shape[0] - 1, tol=tol, samples=samples)
    return curve_shape(result.estimate, result.stderr, z, tol=tol, samples=samples)


@dataclass(frozen=True)
class AdaptiveShape:
    """:func:`adaptive_shape`'s answer: the final shape, the result it rests on, and each
    try as ``(samples, shape)``."""

    shape: CurveShape
    result: Any
    history: tuple[tuple[int, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.shape.to_json(), "history": [list(h) for h in self.history]}


def adaptive_shape(evaluate: Callable[[int], Any], samples: int, max_samples: int, z: float,
                   *, tol: float = SHAPE_TOL) -> AdaptiveShape:
    """Double the samples until the shape is decided (or ``max_samples`` is reached).

    ``evaluate(samples)`` returns a result for :func:`result_shape` (e.g. ``molrg.snr(...,
    method=MonteCarlo(samples=samples, ...), replicates=R)``).  Starting at ``samples``,
    while the shape is ``"undetermined"`` and ``2 samples <= max_samples``, evaluate again
    with twice the samples (a fresh evaluation).  Each look is a test at ``z``; with at
    most ``log2(max_samples / samples) + 1`` looks the overall error rate is at most that
    many times the one-look rate (Bonferroni).

    Examples
    --------
    A hump ``1, 2, 1`` whose errors shrink as ``1/sqrt(samples)``: the rise ``1 /
    sqrt(2/samples)`` is 2.83 standard errors at 16 samples (undetermined at ``z = 3``) and
    4 at 32 (unimodal), so the doubling stops there:

    >>> import numpy as np
    >>> import molrg
    >>> from types import SimpleNamespace
    >>> def evaluate(samples):
    ...     return SimpleNamespace(estimate=np.array([1.0, 2.0, 1.0]),
    ...                            stderr=np.full(3, 1 / np.sqrt(samples)))
    >>> found = molrg.adaptive_shape(evaluate, 8, 1024, 3.0)
    >>> found.history
    ((8, 'undetermined'), (16, 'undetermined'), (32, 'unimodal'))
    >>> found.shape.shape
    'unimodal'
    """
    if not callable(evaluate):
        raise ParameterTypeError(f"evaluate={evaluate!r} must be a callable samples -> result")
    samples = check_int("samples", samples, low=1, high=10**12)
    max_samples = check_int("max_samples", max_samples, low=samples, high=10**13)
    z = check_real("z", z, low=0.0, high=40.0, open_low=True)
    tol = check_real("tol", tol, low=0.0, high=1e6, open_low=False)
    history = []
    while True:
        result = evaluate(samples)
        shape = result_shape(result, z, tol=tol)
        history.append((shape.samples or samples, shape.shape))
        if shape.decided or 2 * samples > max_samples:
            return AdaptiveShape(shape, result, tuple(history))
        samples *= 2


def grid_peak(sigma: Any, y: Any) -> float:
    """Argmax of ``y`` on a log grid, refined by a parabola through the argmax and its
    neighbours in ``log sigma`` (the grid point itself at either end).

    Examples
    --------
    A parabola in ``log sigma`` peaking at ``sigma = 1`` is found exactly:

    >>> import numpy as np
    >>> import molrg
    >>> sigma = np.geomspace(0.1, 10, 5)
    >>> float(molrg.grid_peak(sigma, -np.log(sigma) ** 2))
    1.0
    """
    sigma = np.atleast_1d(check_sigma(sigma))
    y = _curve("y", y, size=sigma.size, low=1, like="sigma")
    i = int(np.argmax(y))
    if i == 0 or i == y.size - 1:
        return float(sigma[i])
    u = np.log(sigma[i - 1:i + 2])
    a, b, _ = np.polyfit(u, y[i - 1:i + 2], 2)
    if a >= 0:
        return float(sigma[i])
    return float(np.exp(np.clip(-b / (2 * a), u[0], u[2])))


@dataclass(frozen=True)
class Concordance:
    """Whether ``y`` is a monotone increasing function of ``x`` along a curve.

    ``tau``: Kendall's tau of the points; ``discordant``: pairs ordered oppositely by ``x``
    and ``y`` with both differences larger than ``z`` combined errors (the significant
    violations of monotonicity); ``worst``: the pair ``(i, j)`` with the largest
    ``min(|dx|/se_dx, |dy|/se_dy)`` among the discordant ones, and that value.
    """

    tau: float
    pairs: int
    discordant: int
    worst: tuple[int, int] | None
    worst_z: float

    def to_json(self) -> dict[str, Any]:
        return {"kendall_tau": self.tau, "pairs": self.pairs,
                "significant_discordant_pairs": self.discordant,
                "worst_pair": None if self.worst is None else list(self.worst),
                "worst_z": self.worst_z}


def concordance(x: Any, sx: Any, y: Any, sy: Any, z: float) -> Concordance:
    """Error-aware test that ``y`` increases with ``x`` (see :class:`Concordance`).

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> c = molrg.concordance(x, np.full(4, 0.1), 2 * x, np.full(4, 0.1), 3.0)
    >>> c.tau, c.pairs, c.discordant
    (1.0, 6, 0)
    """
    from scipy.stats import kendalltau

    x = _curve("x", x, low=1)
    sx = _curve("sx", sx, size=x.size, low=1, nonnegative=True, like="x")
    y = _curve("y", y, size=x.size, low=1, like="x")
    sy = _curve("sy", sy, size=x.size, low=1, nonnegative=True, like="x")
    z = check_real("z", z, low=0.0, open_low=False)
    n = x.size
    tau = float(kendalltau(x, y).statistic) if n > 1 else math.nan
    count, worst, worst_z = 0, None, 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[j] - x[i], y[j] - y[i]
            if dx * dy >= 0:
                continue
            zx = _z(abs(dx), math.hypot(sx[i], sx[j]))
            zy = _z(abs(dy), math.hypot(sy[i], sy[j]))
            zz = min(zx, zy)
            if zz > z:
                count += 1
                if zz > worst_z:
                    worst, worst_z = (i, j), zz
    return Concordance(tau if math.isfinite(tau) else 0.0, n * (n - 1) // 2, count, worst,
                       worst_z)
