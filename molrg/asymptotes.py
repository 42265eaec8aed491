"""The exact SNR's limits as ``sigma -> 0`` and ``sigma -> infinity`` (unchecked; one place).

Derived in :mod:`molrg.symbolic.derive` (``ExactLimits``) and generated into
``molrg/_generated.py``; :func:`molrg.exact_limits` (validated), the corrected form's
limits and :func:`molrg.quadrature.snr_limits` all return these numbers.  Evaluated on
NumPy float64 0-d arrays (NumPy's ``delta**2`` is a correctly rounded square; Python's
``float.__pow__`` can differ from it in the last bit).
"""

from __future__ import annotations

import numpy as np

from ._generated import FORMULAS

__all__ = ["exact_snr_limits"]


def exact_snr_limits(K: int, d: int, delta: float, input: str,
                     estimand: str = "ratio-of-means") -> tuple[float, float]:
    """``(limit at sigma -> 0, limit at sigma -> inf)`` of the exact SNR (``estimand``:
    ``"ratio-of-means"`` or ``"mean-of-ratios"``; the latter finite only for ``(K-1) d > 2``,
    which the caller checks)."""
    f = FORMULAS[input]
    values = {name: np.asarray(float(v)) for name, v in (("K", K), ("d", d), ("delta", delta))}
    if estimand == "ratio-of-means":
        zero, inf = f.exact_ratio_of_means_zero, f.exact_ratio_of_means_inf
    else:
        zero, inf = f.exact_mean_of_ratios_zero, f.exact_mean_of_ratios_inf
    return float(zero(np, **values)), float(inf(np, **values))
