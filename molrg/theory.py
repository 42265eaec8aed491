"""Theorem 1 in numbers: the approximation in every form, its limits, its peak, the peak law.

Every formula evaluated here is a generated function of the SymPy derivation
(``molrg/_generated.py``, written by :mod:`molrg.symbolic.codegen`); this module adds
validation, namespaces, the peak finder and the composition of the peak law.  No SymPy
is imported.

Every function takes a :class:`~molrg.Setting` (or a :class:`~molrg.MoLRG`) and the
keyword-only ``input`` (default ``"noisy"``) and, where it matters, ``form``:

* ``"printed"`` (default) -- Theorem 1 as the paper prints it (the NeurIPS / arXiv v3
  margin ``D_t = (1 - delta^2) d / (2 sigma^2 (1 + sigma^2))``);
* ``"derived"`` -- the paper's expected-logit step applied to the model (margin
  ``d (1 - delta^2)^2 / (2 (1 + sigma^2)(delta^2 + sigma^2))``);
* ``"corrected"`` -- an approximation that keeps the randomness of the logits
  (:mod:`molrg.corrected`).

``sigma`` may be a scalar, a sequence or an array of any supported namespace (the result
has its namespace, dtype and shape; Python input is evaluated on NumPy in float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import corrected
from ._generated import (
    FORMULAS,
    MEAN_OF_RATIOS_MEAN_THRESHOLD,
    MEAN_OF_RATIOS_VARIANCE_THRESHOLD,
    PEAK_LAW_REFINEMENTS,
    FormFormulas,
    Formula,
)
from .arrays import array_namespace, to_numpy
from .asymptotes import exact_snr_limits
from .models import Setting, as_setting
from .options import ESTIMANDS, FORMS, INPUTS
from .validation import ParameterError, check_choice, check_sigma

__all__ = [
    "DEFAULT_FORM",
    "Peak",
    "approx_snr",
    "dlogsnr_dlogsigma",
    "exact_limits",
    "limits",
    "margin",
    "peak",
    "peak_law",
]

DEFAULT_FORM = "printed"
"""The form every function uses unless told otherwise: the theorem as stated."""
CLOSED_FORMS = ("printed", "derived")


def _iv(setting: Any, input: Any, form: Any = DEFAULT_FORM) -> tuple[Setting, str, str]:
    return (as_setting(setting), check_choice("input", input, INPUTS),
            check_choice("form", form, FORMS))


def _sigma_array(sigma: Any) -> tuple[ModuleType, Any]:
    """Validate ``sigma`` (any namespace) and return ``(xp, sigma as an xp array)``."""
    check_sigma(sigma)
    if hasattr(sigma, "__array_namespace__") or type(sigma).__module__.startswith("cupy"):
        xp = array_namespace(sigma)
        if sigma.dtype not in (xp.float32, xp.float64):
            sigma = xp.astype(sigma, xp.float64)
        return xp, sigma
    xnp = np
    return xnp, xnp.asarray(np.asarray(sigma, dtype=np.float64))


def _call(formula: Formula, xp: ModuleType, sigma: Any, setting: Setting) -> Any:
    """Evaluate a generated formula at ``sigma`` (unchecked), shaped like sigma."""
    values = {"sigma": sigma}
    for key in ("K", "d", "delta"):
        values[key] = xp.asarray(float(getattr(setting, key)), dtype=sigma.dtype)
    return xp.zeros_like(sigma) + formula(xp, **values)


def _form(input: str, form: str) -> FormFormulas:
    """Theorem 1's generated formulas in a closed ``form`` for ``input``."""
    forms = FORMULAS[input]
    return forms.printed if form == "printed" else forms.derived


def _form_call(pick: Callable[[FormFormulas], Formula], quantity: str, sigma: Any,
               setting: Any, input: str, form: str) -> Any:
    """The formula ``pick`` selects (named ``quantity`` for the corrected form, which has
    only ``"snr"``) in ``form``, validated and shaped like ``sigma``."""
    st, input, form = _iv(setting, input, form)
    xp, s = _sigma_array(sigma)
    if form == "corrected":
        return corrected.evaluate(quantity, xp, s, st, input)
    return _call(pick(_form(input, form)), xp, s, st)


def approx_snr(sigma: Any, setting: Any, /, *, input: str = "noisy",
               form: str = DEFAULT_FORM) -> Any:
    """Theorem 1's approximate SNR ``C/(K-1) * bracket^2`` in the given ``form``.

    Parameters
    ----------
    sigma : noise level(s), ``> 0`` and finite.
    setting : :class:`~molrg.Setting` ``(K, d, delta)`` or a :class:`~molrg.MoLRG`.
    input : ``"noisy"`` or ``"clean"``.
    form : ``"printed"``, ``"derived"`` or ``"corrected"``.

    Returns
    -------
    The approximation, shaped like ``sigma``.

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> setting = molrg.Setting(K=3, d=5, delta=0.2)
    >>> np.round(molrg.approx_snr([0.1, 0.5, 2.0], setting), 3)
    array([15.47 , 72.07 ,  0.762])
    >>> round(float(molrg.approx_snr(0.5, setting, form="derived")), 3)
    70.902
    """
    return _form_call(lambda f: f.snr, "snr", sigma, setting, input, form)


def margin(sigma: Any, setting: Any, /, *, input: str = "noisy",
           form: str = DEFAULT_FORM) -> Any:
    """Theorem 1's margin ``Delta`` (the logit gap of the expected logits) in ``form``.

    ``printed``: ``(1 - delta^2) d / (2 sigma^2 (1 + sigma^2))``; ``derived``:
    ``E g_k - E g_l = d (1 - delta^2)^2 / (2 (1 + sigma^2)(delta^2 + sigma^2))`` (the same
    for both inputs).  ``corrected`` has no single margin and raises ``ValueError``.

    Examples
    --------
    At ``sigma = 0.5``, ``K = 3``, ``d = 5``, ``delta = 0.2`` the printed margin is
    ``0.96 * 5 / (2 * 0.25 * 1.25) = 7.68``:

    >>> import molrg
    >>> setting = molrg.Setting(K=3, d=5, delta=0.2)
    >>> round(float(molrg.margin(0.5, setting)), 12)
    7.68
    >>> round(float(molrg.margin(0.5, setting, form="derived")), 6)
    6.355862
    """
    if isinstance(form, str) and form == "corrected":
        raise ParameterError("form='corrected' has no margin; valid: 'printed', 'derived'")
    return _form_call(lambda f: f.margin, "margin", sigma, setting, input, form)


def dlogsnr_dlogsigma(sigma: Any, setting: Any, /, *, input: str = "noisy",
                      form: str = DEFAULT_FORM) -> Any:
    """``d log SNR_approx / d log sigma`` (derived with ``sympy.diff``).

    Examples
    --------
    The slope changes sign at the peak (:func:`peak`): positive before, negative after.

    >>> import molrg
    >>> setting = molrg.Setting(K=3, d=5, delta=0.2)
    >>> p = molrg.peak(setting)
    >>> [bool(molrg.dlogsnr_dlogsigma(s, setting) > 0) for s in (p.sigma / 2, 2 * p.sigma)]
    [True, False]
    >>> abs(float(molrg.dlogsnr_dlogsigma(p.sigma, setting))) < 1e-8
    True
    """
    return _form_call(lambda f: f.dlogsnr_dlogsigma, "dlogsnr_dlogsigma", sigma, setting, input,
                      form)


def limits(setting: Any, /, *, input: str = "noisy",
           form: str = DEFAULT_FORM) -> tuple[float, float]:
    """Limits of the approximate SNR as sigma -> 0 and sigma -> infinity (derived).

    Examples
    --------
    The approximation has the exact limits (compare :func:`exact_limits`):

    >>> import molrg
    >>> low, high = molrg.limits(molrg.Setting(K=3, d=5, delta=0.2))
    >>> round(low, 9), round(high, 9)
    (12.5, 0.5)
    """
    st, input, form = _iv(setting, input, form)
    if form == "corrected":
        return corrected.limits(st, input)
    xnp = np
    one = xnp.ones(1)
    formulas = _form(input, form)
    return (float(_call(formulas.limit_zero, xnp, one, st)[0]),
            float(_call(formulas.limit_inf, xnp, one, st)[0]))


def exact_limits(setting: Any, /, *, input: str = "noisy",
                 estimand: str = "ratio-of-means") -> tuple[float, float]:
    """Derived limits of the *exact* SNR of the optimal denoiser (sigma -> 0, infinity).

    For ``estimand="mean-of-ratios"`` the limits are finite only when ``(K-1) d`` exceeds
    the derived pole of ``E[1/chi2_m]`` (2); otherwise ``inf`` is returned.

    Examples
    --------
    >>> import molrg
    >>> low, high = molrg.exact_limits(molrg.Setting(K=3, d=5, delta=0.2))
    >>> round(low, 9), round(high, 9)
    (12.5, 0.5)
    """
    st, input, _ = _iv(setting, input)
    estimand = check_choice("estimand", estimand, ESTIMANDS)
    if estimand == "mean-of-ratios" and not mean_of_ratios_finite(st):
        return math.inf, math.inf
    return exact_snr_limits(st.K, st.d, st.delta, input, estimand)


def mean_of_ratios_finite(setting: Setting, moment: int = 1) -> bool:
    """Whether the limiting per-sample ratio has a finite mean (``moment=1``) or variance (2).

    The rule ``(K-1) d > threshold`` comes from the derived poles of ``E[chi2_m^-j]``.
    """
    threshold = (MEAN_OF_RATIOS_MEAN_THRESHOLD if moment == 1
                 else MEAN_OF_RATIOS_VARIANCE_THRESHOLD)
    return (setting.K - 1) * setting.d > threshold


# ---------------------------------------------------------------------------------------
# Peak of the approximation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peak:
    """Location of the maximum of Theorem 1's approximate SNR over ``sigma > 0``.

    Attributes
    ----------
    sigma : argmax; ``0.0`` when the curve decreases from ``sigma -> 0`` (no interior peak).
    snr : the approximate SNR there (the sigma -> 0 limit when not interior).
    interior : whether the maximum is attained at an interior noise level.
    n_local_max : number of interior local maxima found by the sign scan.
    bracket : ``(lo, hi)`` in sigma where the derivative changes sign (nan if none).
    form : the form of the approximation.
    """

    sigma: float
    snr: float
    interior: bool
    n_local_max: int
    bracket: tuple[float, float]
    form: str = DEFAULT_FORM

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "snr": self.snr, "interior": self.interior,
                "n_local_max": self.n_local_max, "bracket": list(self.bracket),
                "form": self.form}


SCAN_POINTS = 4001


def peak(setting: Any, /, *, input: str = "noisy", form: str = DEFAULT_FORM) -> Peak:
    """The peak of the approximate SNR (Brent on the derived derivative).

    Bracketing.  The derived ``f = d log SNR / d log sigma`` is continuous.  The search
    interval ``[1e-4 delta, hi]`` starts where ``sigma^2/delta^2 = 1e-8`` (the curve sits
    on its sigma -> 0 limit there) and ``hi`` grows by decades until ``f(hi) < 0``, where
    the curve has entered its monotone tail (``margin -> 0``).  A sign scan of ``f`` on
    ``SCAN_POINTS`` log-spaced points then lists every + to - change; each such cell
    provably contains a root (intermediate value theorem), Brent's method refines it to
    ``|d log sigma| < 1e-13``, and the largest local maximum is returned.  If ``f < 0``
    already at the left end and no + to - change occurs, the maximum is the sigma -> 0
    limit.  The corrected form has no closed-form derivative: its peak is a bounded
    maximisation of the curve after the same scan (:func:`molrg.corrected.peak`).

    Examples
    --------
    >>> import molrg
    >>> p = molrg.peak(molrg.Setting(K=3, d=5, delta=0.2))
    >>> round(p.sigma, 4), round(p.snr, 2), p.interior
    (0.5901, 81.99, True)
    """
    st, input, form = _iv(setting, input, form)
    if form == "corrected":
        return Peak(*corrected.peak(st, input), form="corrected")
    xnp = np
    from scipy.optimize import brentq

    formulas = _form(input, form)

    def f(x: Any) -> Any:
        return to_numpy(_call(formulas.dlogsnr_dlogsigma, xnp, xnp.asarray(x), st))

    def g(x: Any) -> Any:
        return to_numpy(_call(formulas.snr, xnp, xnp.asarray(x), st))

    lo = 1e-4 * st.delta
    hi = 10.0
    while float(f(np.asarray(hi))) >= 0.0:
        hi *= 10.0
        if hi > 1e12:  # pragma: no cover - no form grows without bound
            raise RuntimeError(f"no decreasing tail found for {st}, input={input}, form={form}")
    u = np.linspace(math.log(lo), math.log(hi), SCAN_POINTS)
    fu = f(np.exp(u))
    pos = fu > 0
    cells = np.nonzero(pos[:-1] & ~pos[1:])[0]
    roots = []
    for i in cells:
        root = brentq(lambda t: float(f(np.asarray(math.exp(t)))), u[i], u[i + 1],
                      xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
        roots.append(math.exp(root))
    limit_zero = limits(st, input=input, form=form)[0]
    if not roots:
        return Peak(0.0, limit_zero, False, 0, (math.nan, math.nan), form)
    values = [float(g(np.asarray(r))) for r in roots]
    best = int(np.argmax(values))
    if values[best] < limit_zero:
        return Peak(0.0, limit_zero, False, len(roots), (math.nan, math.nan), form)
    i = cells[best]
    return Peak(roots[best], values[best], True, len(roots),
                (math.exp(u[i]), math.exp(u[i + 1])), form)


# ---------------------------------------------------------------------------------------
# Peak-location law (beyond the paper; see docs/peak_law.md)
# ---------------------------------------------------------------------------------------
def peak_law(setting: Any, /, *, input: str = "noisy") -> float:
    """Closed-form large-``d`` law for the peak of the *derived* form, ``sigma*(K, d, delta)``.

    ``sigma* = sqrt(T(T(s0)))`` with the start ``s0`` and the Lambert-W map ``T`` of
    :mod:`molrg.symbolic.peak_law`.  ``nan`` where the law does not exist (a Lambert-W
    argument below ``-1/e``).  Measured error over the box: ``docs/peak_law.md``.

    Examples
    --------
    Close to the derived form's peak at large ``d``:

    >>> import molrg
    >>> setting = molrg.Setting(K=3, d=50, delta=0.2)
    >>> law = molrg.peak_law(setting)
    >>> round(law, 4), round(law / molrg.peak(setting, form="derived").sigma, 3)
    (1.181, 1.003)
    """
    st, input, _ = _iv(setting, input)
    xnp = np
    one = xnp.ones(())
    values = {"K": float(st.K), "d": float(st.d), "delta": float(st.delta)}
    law = FORMULAS[input]

    def call(formula: Formula, **extra: float) -> float:
        args = {key: value * one for key, value in {**values, **extra}.items()}
        with np.errstate(all="ignore"):
            return float(np.real(formula(xnp, **args)))

    if not call(law.peak_law_z0) >= -math.exp(-1.0):
        return math.nan
    s = call(law.peak_law_s0)
    for _ in range(PEAK_LAW_REFINEMENTS):
        if not (math.isfinite(s) and s > 0 and call(law.peak_law_z_refine, s=s) >= -math.exp(-1.0)):
            return math.nan
        s = call(law.peak_law_refine, s=s)
    return math.sqrt(s) if math.isfinite(s) and s > 0 else math.nan
