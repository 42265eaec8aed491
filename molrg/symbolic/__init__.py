"""SymPy layer: the derivations of Proposition 1 and Theorem 1, and the bridge to code.

SymPy is imported by this subpackage only, and the package never imports it at run time:
the numerical layer evaluates ``molrg/_generated.py``, which
:mod:`molrg.symbolic.codegen` writes from these derivations (a test checks it is current).

Modules
-------
:mod:`~molrg.symbolic.derive`
    Proposition 1, Theorem 1's weight structure and its ``printed`` and ``derived``
    forms, the exact limits.
:mod:`~molrg.symbolic.corrected`
    The corrected approximation (keeps the randomness of the logits).
:mod:`~molrg.symbolic.peak_law`
    A closed-form law for the derived form's peak.
:mod:`~molrg.symbolic.codegen`
    The lambdify bridge and the code generator.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .codegen import XP_FUNCTIONS, generate, lambdify_expr
from .derive import (
    APPROX_FORMS,
    MODES,
    ExactLimits,
    Proposition1,
    SNRStructure,
    Theorem1,
    derive_exact_limits,
    derive_proposition1,
    derive_theorem1,
    finiteness_threshold,
    input_variance,
    inverse_chi2_mean,
    inverse_chi2_moment,
    printed_C,
    printed_margin,
    snr_structure,
    symbols,
)
from .peak_law import PeakLaw, derive_peak_law

__all__ = [
    "APPROX_FORMS",
    "MODES",
    "XP_FUNCTIONS",
    "ExactLimits",
    "PeakLaw",
    "Proposition1",
    "SNRStructure",
    "Theorem1",
    "derive_exact_limits",
    "derive_peak_law",
    "derive_proposition1",
    "derive_theorem1",
    "describe",
    "expressions",
    "finiteness_threshold",
    "generate",
    "input_variance",
    "inverse_chi2_mean",
    "inverse_chi2_moment",
    "lambdify_expr",
    "latex",
    "printed_C",
    "printed_margin",
    "snr_structure",
    "symbols",
]


def expressions(mode: str = "noisy", form: str = "derived") -> dict[str, sp.Expr]:
    """The derived expressions of one input mode and closed form, by name.

    Proposition-1 coefficients do not depend on ``mode`` or ``form``; the exact limits do
    not depend on ``form``.
    """
    p1 = derive_proposition1()
    t1 = derive_theorem1(mode, form)
    ex = derive_exact_limits(mode)
    return {
        "zeta": p1.zeta,
        "xi": p1.xi,
        "phi": p1.phi,
        "psi": p1.psi,
        "kappa": p1.kappa,
        "zeta_minus_xi": p1.zeta_minus_xi,
        "energy_own": t1.energy_own,
        "energy_other": t1.energy_other,
        "margin": t1.margin,
        "what_plus": t1.what_plus,
        "what_minus": t1.what_minus,
        "C": t1.C,
        "bracket": t1.bracket,
        "snr_approx": t1.snr,
        "dlogsnr_dlogsigma": t1.dlogsnr_dlogsigma,
        "snr_approx_limit_zero": t1.limit_zero,
        "snr_approx_limit_inf": t1.limit_inf,
        "snr_exact_limit_zero": ex.ratio_of_means_zero,
        "snr_exact_limit_inf": ex.ratio_of_means_inf,
        "mean_of_ratios_limit_zero": ex.mean_of_ratios_zero,
        "mean_of_ratios_limit_inf": ex.mean_of_ratios_inf,
    }


def latex(mode: str = "noisy", form: str = "derived") -> dict[str, str]:
    """LaTeX of every expression of :func:`expressions` (``verify derive``, docs/math.md)."""
    return {key: sp.latex(value) for key, value in expressions(mode, form).items()}


def describe(mode: str = "noisy", form: str = "derived") -> Mapping[str, str]:
    """Plain-text form of every expression of :func:`expressions`."""
    return {key: str(value) for key, value in expressions(mode, form).items()}
