"""Curve shapes and concordance (used by the probe and claim commands): the shape of a
curve with its errors, an adaptive Monte Carlo shape, the grid peak and the concordance of
two curves.  Part of :mod:`molrg.analysis`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._backend import to_numpy
from .curves import _covariance, _curve, _pair_z, _unimodality
from .validation import ParameterError, ParameterTypeError, check_int, check_real, check_sigma

__all__ = ["SHAPES", "SHAPE_TOL", "AdaptiveShape", "Concordance", "CurveShape",
           "adaptive_shape", "concordance", "crn_covariance", "curve_shape", "grid_peak",
           "result_shape", "shape_threshold"]


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
