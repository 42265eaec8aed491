"""Input validation (the ``_iv`` helpers): every public entry point validates here.

Each check raises :class:`ValueError` naming the parameter, the offending value and the
valid range (or :class:`TypeError` for a value of the wrong kind, e.g. a complex number
or ``None`` where a number is required).  Nothing is clipped.  Public functions call these
and then an unchecked kernel (array-api-extra's ``_delegation`` / ``_lib`` split).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arrays import to_numpy


class ParameterError(ValueError):
    """An invalid parameter: the message names it, its value and the valid range.

    A :class:`ValueError`, so ``except ValueError`` catches it; the CLI maps exactly this
    class (and :class:`ParameterTypeError`) to exit status 2, anything else is internal.
    """


class ParameterTypeError(ParameterError, TypeError):
    """A parameter of the wrong kind (``None``, a complex number, a string...): also a
    :class:`TypeError`."""


__all__ = [
    "ParameterError",
    "ParameterTypeError",
    "check_array",
    "check_bool",
    "check_choice",
    "check_delta",
    "check_int",
    "check_real",
    "check_sigma",
    "check_sigma_scalar",
]


def _is_complex(value: Any) -> bool:
    return isinstance(value, (complex, np.complexfloating)) or (
        hasattr(value, "dtype") and "complex" in str(value.dtype))


def check_int(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: unbounded).

    Integral floats (``3.0``) are accepted; booleans, other floats and non-numbers are not.
    """
    if isinstance(value, (bool, np.bool_)) or _is_complex(value):
        raise ParameterTypeError(f"{name}={value!r} must be an integer in {_int_range(low, high)}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(float(value)) \
                and float(value).is_integer():
            value = int(float(value))
        else:
            kind = ParameterError if isinstance(value, numbers.Real) else ParameterTypeError
            raise kind(f"{name}={value!r} must be an integer in {_int_range(low, high)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise ParameterError(f"{name}={value!r} is out of range; valid: {_int_range(low, high)}")
    return value


def _int_range(low: int, high: int | None) -> str:
    return f"[{low}, {high}]" if high is not None else f"[{low}, inf)"


def check_real(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = True,
    open_high: bool = True,
) -> float:
    """``value`` as a finite float inside the interval (open ends by default)."""
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    if isinstance(value, (bool, np.bool_, str, bytes)) or _is_complex(value) or value is None:
        raise ParameterTypeError(f"{name}={value!r} must be a real number in {interval}")
    if getattr(value, "ndim", 0) != 0:  # older NumPy converts size-1 arrays, with a warning
        raise ParameterTypeError(f"{name}={value!r} must be a real number in {interval}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterTypeError(f"{name}={value!r} must be a real number in {interval}") from None
    below = x <= low if open_low else x < low
    above = x >= high if open_high else x > high
    if not math.isfinite(x) or below or above:
        raise ParameterError(f"{name}={value!r} is out of range; valid: {interval}")
    return x


def check_delta(value: Any, name: str = "delta") -> float:
    """A detail-noise level in ``(0, 1)``, at least :data:`DELTA_MIN` (below it the theory's
    ``sigma^2 / delta^2`` overflows float64)."""
    delta = check_real(name, value, low=0.0, high=1.0)
    if delta < DELTA_MIN:
        raise ParameterError(f"{name}={value!r} is out of range; valid: (0, 1), at least "
                             f"{DELTA_MIN:g}")
    return delta


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(f"{name}={value!r} must be True or False")
    return bool(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ParameterError(f"{name}={value!r} is not valid; valid: {', '.join(map(repr, choices))}")
    return value


DELTA_MIN = 1e-30
"""Smallest accepted detail-noise level ``delta`` (valid: ``[DELTA_MIN, 1)``)."""
SIGMA_MIN, SIGMA_MAX = 1e-30, 1e30
"""Accepted noise levels.  Every formula of the theory is finite (and warns of nothing)
over this range for any ``K``, ``d`` and ``delta >= 1e-30`` (measured in
tests/test_fuzz_api.py); beyond it ``sigma**2`` products overflow float64.  Every SNR curve
sits on its limits long before either end."""


def check_sigma(sigma: Any, name: str = "sigma") -> np.ndarray:
    """Noise level(s) as a float64 NumPy array of ndim 0 or 1, all in
    ``[SIGMA_MIN, SIGMA_MAX]``.

    Accepts Python numbers, sequences and arrays of any namespace (copied to the host).
    """
    if sigma is None or isinstance(sigma, (str, bytes, bool, np.bool_)) or _is_complex(sigma):
        raise ParameterTypeError(f"{name}={sigma!r} must be a positive real or a 1-D array of them")
    if hasattr(sigma, "__array_namespace__") and not isinstance(sigma, np.ndarray):
        sigma = to_numpy(sigma)
    try:
        arr = np.asarray(sigma)
    except (TypeError, ValueError):
        raise ParameterTypeError(f"{name}={sigma!r} must be a positive real or a 1-D array of them") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterTypeError(f"{name} has dtype {arr.dtype}; valid: real numbers in (0, inf)")
    arr = arr.astype(np.float64)
    if arr.ndim > 1:
        raise ParameterError(f"{name} must be a scalar or 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ParameterError(f"{name} is empty; give at least one value in (0, inf)")
    bad = ~np.isfinite(arr) | (arr < SIGMA_MIN) | (arr > SIGMA_MAX)
    if bad.any():
        value = float(arr.flat[int(np.argmax(bad))])
        raise ParameterError(f"{name}={value!r} is out of range; valid: (0, inf), finite, "
                             f"within [{SIGMA_MIN:g}, {SIGMA_MAX:g}]")
    return arr


def check_sigma_scalar(sigma: Any, name: str = "sigma") -> float:
    """A scalar noise level in ``(0, inf)`` (a 0-d array of any namespace is accepted)."""
    shape = getattr(sigma, "shape", ())
    if shape not in ((), None):
        raise ParameterError(f"{name} has shape {tuple(shape)}; valid: a scalar in (0, inf)")
    s = check_sigma(sigma, name)
    if s.ndim:
        raise ParameterError(f"{name} has shape {s.shape}; valid: a scalar in (0, inf)")
    return float(s)


def check_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None,
                last: int | None = None) -> Any:
    """An array of any namespace with real floating dtype and the given ``ndim``/last axis.

    Returns the array unchanged (no copy, no conversion).
    """
    if value is None or not hasattr(value, "shape") or not hasattr(value, "dtype"):
        raise ParameterTypeError(f"{name} must be an array (NumPy, CuPy or array-API), "
                                 f"got {type(value).__name__}")
    kind = str(value.dtype)
    if "float" not in kind or "complex" in kind:
        raise ParameterTypeError(f"{name} has dtype {kind}; valid: float32 or float64")
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if dims is not None and value.ndim not in dims:
        raise ParameterError(f"{name} has shape {tuple(value.shape)}; valid: ndim in {dims}")
    if last is not None and (value.ndim == 0 or value.shape[-1] != last):
        raise ParameterError(f"{name} has shape {tuple(value.shape)}; valid: last dimension n={last}")
    return value
