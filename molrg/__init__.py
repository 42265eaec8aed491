"""molrg: check the theory of diffusion-based representation learning on the noisy MoLRG.

The curated public API.  Layers (each uses only those below it)::

    estimators (snr), probes, analysis      exact (quadrature) and Monte Carlo estimates
    denoisers, quadrature, theory           denoisers; the exact SNR; Theorem 1 in numbers
    models, mixtures, kernel                Setting, MoLRG, LowRankMixture; the one kernel
    options, _generated, _backend           vocabularies and method objects; generated code

:mod:`molrg.symbolic` (SymPy derivations and the code generator),
:mod:`molrg.reference` (independent dense references) and :mod:`molrg.validation` (the
checks every public function uses, for extensions) are public submodules, imported on
first use: ``import molrg`` imports neither SymPy nor SciPy.
"""

from __future__ import annotations

import importlib
from typing import Any

from .analysis import (
    Concordance,
    CurveShape,
    SNRPeak,
    Unimodality,
    concordance,
    count_local_maxima,
    curve_shape,
    grid_peak,
    snr_peak,
    unimodality,
)
from .denoisers import DAE, Denoiser, OptimalDenoiser, dae, features, posterior_mean
from .empirical import EmpiricalDenoiser
from .estimators import SNRResult, snr
from .kernel import softmax_weights
from .mixtures import LowRankMixture
from .models import MoLRG, Setting
from .options import (
    BACKENDS,
    DENOMINATORS,
    DTYPES,
    ESTIMANDS,
    FORMS,
    INPUTS,
    MEAN_PLACEMENTS,
    METHODS,
    PROBES,
    SIMULATORS,
    MonteCarlo,
    Quadrature,
)
from .probes import ProbeResult, probe_accuracy
from .theory import Peak, approx_snr, dlogsnr_dlogsigma, exact_limits, limits, margin, peak, peak_law
from .validation import ParameterError, ParameterTypeError

__version__ = "0.2.0"
"""The package version (defined here only: ``pyproject.toml`` and the docs read it)."""

__all__ = [
    "BACKENDS",
    "DAE",
    "DENOMINATORS",
    "DTYPES",
    "ESTIMANDS",
    "FORMS",
    "INPUTS",
    "MEAN_PLACEMENTS",
    "METHODS",
    "PROBES",
    "SIMULATORS",
    "Concordance",
    "CurveShape",
    "Denoiser",
    "EmpiricalDenoiser",
    "LowRankMixture",
    "MoLRG",
    "MonteCarlo",
    "OptimalDenoiser",
    "ParameterError",
    "ParameterTypeError",
    "Peak",
    "ProbeResult",
    "Quadrature",
    "SNRPeak",
    "SNRResult",
    "Setting",
    "Unimodality",
    "__version__",
    "approx_snr",
    "concordance",
    "count_local_maxima",
    "curve_shape",
    "dae",
    "dlogsnr_dlogsigma",
    "exact_limits",
    "features",
    "grid_peak",
    "limits",
    "margin",
    "peak",
    "peak_law",
    "posterior_mean",
    "probe_accuracy",
    "snr",
    "snr_peak",
    "softmax_weights",
    "unimodality",
]

_SUBMODULES = ("symbolic", "reference", "validation")


def __getattr__(name: str) -> Any:
    """Import the public submodules :mod:`molrg.symbolic` and :mod:`molrg.reference` lazily."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'molrg' has no attribute {name!r}")
