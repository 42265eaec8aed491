"""``python -m verify theorem1``: Theorem 1 of the paper against the exact SNR.

For each input mode the exact SNR of the optimal denoiser (quadrature by default; Monte
Carlo with ``--method reduced|ambient``, with standard errors) is put next to Theorem 1's
approximation in three forms: ``printed`` (the formula as the paper prints it),
``derived`` (the paper's expected-logit step applied to the model) and ``corrected``
(keeps the randomness of the logits).  ``--form`` selects the form the verdict is about
(default: ``printed``, the theorem as stated); the report shows all three.

Claims, each with its measured value and tolerance:

1. ``simulated-unimodal``: the exact (or simulated) SNR curve is unimodal -- its worst dip
   before the argmax or rise after it is at most ``--unimodal-z`` errors (exact curves:
   none at all) -- and its peak is interior.
2. ``theory-unimodal``: the approximation has exactly one interior local maximum.
3. ``peak-location``: the SNR's peak over the approximation's peak lies within
   ``1 +- --peak-tol`` (3 errors of slack for Monte Carlo).
4. ``approx-near-peak``: the approximation's relative error on the grid points within a
   factor 2 of the SNR's peak is at most ``--approx-tol`` (3 errors of slack per point).

The verdict is ``holds`` when every claim of the selected form holds, else ``deviates``.
With Monte Carlo, claims 1, 3 and 4 are ``undetermined`` (and so is the verdict, exit
status 4, unless another claim deviates) when the simulated curve or peak is flagged
untrustworthy (:attr:`molrg.SNRResult.untrustworthy`: heavy tails, too few samples) or
``--samples`` is below ``molrg.MIN_VERDICT_SAMPLES`` (3000).
"""

from __future__ import annotations

from .command import Command, Context
from .theorem import (
    SIMULATED_CLAIMS,
    Claim,
    Theorem1Options,
    Theorem1Result,
    default_grid,
    evaluate_claims,
    run,
)

__all__ = ["SIMULATED_CLAIMS", "Claim", "Theorem1", "Theorem1Options", "Theorem1Result",
           "default_grid", "evaluate_claims", "run"]


class Theorem1(Command[Theorem1Options]):
    """``python -m verify theorem1``."""

    name = "theorem1"
    help = "check Theorem 1 (unimodal SNR, its peak, the approximation in 3 forms) exactly"
    Options = Theorem1Options

    def run(self, options: Theorem1Options, context: Context) -> Theorem1Result:
        return run(options, progress=context.progress)
