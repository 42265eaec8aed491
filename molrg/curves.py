"""Curve statistics: unimodality with error bars and local maxima of plain curves (any
curve: simulated, theoretical, crafted).  Part of :mod:`molrg.analysis`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._backend import to_numpy
from .validation import ParameterError, ParameterTypeError

__all__ = ["Unimodality", "count_local_maxima", "unimodality"]


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
