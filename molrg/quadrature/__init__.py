r"""Deterministic, high-accuracy SNR of the optimal MoLRG denoiser (ratio of means).

Model (all formulas derived elsewhere; ``s = sigma``)
-----------------------------------------------------
``zeta = 1/(1+s^2)``, ``xi = delta^2/(delta^2+s^2)``,
``c = zeta - xi = s^2 (1-delta^2) / ((1+s^2)(delta^2+s^2))`` (factored, no cancellation),
``kappa = (1-delta^2) / (2 (1+s^2)(delta^2+s^2))``.
Input variances: noisy ``v0 = 1+s^2, v1 = delta^2+s^2``; clean ``v0 = 1, v1 = delta^2``.
``X_0..X_{K-1}`` iid ``chi2_d``; ``r_0 = v0 X_0`` (true class), ``r_l = v1 X_l``;
logits ``g_l = kappa r_l``; ``w = softmax(g)``; ``beta_l = xi + c w_l``;
``N = beta_0^2 r_0``, ``D = sum_{l>=1} beta_l^2 r_l``.  Target ``SNR = E[N] / E[D]`` with

    E[N] = xi^2 v0 d + 2 xi c A_1 + c^2 A_2,      A_m = E[w_0^m r_0],
    E[D] = (K-1) (xi^2 v1 d + 2 xi c B_1 + c^2 B_2),  B_m = E[w_1^m r_1].

Method (derivation and error analysis here; node counts and accuracy measured by
``tests/test_quadrature.py`` against ``tests/reference_quadrature.py``)
----------------------------------------------------------------------
Write ``a0 = kappa v0``, ``a1 = kappa v1`` (logit scales; ``a1 < 1/2`` always), let ``G_l``
be iid standard Gumbel and ``E_m = log Gamma_m`` with ``Gamma_m ~ Gamma(m, 1)`` (density
``k_m(y) = exp(m y - e^y) / Gamma(m)``), all independent of the ``X``.  With
``(1 + y)^{-m} = E exp(-Gamma_m y)`` and ``exp(-e^{-x}) = P(G <= x)`` (Gumbel max), and
size-biasing ``x f_d(x) = d f_{d+2}(x)`` (``X' ~ chi2_{d+2}``):

    A_m / (v0 d) = P(a0 X'_0 - E_m > Z),  Z = max_{l>=1} (a1 X_l + G_l),
    B_m / (v1 d) = P(a1 X'_1 - E_m > Z'), Z' = max(a0 X_0 + G_0, max_{l>=2} (a1 X_l + G_l)).

With ``F_j(u) = P(a_j X + G <= u) = E exp(-e^{a_j X - u})`` (the one-block Laplace
functional ``L_j(t)`` at ``t = e^{-u}``) these are one-dimensional integrals over a logit
level ``u``:

    A_m / (v0 d) = int S_m(u) phi(u) du,  S_m(u) = P(a0 X' - E_m > u),
                   phi = (F_1^{K-1})' = (K-1) f_1 F_1^{K-2},
    B_m / (v1 d) = int p_m(u) F_0(u) F_1(u)^{K-2} du,  p_m = density of a1 X' - E_m.

``K`` enters only as an exponent (cost independent of ``K``).  The integrands are analytic
in ``|Im u| < pi/2``: trapezoidal rule on the lattice ``u in h Z`` (error ``~e^{-pi^2/h}``).
Every table (``F_1``, ``1 - F_1``, ``f_1``, ``S_m``, ``F_0``, ``p_m``) is
``T(u) = E_X psi(a X - u) = int k_m(y) G((u + y)/a) dy`` with ``G`` a chi-square cdf,
survival function or density and ``psi = exp(-e^y)``, ``P(m, e^y)`` or ``k_m(y)``:

* small ``a`` (``_regime``): a rule in the chi-square variable (Gauss rule for the gamma
  density if ``nu < 20``, trapezoid in ``z = sqrt(x)`` otherwise);
* otherwise a lattice sum: the kernel on the same lattice, so ``G`` is sampled once on
  ``h Z`` and ``T`` is a discrete correlation (near kernel) plus exact exponential
  recursions (far kernel tail ``y < Y_FAR``).  The chi-square branch point ``G ~ x^{nu/2}``
  at ``x = 0`` sits on a lattice point and is corrected by Navot's generalised
  Euler-Maclaurin series ``sum_k zeta(-g-k) phi^{(k)}(0) h^{g+k+1}/k!`` where
  ``e^{-u} <= 3`` (the step is refined to ``h/q <= 2a`` when needed for convergence), and
  replaced by a generalised Gauss-Laguerre rule after ``t = e^{-u}(e^s - 1)`` where the
  kernel has a boundary layer (``e^{-u} > 3``).

Error bound: the computation is repeated with the comparison rule :meth:`Rule.coarse`
(step ``1.5 h``, Gauss nodes / 1.5); ``|fine - coarse|`` bounds the error of the fine
result (geometric convergence: the fine error is about ``|coarse error|^{1.5}``), plus the
truncated tails of the ``u`` integrals (evaluated, or bounded in closed form) and a
rounding allowance ``ROUNDING``, propagated through the positive combinations above.

Assumptions (validated by the caller): ``K >= 2`` integer, ``d >= 1`` integer,
``0 < delta < 1``, ``sigma > 0`` finite, ``input in {"noisy", "clean"}``.  Tested over
``sigma in [1e-4, 1e3]``, ``K <= 1e6``, ``d <= 512``, ``delta in [0.01, 0.99]``.  Pure
NumPy/SciPy, float64.  Underflow to zero of negligible terms is expected and silenced
locally (``np.errstate(under="ignore")``); no overflow / invalid operation occurs.

Modules (each one job; this package re-exports the public names)
----------------------------------------------------------------
* :mod:`.rules` -- :class:`Rule`, :data:`RULES`, the lattice :class:`~.rules.Grid` and
  cached ingredients (Gauss rules, zeta values, kernels, chi-square functions);
* :mod:`.branch` -- the branch-point corrections (Navot series, boundary layer);
* :mod:`.tables` -- the chi-square tables ``T(u)``;
* :mod:`.moments` -- moment assembly: :func:`moments`, :func:`snr_ratio_of_means`;
* :mod:`.peak` -- the exact-peak finder: :func:`exact_peak`, :func:`exact_peak_details`,
  :func:`snr_limits`.
"""

from __future__ import annotations

from ..options import Input
from .moments import ExactMoments, moments, snr_ratio_of_means
from .peak import ExactPeak, PeakDetails, exact_peak, exact_peak_details, snr_limits
from .rules import RULES, Rule

Moments = ExactMoments
"""Former name of :class:`ExactMoments` (``molrg.montecarlo.Moments`` is another concept)."""
Peak = ExactPeak
"""Former name of :class:`ExactPeak` (``molrg.Peak`` is the theory's peak)."""

__all__ = [
    "RULES",
    "ExactMoments",
    "ExactPeak",
    "Input",
    "Moments",
    "Peak",
    "PeakDetails",
    "Rule",
    "exact_peak",
    "exact_peak_details",
    "moments",
    "snr_limits",
    "snr_ratio_of_means",
]
