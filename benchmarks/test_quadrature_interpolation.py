"""``benchmarks/quadrature_interpolation.py`` runs, and its certificate is honest on one curve.

The full study (``python benchmarks/quadrature_interpolation.py``) is quoted in
``docs/performance.md``; here one setting, one tolerance, so that the script cannot rot.
"""

from __future__ import annotations

import numpy as np

import molrg
from benchmarks.quadrature_interpolation import CURVE, LogSNR, global_error, piecewise


def test_halving_certificate_bounds_the_achieved_interpolation_error() -> None:
    setting = molrg.Setting(2, 1, 0.5)
    reference = np.asarray(molrg.snr(setting, CURVE, method="quadrature").estimate)
    calls, pieces, err = piecewise(LogSNR(setting), 16, 1e-6, "halving", reference)
    assert err <= 1e-6
    assert calls >= 16 * pieces + 1  # rejected (halved) pieces cost evaluations too
    assert global_error(LogSNR(setting), 16, reference) > 1e-6  # one low degree is not enough
