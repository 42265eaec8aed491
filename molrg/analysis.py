"""Statistics on SNR curves: unimodality with error bars, and the peak of the SNR.

:func:`unimodality` and :func:`count_local_maxima` take plain curves, so any curve
(simulated, theoretical, crafted) can be analysed.  :func:`snr_peak` locates the maximum
of the SNR itself: exactly (quadrature, a bracketed maximiser on the deterministic curve,
with its numerical uncertainty) or by Monte Carlo (independent replicate curves, each
with common random numbers, refined below the grid spacing).
"""

from __future__ import annotations

from .curves import Unimodality, count_local_maxima, unimodality
from .peaks import REFINE_POINTS, SNRPeak, snr_peak
from .shapes import (
    SHAPE_TOL,
    SHAPES,
    AdaptiveShape,
    Concordance,
    CurveShape,
    adaptive_shape,
    concordance,
    crn_covariance,
    curve_shape,
    grid_peak,
    result_shape,
    shape_threshold,
)

__all__ = ["SHAPES", "SHAPE_TOL", "AdaptiveShape", "Concordance", "CurveShape", "SNRPeak",
           "Unimodality", "adaptive_shape", "concordance", "count_local_maxima",
           "crn_covariance", "curve_shape", "grid_peak", "result_shape", "shape_threshold",
           "snr_peak", "unimodality"]
_MORE = (REFINE_POINTS,)  # also here: molrg.analysis.REFINE_POINTS
