"""molrg: check the theory of diffusion-based representation learning on the noisy MoLRG.

The curated public API.  Layers (each uses only those below it):

* :mod:`molrg.symbolic` -- SymPy derivations of Proposition 1 and Theorem 1 (lazy).
* :mod:`molrg.theory` -- Theorem-1 numerics from the derivations, peak finder, peak law.
* :mod:`molrg.model` -- the MoLRG parameters, bases and sampling.
* :mod:`molrg.denoiser` -- the exact posterior mean and the parameterised DAE.
* :mod:`molrg.montecarlo` -- Monte Carlo SNR estimators (:func:`molrg.snr`) with errors.
"""

from .denoiser import dae, features, posterior_mean, softmax_weights
from .model import MoLRG
from .montecarlo import SNRResult, snr
from .theory import Peak, approx_snr, exact_limits, limits, margin, peak, peak_law

__all__ = [
    "MoLRG",
    "Peak",
    "SNRResult",
    "approx_snr",
    "dae",
    "exact_limits",
    "features",
    "limits",
    "margin",
    "peak",
    "peak_law",
    "posterior_mean",
    "snr",
    "softmax_weights",
]

__version__ = "0.1.0"
