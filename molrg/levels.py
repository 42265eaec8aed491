"""Where a decreasing binomial curve crosses a threshold: the level and its error bar.

A curve ``P(sigma) = successes / trials`` on an increasing grid (the U-turn curves of
:mod:`molrg.uturn`) crosses ``threshold`` by linear interpolation in ``log sigma`` between
the last grid point at or above the threshold and the next one; the error bar is a
parametric bootstrap of the binomial counts (the spread of the interpolated crossing in
``log sigma``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .validation import ParameterError, check_int, check_real, check_sigma

__all__ = ["BOOTSTRAP", "Level", "crossing"]

BOOTSTRAP = 400
"""Parametric bootstrap resamples behind every level's error bar."""


@dataclass(frozen=True)
class Level:
    """Where a decreasing curve ``P(sigma)`` crosses ``threshold``.

    ``sigma`` is NaN when the curve is below the threshold at the first grid point
    (``position = "below grid"``) or above it at the last (``"above grid"``).  ``stderr``
    is the bootstrap standard deviation of the crossing in ``sigma`` (delta method from
    ``log sigma``); ``low``/``high`` the 16th/84th bootstrap percentiles.
    """

    sigma: float
    stderr: float
    low: float
    high: float
    threshold: float
    position: str

    @property
    def found(self) -> bool:
        return self.position == "inside"

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "stderr": self.stderr, "low": self.low,
                "high": self.high, "threshold": self.threshold, "position": self.position}


def _cross(sigma: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, str]:
    above = np.nonzero(p >= threshold)[0]
    if above.size == 0:
        return math.nan, "below grid"
    j = int(above[-1])
    if j == sigma.size - 1:
        return math.nan, "above grid"
    u0, u1 = math.log(sigma[j]), math.log(sigma[j + 1])
    p0, p1 = float(p[j]), float(p[j + 1])
    frac = 0.0 if p0 == p1 else (p0 - threshold) / (p0 - p1)
    return math.exp(u0 + frac * (u1 - u0)), "inside"


def crossing(sigma: Any, successes: Any, trials: Any, threshold: float, *,
             seed: int = 0, bootstrap: int = BOOTSTRAP) -> Level:
    """The level where the binomial proportion ``successes / trials`` (one per ``sigma``)
    last stays at or above ``threshold``, interpolated linearly in ``log sigma``, with a
    parametric bootstrap error bar.  ``sigma``: increasing 1-D grid."""
    sig = check_sigma(sigma)
    k = np.asarray(successes, dtype=np.int64)
    m = np.asarray(trials, dtype=np.int64)
    if sig.ndim != 1 or sig.size < 2 or np.any(np.diff(sig) <= 0):
        raise ParameterError("sigma must be 1-D, increasing, with at least 2 points")
    if k.shape != sig.shape or m.shape != sig.shape or np.any(m < 1) or np.any(k < 0) \
            or np.any(k > m):
        raise ParameterError("successes and trials must match sigma, 0 <= successes <= trials")
    threshold = check_real("threshold", threshold, low=0.0, high=1.0)
    bootstrap = check_int("bootstrap", bootstrap, low=10, high=10**6)
    p = k / m
    level, where = _cross(sig, p, threshold)
    rng = np.random.default_rng(seed)
    draws = rng.binomial(m, p, size=(bootstrap, sig.size)) / m
    logs = np.array([_cross(sig, row, threshold)[0] for row in draws])
    logs = np.log(logs[np.isfinite(logs)])
    if where != "inside" or logs.size < bootstrap // 2:
        return Level(level, math.nan, math.nan, math.nan, threshold, where)
    se = float(np.std(logs, ddof=1))
    lo, hi = np.percentile(logs, [16, 84])
    return Level(level, level * se, float(math.exp(lo)), float(math.exp(hi)), threshold, where)
