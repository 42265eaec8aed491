"""Input validation (the ``_iv`` helpers): every public entry point validates here.

Each check raises :class:`ValueError` naming the parameter, the offending value and the
valid range.  Nothing is clipped.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_choice", "check_int", "check_real", "check_sigma"]


def check_int(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: unbounded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(float(value))
        else:
            raise ValueError(f"{name}={value!r} must be an integer in {_int_range(low, high)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name}={value!r} is out of range; valid: {_int_range(low, high)}")
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
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a real number in {interval}") from None
    below = x <= low if open_low else x < low
    above = x >= high if open_high else x > high
    if not math.isfinite(x) or below or above:
        raise ValueError(f"{name}={value!r} is out of range; valid: {interval}")
    return x


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; valid: {', '.join(map(repr, choices))}")
    return str(value)


def check_sigma(sigma: Any, name: str = "sigma") -> np.ndarray:
    """Noise level(s) as a float64 NumPy array of ndim 0 or 1, all in ``(0, inf)``."""
    try:
        arr = np.asarray(sigma, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={sigma!r} must be a positive real or a 1-D array of them") from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one value in (0, inf)")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        value = arr.flat[int(np.argmax(bad))]
        raise ValueError(f"{name}={value!r} is out of range; valid: (0, inf), finite")
    return arr
