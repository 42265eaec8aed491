"""One plan for every estimate: the single validation of :func:`molrg.snr`,
:func:`molrg.snr_peak` and :func:`molrg.probe_accuracy`, and the choice of method.

Every estimate is a :class:`Request` (what to estimate) on a model at noise levels with a
method object (:class:`~molrg.Quadrature`, :class:`~molrg.MonteCarlo`, or any
:class:`~molrg.options.Method`).  :func:`make_plan` validates all of it once, before any
work, asking the model and the denoiser what they can do (their capabilities:
``model.setting``, ``model.ambient``, :func:`molrg.denoisers.is_optimal`,
:func:`molrg.denoisers.dae_parameters_of`, a ``points`` attribute) -- never their class --
and lets the method objects answer :meth:`~molrg.options.Method.applies`.
:func:`choose_method` is the one place the ``"auto"`` choice is made.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np

from . import _backend
from .denoisers import check_denoiser, dae_parameters_of, is_optimal
from .mixtures import LowRankMixture
from .models import check_model
from .options import (
    DENOMINATORS,
    ESTIMANDS,
    INPUTS,
    PROBES,
    Capabilities,
    Method,
    MonteCarlo,
    resolve_method,
)
from .theory import mean_of_ratios_finite
from .validation import ParameterError, ParameterTypeError, check_choice, check_int, check_sigma

__all__ = ["MAX_CLASSES", "PROBE_MAX_SAMPLES", "PROBE_SAMPLES", "QUADRATURE_DELTA_MIN", "Plan", "Request",
           "capabilities", "choose_method", "denoiser_kind", "make_plan"]

QUADRATURE_DELTA_MIN = 1e-4
"""Smallest ``delta`` for ``method='quadrature'``: measured, the quadrature's error bound
stays below 1e-3 relative on 40-point grids around both peaks for ``K, d`` up to
``(1000, 512)`` at ``delta = 1e-4`` (``(100, 50)``: 3e-5); below it the bound grows
without limit (``(10, 20, 1e-6)``: 46 relative; ``1e-8``: ``OverflowError``).  Smaller
``delta`` is refused, naming Monte Carlo as the alternative."""

MAX_CLASSES = 10**5
"""Largest ``K`` and ``d`` of a Setting that :func:`molrg.snr` evaluates (quadrature
measured up to ``K = d = 1e5``, 17-22 s for 40 points; beyond, arrays of ``K`` or ``d``
terms no longer fit a bounded memory)."""

PROBE_SAMPLES = 20_000
"""Monte Carlo test samples of :func:`molrg.probe_accuracy` when its method is a word."""
PROBE_MAX_SAMPLES = 10**9
"""Most Monte Carlo test (or training) samples of :func:`molrg.probe_accuracy`."""


@dataclass(frozen=True)
class Request:
    """What one estimate computes (the words of :func:`molrg.snr` or
    :func:`molrg.probe_accuracy`); ``probe`` is ``None`` for an SNR."""

    input: str = "noisy"
    estimand: str = "ratio-of-means"
    denominator: str = "others"
    denoiser: Any = None
    probe: str | None = None
    train_samples: int | None = None


@dataclass(frozen=True)
class Plan:
    """A validated estimate: the request's words checked, the method resolved.

    ``kind`` names what the denoiser is for the probes (:func:`denoiser_kind`);
    ``train_samples`` is resolved (0 unless the linear probe)."""

    model: Any
    sigma: np.ndarray
    request: Request
    method: Method
    caps: Capabilities
    kind: str
    train_samples: int = 0

    @cached_property
    def mixture(self) -> LowRankMixture | None:
        """The model as a :class:`~molrg.LowRankMixture` (``None`` without ``n``)."""
        return self.model.to_mixture() if self.model.ambient else None

    @property
    def monte_carlo(self) -> MonteCarlo:
        """The method, when it is a simulation (``method.monte_carlo``)."""
        if not self.method.monte_carlo:
            raise ParameterError(f"method={self.method.name!r} is not Monte Carlo")
        return cast(MonteCarlo, self.method)

    @property
    def input(self) -> str:
        return self.request.input

    @property
    def estimand(self) -> str:
        return self.request.estimand

    @property
    def denominator(self) -> str:
        return self.request.denominator

    @property
    def denoiser(self) -> Any:
        return self.request.denoiser

    @property
    def probe(self) -> str | None:
        return self.request.probe


def _true_dae(model: Any, denoiser: Any) -> bool:
    """Whether ``denoiser`` is a DAE with exactly the model's basis, ``K`` and ``delta``."""
    mine, theirs = model.dae_parameters, dae_parameters_of(model, denoiser)
    return mine is not None and theirs is not None and theirs.K == mine.K \
        and theirs.basis.shape == mine.basis.shape and theirs.delta == mine.delta \
        and bool(np.array_equal(theirs.basis, mine.basis))


def denoiser_kind(model: Any, denoiser: Any) -> str:
    """What ``denoiser`` is on ``model``, asked of its capabilities: ``"molrg-optimal"``
    (the idealised MoLRG's optimal denoiser, or a DAE equal to it), ``"mixture-optimal"``,
    ``"dae"`` (Proposition 1's form, another basis), ``"empirical"`` (has ``points``) or
    ``"callable"``."""
    if is_optimal(model, denoiser):
        return "molrg-optimal" if model.setting is not None else "mixture-optimal"
    if getattr(denoiser, "dae_parameters", None) is not None:
        return "molrg-optimal" if _true_dae(model, denoiser) else "dae"
    shape = getattr(getattr(denoiser, "points", None), "shape", None)
    if shape is not None and len(shape) == 2:
        return "empirical"
    return "callable"


def capabilities(model: Any, denoiser: Any, request: Request) -> Capabilities:
    """What the model and denoiser allow for ``request`` (the exact methods need the
    idealised MoLRG's optimal denoiser; the SNR's quadrature also the ratio of means, the
    probes' the Bayes probe)."""
    if request.probe is None:
        reduced = model.setting is not None and is_optimal(model, denoiser)
        exact = reduced and request.estimand == "ratio-of-means"
    else:
        exact = reduced = request.probe == "bayes" \
            and denoiser_kind(model, denoiser) == "molrg-optimal"
    return Capabilities(exact=exact, reduced=reduced, ambient=bool(model.ambient))


def choose_method(method: Any = "auto", *, model: Any = None, denoiser: Any = None,
                  estimand: str = "ratio-of-means",
                  monte_carlo: MonteCarlo | None = None) -> Method:
    """The method object for a method word (or object) and an estimand: the ``"auto"``
    choice of :func:`molrg.snr`, in one place.

    ``"auto"`` (or :class:`~molrg.Auto`): :class:`~molrg.Quadrature` where it applies (the
    optimal denoiser of the idealised MoLRG, ratio of means), else the ``Auto``'s fallback
    or ``monte_carlo`` (default :class:`~molrg.MonteCarlo`), whose ``"auto"`` simulator is
    resolved when ``model`` is given.  ``model=None`` stands for an idealised MoLRG (a
    :class:`~molrg.Setting`) with its optimal denoiser.  A method that does not apply raises a
    :class:`~molrg.ParameterError` naming the valid methods.

    Examples
    --------
    >>> import molrg
    >>> molrg.choose_method("auto")
    Quadrature(rule='accurate')
    >>> molrg.choose_method("auto", estimand="mean-of-ratios",
    ...                     model=molrg.Setting(3, 5, 0.2)).simulator
    'reduced'
    >>> molrg.choose_method(molrg.Auto(molrg.MonteCarlo(samples=5_000)),
    ...                     estimand="mean-of-ratios").samples
    5000
    >>> molrg.choose_method("quadrature", estimand="mean-of-ratios")
    Traceback (most recent call last):
    ...
    molrg.validation.ParameterError: method='quadrature' needs the optimal denoiser ...
    """
    check_choice("estimand", estimand, ESTIMANDS)
    if monte_carlo is not None and not isinstance(monte_carlo, MonteCarlo):
        raise ParameterTypeError(f"monte_carlo={monte_carlo!r} must be None or a "
                                 "molrg.MonteCarlo")
    if model is None:
        caps = Capabilities(exact=estimand == "ratio-of-means", reduced=True, ambient=True)
    else:
        caps = capabilities(check_model(model), denoiser, Request(estimand=estimand,
                                                                  denoiser=denoiser))
    return _snr_method(method, caps, estimand, monte_carlo, resolve=model is not None)


def _snr_method(method: Any, caps: Capabilities, estimand: str,
                monte_carlo: MonteCarlo | None, *, resolve: bool = True) -> Method:
    """The SNR's method for ``caps`` (see :func:`choose_method`), with its errors."""
    resolved = resolve_method(method, monte_carlo).choose(caps, monte_carlo or MonteCarlo())
    if not resolved.applies(caps):
        raise ParameterError(_not_applicable(resolved, caps, estimand))
    return resolved.resolved(caps) if resolve else resolved


def _not_applicable(method: Method, caps: Capabilities, estimand: str) -> str:
    valid = caps.valid()
    if method.exact:
        why = "the mean of ratios" if estimand == "mean-of-ratios" and caps.reduced else \
            "this denoiser or model"
        return (f"method={method.name!r} needs the optimal denoiser of the idealised MoLRG "
                f"and the ratio of means, so it does not apply to {why}; valid methods: "
                f"{[m for m in valid if m != 'quadrature']}")
    if method.name == "reduced":
        return ("method='reduced' is exact only for the optimal denoiser of the idealised "
                f"MoLRG; valid methods: {[m for m in valid if m == 'ambient']}")
    if method.name == "ambient":
        return ("method='ambient' needs a model with n and bases (molrg.MoLRG), not a "
                "molrg.Setting; valid methods: ['quadrature', 'reduced']")
    return f"method={method.name!r} does not apply here; valid methods: {valid}"


# ---------------------------------------------------------------------------------------
# The one validation
# ---------------------------------------------------------------------------------------
def make_plan(model: Any, sigma: Any, method: Any, request: Request) -> Plan:
    """Validate an estimate once, before any work, and resolve its method.

    Shared by :func:`molrg.snr`, :func:`molrg.snr_peak` and :func:`molrg.probe_accuracy`:
    the model (its :class:`~molrg.models.Model` capabilities), ``sigma``, the request's
    words, the denoiser (callable, runs on the model), then the method (does it apply?)
    and the method's own limits.  Raises a :class:`~molrg.ParameterError` naming the
    parameter, its value and what is valid.
    """
    if request.probe is None:
        _check_size(model)  # before check_model, which asks for K-sized weights
    model = check_model(model)
    sig = check_sigma(sigma)
    check_choice("input", request.input, INPUTS)
    if request.probe is None:
        check_choice("estimand", request.estimand, ESTIMANDS)
        check_choice("denominator", request.denominator, DENOMINATORS)
    else:
        check_choice("probe", request.probe, PROBES)
    _check_denoiser(model, request.denoiser, request.probe is not None)
    caps = capabilities(model, request.denoiser, request)
    kind = denoiser_kind(model, request.denoiser)
    if request.probe is None:
        resolved = _snr_checks(model, caps, method, request)
        return Plan(model, sig, request, resolved, caps, kind)
    resolved, train = _probe_checks(model, caps, kind, method, request)
    return Plan(model, sig, request, resolved, caps, kind, train)


def _check_denoiser(model: Any, denoiser: Any, probe: bool) -> None:
    """Callable, and runs on the model: the ``n`` of its DAE basis or points (checked
    first for a probe, whose message names the denoiser's ``n``), its ``check_model``."""
    if denoiser is not None and callable(denoiser) and not model.ambient:
        raise ParameterError("a denoiser needs a model with n and bases; valid: molrg.MoLRG "
                             "or molrg.LowRankMixture (a molrg.Setting has the optimal "
                             "denoiser only)")
    if denoiser is not None and callable(denoiser):
        params = getattr(denoiser, "dae_parameters", None)
        points = getattr(getattr(denoiser, "points", None), "shape", (0, model.n))
        n = params.basis.shape[0] if probe and params is not None else points[-1]
        if n != model.n:
            raise ParameterError(f"denoiser has n={n}; valid: the model's n={model.n}")
    check_denoiser(model, denoiser)


def _check_monte_carlo(model: Any, mc: MonteCarlo, low: int) -> None:
    if mc.simulator == "ambient" and mc.samples < low:
        raise ParameterError(f"samples={mc.samples} is too small for method='ambient' "
                             f"(stratified by class); valid: samples >= 2*K = {low}")
    if mc.backend == "cupy":
        _backend.namespace("cupy")  # raises ValueError with the install hint


def _check_size(model: Any) -> None:
    """``K`` and ``d`` of an idealised model within :data:`MAX_CLASSES`."""
    setting = getattr(model, "setting", None)
    for name in ("K", "d"):
        value = getattr(setting, name, None)
        if isinstance(value, int) and value > MAX_CLASSES:
            raise ParameterError(f"{name}={value!r} is out of range; valid: {name} <= "
                                 f"{MAX_CLASSES:g}")


def _snr_checks(model: Any, caps: Capabilities, method: Any, request: Request) -> Method:
    setting = model.setting
    first = resolve_method(method).choose(caps, MonteCarlo())
    if setting is not None and first.exact and setting.delta < QUADRATURE_DELTA_MIN:
        raise ParameterError(
            f"delta={setting.delta!r} is out of range for method='quadrature' (its "
            f"error bound explodes); valid: delta >= {QUADRATURE_DELTA_MIN:g}, or a Monte "
            "Carlo method ('reduced', 'ambient')")
    resolved = _snr_method(method, caps, request.estimand, None)
    if resolved.monte_carlo:
        _check_monte_carlo(model, cast(MonteCarlo, resolved), 2 * model.K)
    if request.estimand == "mean-of-ratios" and caps.reduced:
        _check_mean_of_ratios(setting)
    return resolved


def _check_mean_of_ratios(setting: Any) -> None:
    m = (setting.K - 1) * setting.d
    if not mean_of_ratios_finite(setting, 1):
        raise ParameterError(
            f"estimand='mean-of-ratios' has an infinite mean for (K-1)*d = {m} (E[1/chi2_m] "
            "diverges for m <= 2); valid: (K-1)*d >= 3 or estimand='ratio-of-means'")
    if not mean_of_ratios_finite(setting, 2):
        warnings.warn(
            f"estimand='mean-of-ratios' has infinite variance for (K-1)*d = {m} <= 4: its "
            "standard error is not reliable", RuntimeWarning, stacklevel=6)  # the caller of snr / snr_peak


def _probe_checks(model: Any, caps: Capabilities, kind: str, method: Any,
                  request: Request) -> tuple[Method, int]:
    K, probe = model.K, request.probe
    template = MonteCarlo(samples=PROBE_SAMPLES)
    resolved = resolve_method(method, template)
    settings = cast(MonteCarlo, resolved) if resolved.monte_carlo \
        else getattr(resolved, "fallback", None) or template  # Auto's Monte Carlo
    check_int("samples", settings.samples, low=2 * K, high=PROBE_MAX_SAMPLES)
    train = request.train_samples
    if train is not None:
        if probe != "linear":
            raise ParameterError(f"train_samples={train!r} applies to probe='linear' "
                                 f"only; valid: None for probe={probe!r}")
        train = check_int("train_samples", train, low=2 * K, high=PROBE_MAX_SAMPLES)
    if not model.ambient and probe != "bayes":
        raise ParameterError(f"probe={probe!r} needs a model with n and bases (molrg.MoLRG or "
                             "molrg.LowRankMixture); a molrg.Setting has the Bayes probe only")
    chosen = resolved.choose(caps, template)
    if chosen is not resolved and chosen.monte_carlo \
            and cast(MonteCarlo, chosen).simulator == "auto":  # Auto's: the ambient simulator
        chosen = cast(MonteCarlo, chosen).replace(simulator="ambient")
    resolved = chosen
    if resolved.name in ("quadrature", "reduced") and not caps.exact:
        raise ParameterError(
            f"method={resolved.name!r} applies to probe='bayes' with the optimal denoiser of "
            "the idealised MoLRG only; valid: 'ambient' (Monte Carlo in R^n)")
    if not resolved.applies(caps):
        raise ParameterError(_not_applicable(resolved, caps, "ratio-of-means"))
    resolved = resolved.resolved(caps)
    if probe == "bayes" and kind == "callable":
        raise ParameterError(
            "probe='bayes' needs a denoiser whose feature map is known (None, "
            "molrg.OptimalDenoiser, molrg.DAE, or one with a 'points' attribute such as "
            "molrg.EmpiricalDenoiser); valid probes for any callable: 'linear', 'energy'")
    if resolved.monte_carlo:
        _check_monte_carlo(model, cast(MonteCarlo, resolved), 0)
        if train is None:
            train = cast(MonteCarlo, resolved).samples if probe == "linear" else 0
    return resolved, train or 0
