"""molrg: check the theory of diffusion-based representation learning on the noisy MoLRG.

The curated public API.  Layers (each uses only those below it)::

    estimators (snr), probes, analysis      exact (quadrature) and Monte Carlo estimates
    denoisers, quadrature, theory           denoisers; the exact SNR; Theorem 1 in numbers
    models, mixtures, kernel                Setting, MoLRG, LowRankMixture; the one kernel
    options, _generated, _backend           vocabularies and method objects; generated code

:mod:`molrg.symbolic` (SymPy derivations and the code generator),
:mod:`molrg.reference` (independent dense references) and :mod:`molrg.validation` (the
checks every public function uses, for extensions) are public submodules.  Every name is
imported on first use (SPEC 1 lazy loading): ``import molrg`` itself loads nothing, the
first ``molrg.snr`` loads the numerical core (NumPy, not SciPy or SymPy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (SPEC 1 lazy loading)
    from .analysis import (
        SHAPE_TOL,
        SHAPES,
        AdaptiveShape,
        Concordance,
        CurveShape,
        SNRPeak,
        Unimodality,
        adaptive_shape,
        concordance,
        count_local_maxima,
        crn_covariance,
        curve_shape,
        grid_peak,
        result_shape,
        shape_threshold,
        snr_peak,
        unimodality,
    )
    from .denoisers import DAE, Denoiser, OptimalDenoiser, dae, features, posterior_mean
    from .dynamics import Sampler, backward
    from .empirical import EmpiricalDenoiser
    from .ensemble import (
        LABEL_NOISE,
        EnsembleDesign,
        EnsembleResult,
        ensemble_accuracy,
        ensemble_sigmas,
    )
    from .estimators import MIN_VERDICT_SAMPLES, TAIL_SHARE_MAX, SNRResult, UntrustworthyWarning, snr
    from .generalization import (
        REGIMES,
        GeneralizationScore,
        Regime,
        SizeStudy,
        StudyOptions,
        generalization_score,
        memorization_regime,
        size_study,
        training_epochs,
    )
    from .kernel import softmax_weights
    from .learning import (
        CheckpointCurves,
        RankCorrelation,
        checkpoint_curves,
        log_checkpoints,
        rank_correlation,
    )
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
        Auto,
        Method,
        MonteCarlo,
        Quadrature,
    )
    from .plan import choose_method
    from .probes import ProbeResult, probe_accuracy
    from .results import load_results
    from .theory import Peak, approx_snr, dlogsnr_dlogsigma, exact_limits, limits, margin, peak, peak_law
    from .train import (
        DDPMSchedule,
        SubspaceRecovery,
        TorchDenoiser,
        TrainedDenoiser,
        TrainOptions,
        subspace_recovery,
        train_denoiser,
    )
    from .uturn import collapse_curve, law_check, speciation_curve
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
    "LABEL_NOISE",
    "MEAN_PLACEMENTS",
    "METHODS",
    "MIN_VERDICT_SAMPLES",
    "PROBES",
    "REGIMES",
    "SHAPES",
    "SHAPE_TOL",
    "SIMULATORS",
    "TAIL_SHARE_MAX",
    "AdaptiveShape",
    "Auto",
    "CheckpointCurves",
    "Concordance",
    "CurveShape",
    "DDPMSchedule",
    "Denoiser",
    "EmpiricalDenoiser",
    "EnsembleDesign",
    "EnsembleResult",
    "GeneralizationScore",
    "LowRankMixture",
    "Method",
    "MoLRG",
    "MonteCarlo",
    "OptimalDenoiser",
    "ParameterError",
    "ParameterTypeError",
    "Peak",
    "ProbeResult",
    "Quadrature",
    "RankCorrelation",
    "Regime",
    "SNRPeak",
    "SNRResult",
    "Sampler",
    "Setting",
    "SizeStudy",
    "StudyOptions",
    "SubspaceRecovery",
    "TorchDenoiser",
    "TrainOptions",
    "TrainedDenoiser",
    "Unimodality",
    "UntrustworthyWarning",
    "__version__",
    "adaptive_shape",
    "approx_snr",
    "backward",
    "checkpoint_curves",
    "choose_method",
    "collapse_curve",
    "concordance",
    "count_local_maxima",
    "crn_covariance",
    "curve_shape",
    "dae",
    "dlogsnr_dlogsigma",
    "ensemble_accuracy",
    "ensemble_sigmas",
    "exact_limits",
    "features",
    "generalization_score",
    "grid_peak",
    "law_check",
    "limits",
    "load_results",
    "log_checkpoints",
    "margin",
    "memorization_regime",
    "peak",
    "peak_law",
    "posterior_mean",
    "probe_accuracy",
    "rank_correlation",
    "result_shape",
    "shape_threshold",
    "size_study",
    "snr",
    "snr_peak",
    "softmax_weights",
    "speciation_curve",
    "subspace_recovery",
    "train_denoiser",
    "training_epochs",
    "unimodality",
]

_LAZY: dict[str, str] = {
    "Concordance": "analysis",
    "CurveShape": "analysis",
    "SNRPeak": "analysis",
    "Unimodality": "analysis",
    "concordance": "analysis",
    "count_local_maxima": "analysis",
    "curve_shape": "analysis",
    "grid_peak": "analysis",
    "snr_peak": "analysis",
    "unimodality": "analysis",
    "DAE": "denoisers",
    "Denoiser": "denoisers",
    "OptimalDenoiser": "denoisers",
    "dae": "denoisers",
    "features": "denoisers",
    "posterior_mean": "denoisers",
    "EmpiricalDenoiser": "empirical",
    "GeneralizationScore": "generalization",
    "Regime": "generalization",
    "SizeStudy": "generalization",
    "StudyOptions": "generalization",
    "REGIMES": "generalization",
    "memorization_regime": "generalization",
    "size_study": "generalization",
    "training_epochs": "generalization",
    "generalization_score": "generalization",
    "CheckpointCurves": "learning",
    "RankCorrelation": "learning",
    "checkpoint_curves": "learning",
    "log_checkpoints": "learning",
    "rank_correlation": "learning",
    "LABEL_NOISE": "ensemble",
    "EnsembleResult": "ensemble",
    "ensemble_accuracy": "ensemble",
    "EnsembleDesign": "ensemble",
    "ensemble_sigmas": "ensemble",
    "SNRResult": "estimators",
    "snr": "estimators",
    "MIN_VERDICT_SAMPLES": "estimators",
    "TAIL_SHARE_MAX": "estimators",
    "UntrustworthyWarning": "estimators",
    "softmax_weights": "kernel",
    "LowRankMixture": "mixtures",
    "MoLRG": "models",
    "Setting": "models",
    "BACKENDS": "options",
    "DENOMINATORS": "options",
    "DTYPES": "options",
    "ESTIMANDS": "options",
    "FORMS": "options",
    "INPUTS": "options",
    "MEAN_PLACEMENTS": "options",
    "METHODS": "options",
    "PROBES": "options",
    "SIMULATORS": "options",
    "Auto": "options",
    "Method": "options",
    "MonteCarlo": "options",
    "choose_method": "plan",
    "Quadrature": "options",
    "ProbeResult": "probes",
    "probe_accuracy": "probes",
    "load_results": "results",
    "Peak": "theory",
    "approx_snr": "theory",
    "dlogsnr_dlogsigma": "theory",
    "exact_limits": "theory",
    "limits": "theory",
    "margin": "theory",
    "peak": "theory",
    "peak_law": "theory",
    "ParameterError": "validation",
    "ParameterTypeError": "validation",
    "Sampler": "dynamics",
    "backward": "dynamics",
    "collapse_curve": "uturn",
    "law_check": "uturn",
    "speciation_curve": "uturn",
    "DDPMSchedule": "train",
    "SubspaceRecovery": "train",
    "TorchDenoiser": "train",
    "TrainOptions": "train",
    "TrainedDenoiser": "train",
    "subspace_recovery": "train",
    "train_denoiser": "train",
    "SHAPE_TOL": "analysis",
    "SHAPES": "analysis",
    "AdaptiveShape": "analysis",
    "adaptive_shape": "analysis",
    "crn_covariance": "analysis",
    "result_shape": "analysis",
    "shape_threshold": "analysis",
}
"""Where each public name lives: imported from there on first access (``molrg.snr``,
``from molrg import snr``), then cached in this module."""

_SUBMODULES = ("symbolic", "reference", "validation")


def __getattr__(name: str) -> Any:
    """Import a public name, or the public submodules :mod:`molrg.symbolic`,
    :mod:`molrg.reference` and :mod:`molrg.validation`, on first use."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'molrg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
