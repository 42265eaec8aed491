"""The corrected approximation (placeholder until derived)."""

from __future__ import annotations

import math
from typing import Any

from .theory import Peak


def evaluate(quantity: str, xp: Any, sigma: Any, setting: Any, input: str) -> Any:
    return xp.full_like(sigma, math.nan)


def limits(setting: Any, input: str) -> tuple[float, float]:
    return math.nan, math.nan


def peak(setting: Any, input: str) -> Peak:
    return Peak(math.nan, math.nan, False, 0, (math.nan, math.nan), "corrected")
