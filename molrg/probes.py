"""``molrg.probe_accuracy``: how well a probe recovers the class from a denoiser's features.

The reviewers' question ("does a higher SNR at a noise level mean a better probe there?")
needs a classification accuracy beside the SNR.  Three probes, all evaluated on *features*
of a denoiser at noise level ``sigma`` (``input="noisy"``: the denoiser sees ``x_t``;
``"clean"``: it sees ``x0`` and uses ``sigma`` only as the level it assumes):

``"bayes"`` -- the Bayes classifier on the features (the best any probe can do).
    *Idealised MoLRG, optimal denoiser* (also the :class:`~molrg.DAE` with the model's own
    basis and ``delta``): the features are ``h = D U^T x`` with ``||h_l||^2 = beta_l^2 r_l``,
    ``r_l = ||U_l^T x||^2``.  Since ``beta_l = xi + (zeta - xi) w_l`` grows with ``w_l =
    softmax(kappa r)_l`` and ``zeta > xi``, ``beta_l^2 r_l`` is ordered like ``r_l``: the
    projection probe ``argmax_l ||U_l^T xhat||^2`` equals ``argmax_l r_l``, which is the
    Bayes rule on the *input* (equal priors; the class posterior is ``softmax(kappa r)``).
    A function of the input cannot beat the Bayes rule on the input, so the projection
    probe is Bayes-optimal on the features, and its accuracy is the one-dimensional integral

        ``P(correct) = int f_own(t) F_other(t)^(K-1) dt``,

    ``r_own ~ v_own chi2_d``, ``r_other ~ v_other chi2_d`` (noisy: ``1 + sigma^2`` and
    ``delta^2 + sigma^2``; clean: ``1`` and ``delta^2``).  It depends on ``(K, d)`` and the
    variance ratio ``rho = v_own / v_other`` only, and increases with ``rho``.
    ``method="quadrature"`` (the default here) evaluates it with SciPy's adaptive
    quadrature; ``stderr`` is then a bound on the numerical error.
    **Consequence (data processing):** ``x_t`` is ``x_s`` plus independent noise for
    ``t > s``, so the Bayes accuracy on any feature of ``x_t`` can only fall as ``sigma``
    grows (noisy input; ``rho`` falls from ``1/delta^2`` to 1, accuracy from its clean value
    to ``1/K``), and is constant in ``sigma`` for the clean input.  It is never unimodal.

    *Other denoisers* (Monte Carlo).  The rule used is the Bayes rule on the statistic of the
    input that the feature map keeps, which is the Bayes rule on the features whenever the
    map is injective on that statistic:

    * optimal denoiser of a :class:`~molrg.LowRankMixture`: by Tweedie the Jacobian of
      ``x -> E[x0 | x_t = x]`` is ``Cov[x0 | x_t] / sigma^2``, positive definite on the span
      of the bases and means when ``delta > 0``, so the map is injective there and nothing
      class-relevant is lost: the rule is ``argmax class_posterior(model, x_t)`` (clean
      input: the posterior of ``x0``, evaluated at ``sigma = CLEAN_SIGMA``);
    * :class:`~molrg.DAE` with any basis ``V``: ``h = D V^T x`` is the posterior-mean map of
      the idealised MoLRG with basis ``V`` in coordinates, injective in ``y = V^T x`` by the
      same argument; the rule is the exact Gaussian-mixture posterior of ``y``
      (``y | k ~ N(V^T mu_k, V^T Sigma_k V + sigma^2 I)``, dense ``K d x K d``);
    * the empirical (memorising) denoiser of points ``p_i`` (anything with a ``points``
      attribute): its Jacobian is ``Cov_softmax(p) / sigma^2``, positive definite on the span
      of the differences ``p_i - p_1``, so the features keep exactly the projection of the
      input on that span: the rule is the Gaussian-mixture posterior of that projection, or
      ``class_posterior`` itself when the span contains the bases and mean differences.
      (Mathematically exact; in floating point the softmax saturates at small ``sigma``, so
      the *features* there are effectively the nearest training point.  The Bayes probe
      measures information, not how usable the representation is.)
    * any other callable: refused (the map is unknown); use ``"linear"`` or ``"energy"``.

``"linear"`` -- multinomial logistic regression (scikit-learn, L2 with ``C = 1``, after
    standardising each feature) on the features, trained on ``train_samples`` fresh
    samples and tested on ``samples`` independent ones; ``stderr`` is the binomial standard
    error of the held-out accuracy.  Features: ``h = D V^T x`` for a DAE (and the optimal
    denoiser of the idealised MoLRG, which is the DAE with the model's basis), ``xhat``
    otherwise (for ``xhat = V h`` with orthonormal ``V`` the two are a rotation apart).
    The classes have zero mean and are symmetric under ``x -> -x`` (so are ``h`` and
    ``xhat``): a linear probe can only use differences of spread through its biases and
    stays near chance (``science.md`` section 5).

``"energy"`` -- the oracle projection probe ``argmax_l ||U_l^T xhat||^2`` with the model's
    TRUE bases ``U_l`` (the SNR's numerator turned into a classifier; the paper's Table 9
    probe fits the class subspaces from training features instead, which converges to this
    for features in ``span(U)``).  Raw energies: for unequal ranks or weights it is not the
    Bayes rule.

Monte Carlo (``method="ambient"``, or ``"reduced"`` for the Bayes probe of the idealised
MoLRG: ``K`` chi-square energies per sample) is stratified by class (``samples // K`` per
class, combined with the mixing weights) and uses common random numbers across ``sigma``
(the same draws at every noise level, so curves are smooth).  Sampling, denoising and the
energy and Bayes rules run on the array namespace of ``backend`` (NumPy, CuPy or
``array_api_strict``); the logistic regression is NumPy-only (scikit-learn), so features
are copied to the host for it; the small dense ``q x q`` Gaussian set-up and the quadrature
run in float64 NumPy on the host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend
from . import _generated as gen
from .denoisers import DAE, OptimalDenoiser
from .mixtures import LowRankMixture
from .models import MoLRG, Setting
from .options import BACKENDS, INPUTS, PROBES
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_choice,
    check_int,
    check_sigma,
)

__all__ = [
    "CLEAN_SIGMA",
    "PROBE_METHODS",
    "ProbeResult",
    "bayes_accuracy_exact",
    "probe_accuracy",
]

PROBE_METHODS = ("auto", "quadrature", "reduced", "ambient")
"""Methods of :func:`probe_accuracy` (``auto``: quadrature where it applies, else ambient)."""
CLEAN_SIGMA = 1e-4
"""Noise level at which the Bayes rule on a clean ``x0`` is evaluated for general mixtures
(adds ``1e-8`` to every variance: a relative change of ``1e-8 / delta^2`` in the logits)."""
MAX_SAMPLES = 10**9
QUAD_TAIL = 1e-18
"""Probability mass of ``chi2_d`` beyond the quadrature's upper limit (part of the bound)."""
SPAN_TOL = 1e-8
"""Relative residual below which a subspace counts as contained in another."""


@dataclass(frozen=True)
class ProbeResult:
    """Probe accuracy at one or more noise levels, with its error.

    Attributes
    ----------
    estimate, stderr : float64 arrays shaped like ``sigma``: the accuracy (``sum_k pi_k
        P(correct | k)``) and its standard error (Monte Carlo: the 95% Wilson score
        interval's half-width / 1.96, classes as strata, so that an accuracy of 0 or 1 does
        not report an error of 0; ``lower``/``upper`` are the interval) or, for quadrature, a
        bound on the numerical error.
    n_samples : test samples per ``sigma`` (all classes together); 0 for quadrature.
    train_samples : training samples of the linear probe per ``sigma`` (0 otherwise).
    sigma : the noise levels (float64, the shape given).
    probe, input, method : what was computed (``method``: ``"quadrature"``, ``"reduced"``
        or ``"ambient"``).
    classifier : the decision rule actually applied, in words.
    error_method : how ``stderr`` was obtained.
    per_class, per_class_stderr : ``sigma.shape + (K,)``: ``P(correct | k)`` and errors.
    seed : the seed used (``None`` for quadrature).
    lower, upper : float64 arrays shaped like ``sigma``: the 95% Wilson score interval of
        the accuracy (Monte Carlo; for quadrature ``estimate -+ stderr``).  With ``n``
        test samples and ``z = 1.96`` it is ``(p + z^2/2n -+ z sqrt(p(1-p)/n +
        z^2/4n^2)) / (1 + z^2/n)``: never of width 0, also at accuracy 0 or 1 (where the
        Wald error ``sqrt(p(1-p)/n)`` is 0).  ``stderr`` is its half-width over ``z``
        (the binomial standard error to ``O(1/n)`` away from 0 and 1).  With weighted
        classes ``n`` is the effective sample size ``p(1-p) / Var`` of the stratified
        estimate (all test samples where that is 0/0).
    """

    estimate: np.ndarray
    stderr: np.ndarray
    n_samples: int
    train_samples: int
    sigma: np.ndarray
    probe: str
    input: str
    method: str
    classifier: str
    error_method: str
    per_class: np.ndarray = field(repr=False)
    per_class_stderr: np.ndarray = field(repr=False)
    seed: Any = None
    lower: np.ndarray | None = field(default=None, repr=False)
    upper: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.lower is None:  # quadrature: the error bound
            object.__setattr__(self, "lower", self.estimate - self.stderr)
        if self.upper is None:
            object.__setattr__(self, "upper", self.estimate + self.stderr)

    def to_json(self) -> dict[str, Any]:
        seed = self.seed
        if isinstance(seed, np.random.SeedSequence):
            seed = {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
        return {"sigma": self.sigma, "estimate": self.estimate, "stderr": self.stderr,
                "n_samples": self.n_samples, "train_samples": self.train_samples,
                "probe": self.probe, "input": self.input, "method": self.method,
                "classifier": self.classifier, "error_method": self.error_method,
                "per_class": self.per_class, "per_class_stderr": self.per_class_stderr,
                "seed": seed, "lower": self.lower, "upper": self.upper}


# ---------------------------------------------------------------------------------------
# The exact Bayes accuracy of the idealised MoLRG
# ---------------------------------------------------------------------------------------
def _variance_ratio(sigma: float, delta: float, input: str) -> float:
    """``rho = v_own / v_other`` from the generated (derived) block variances."""
    s = np.asarray(sigma, dtype=np.float64)
    own = gen.call(f"{input}_variance_own", np, sigma=s, delta=delta)
    other = gen.call(f"{input}_variance_other", np, sigma=s, delta=delta)
    return float(own) / float(other)


def _error_probability(K: int, d: int, rho: float) -> tuple[float, float]:
    """``P(r_own / v_own * rho <= max_l r_l / v_other)`` and a bound on its numerical error.

    ``P(error) = int_0^inf f_d(t) (1 - F_d(rho t)^(K-1)) dt`` with ``t = u^2`` (removes the
    ``t^(-1/2)`` singularity of ``d = 1``); ``1 - F^(K-1)`` is formed as
    ``-expm1((K-1) log F)`` with ``log F`` from whichever of ``P`` or ``Q`` is accurate.
    """
    from scipy import integrate, special, stats

    a = d / 2.0
    log_norm = math.log(2.0) - a * math.log(2.0) - special.gammaln(a)

    def integrand(u: float) -> float:
        if u <= 0.0:
            if d > 1:
                return 0.0
            logf = log_norm
        else:
            logf = log_norm + (d - 1) * math.log(u) - 0.5 * u * u
        x = 0.5 * rho * u * u
        q = float(special.gammaincc(a, x))
        if q < 0.5:
            log_cdf = math.log1p(-q)
        else:
            p = float(special.gammainc(a, x))
            if p <= 0.0:
                return math.exp(logf)  # F = 0: the others always win
            log_cdf = math.log(p)
        return math.exp(logf) * -math.expm1((K - 1) * log_cdf)

    u_hi = math.sqrt(stats.chi2.isf(QUAD_TAIL, d))
    points = sorted({min(max(math.sqrt(d / rho), 1e-6), u_hi * 0.999),
                     min(math.sqrt(max(d - 2.0, 0.5)), u_hi * 0.999)})
    value, abserr = integrate.quad(integrand, 0.0, u_hi, points=points, epsabs=1e-15,
                                   epsrel=1e-11, limit=500)
    return value, abserr + QUAD_TAIL + 4 * np.finfo(np.float64).eps


def bayes_accuracy_exact(setting: Any, sigma: Any, /, *, input: str = "noisy"
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Exact Bayes-probe accuracy of the idealised MoLRG and a bound on its numerical error.

    ``setting`` is a :class:`~molrg.Setting` or :class:`~molrg.MoLRG`; returns float64 arrays
    shaped like ``sigma`` (see the module docstring for the integral).
    """
    if not isinstance(setting, (Setting, MoLRG)):
        raise ParameterTypeError(f"setting={setting!r} must be a molrg.Setting or molrg.MoLRG")
    st = setting.setting
    sig = check_sigma(sigma)
    input = check_choice("input", input, INPUTS)
    flat = np.atleast_1d(sig)
    value = np.empty(flat.shape)
    bound = np.empty(flat.shape)
    cache: dict[float, tuple[float, float]] = {}
    for i, s in enumerate(flat):
        rho = _variance_ratio(float(s), st.delta, input)
        if rho not in cache:
            cache[rho] = _error_probability(st.K, st.d, rho)
        err, b = cache[rho]
        value[i], bound[i] = 1.0 - err, b
    return value.reshape(sig.shape), bound.reshape(sig.shape)


# ---------------------------------------------------------------------------------------
# Validation and planning
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    model: Any
    mixture: LowRankMixture | None
    sigma: np.ndarray
    probe: str
    input: str
    method: str
    kind: str  # "molrg-optimal", "dae", "mixture-optimal", "empirical", "callable"
    denoiser: Any
    samples: int
    train_samples: int
    seed: np.random.SeedSequence
    seed_json: Any
    backend: str


def _is_true_dae(model: MoLRG, den: DAE) -> bool:
    return (den.K == model.K and den.basis.shape == model.basis.shape
            and den.delta == model.delta and bool(np.array_equal(den.basis, model.basis)))


def _kind(model: Any, denoiser: Any) -> str:
    if denoiser is None or (isinstance(denoiser, OptimalDenoiser) and denoiser.model is model):
        return "molrg-optimal" if isinstance(model, (MoLRG, Setting)) else "mixture-optimal"
    if isinstance(denoiser, DAE):
        return "molrg-optimal" if isinstance(model, MoLRG) and _is_true_dae(model, denoiser) \
            else "dae"
    shape = getattr(getattr(denoiser, "points", None), "shape", None)
    if shape is not None and len(shape) == 2:
        return "empirical"
    return "callable"


def _iv(model: Any, sigma: Any, probe: Any, denoiser: Any, input: Any, samples: Any, seed: Any,
        method: Any, train_samples: Any, backend: Any) -> _Plan:
    if not isinstance(model, (Setting, MoLRG, LowRankMixture)):
        raise ParameterTypeError(f"model={model!r} must be a molrg.Setting, molrg.MoLRG or "
                                 "molrg.LowRankMixture")
    sig = check_sigma(sigma)
    probe = check_choice("probe", probe, PROBES)
    input = check_choice("input", input, INPUTS)
    method = check_choice("method", method, PROBE_METHODS)
    backend = check_choice("backend", backend, BACKENDS)
    K = model.K
    samples = check_int("samples", samples, low=2 * K, high=MAX_SAMPLES)
    if train_samples is not None:
        if probe != "linear":
            raise ParameterError(f"train_samples={train_samples!r} applies to probe='linear' "
                                 f"only; valid: None for probe={probe!r}")
        train_samples = check_int("train_samples", train_samples, low=2 * K, high=MAX_SAMPLES)
    elif probe == "linear":
        train_samples = samples
    else:
        train_samples = 0
    _backend.check_seed(seed)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    seed_json = seed
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    if denoiser is not None and not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be None (the optimal denoiser) or "
                                 "a callable (x, sigma) -> xhat, e.g. molrg.DAE or "
                                 "molrg.EmpiricalDenoiser")
    if isinstance(model, Setting) and denoiser is not None:
        raise ParameterError("a denoiser needs a model with n and bases; valid: molrg.MoLRG or "
                             "molrg.LowRankMixture (a molrg.Setting has the optimal denoiser only)")
    if denoiser is not None and not isinstance(model, Setting):
        n_den = None
        if isinstance(denoiser, DAE):
            n_den = denoiser.basis.shape[0]
        elif _kind(model, denoiser) == "empirical":
            n_den = denoiser.points.shape[1]
        if n_den is not None and n_den != model.n:
            raise ParameterError(f"denoiser has n={n_den}; valid: the model's n={model.n}")
    if isinstance(model, Setting) and probe != "bayes":
        raise ParameterError(f"probe={probe!r} needs a model with n and bases (molrg.MoLRG or "
                             "molrg.LowRankMixture); a molrg.Setting has the Bayes probe only")
    kind = _kind(model, denoiser)
    exact_ok = probe == "bayes" and kind == "molrg-optimal"
    if method == "auto":
        method = "quadrature" if exact_ok else "ambient"
    if method in ("quadrature", "reduced") and not exact_ok:
        raise ParameterError(
            f"method={method!r} applies to probe='bayes' with the optimal denoiser of the "
            "idealised MoLRG only; valid: 'ambient' (Monte Carlo in R^n)")
    if method == "ambient" and isinstance(model, Setting):
        raise ParameterError("method='ambient' needs a model with n and bases (molrg.MoLRG), "
                             "not a molrg.Setting; valid methods: 'quadrature', 'reduced'")
    if probe == "bayes" and kind == "callable":
        raise ParameterError(
            "probe='bayes' needs a denoiser whose feature map is known (None, "
            "molrg.OptimalDenoiser, molrg.DAE, or one with a 'points' attribute such as "
            "molrg.EmpiricalDenoiser); valid probes for any callable: 'linear', 'energy'")
    if backend == "cupy":
        _backend.namespace("cupy")
    mixture = None if isinstance(model, Setting) else (
        model.to_mixture() if isinstance(model, MoLRG) else model)
    return _Plan(model, mixture, sig, probe, input, method, kind, denoiser, samples,
                 train_samples, seq, seed_json, backend)


# ---------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------
def probe_accuracy(
    model: Any,
    sigma: Any,
    /,
    *,
    probe: str = "bayes",
    denoiser: Any = None,
    input: str = "noisy",
    samples: int = 20_000,
    seed: Any = 0,
    method: str = "auto",
    train_samples: int | None = None,
    backend: str = "numpy",
) -> ProbeResult:
    """Accuracy of a probe on the features of ``denoiser`` at noise level(s) ``sigma``.

    Parameters
    ----------
    model : :class:`~molrg.Setting` (Bayes probe of the optimal denoiser only),
        :class:`~molrg.MoLRG` or :class:`~molrg.LowRankMixture`.
    sigma : positive scalar or 1-D array (one call evaluates a whole curve).
    probe : ``"bayes"``, ``"linear"`` or ``"energy"`` (module docstring).
    denoiser : ``None`` (the model's optimal denoiser), a :class:`~molrg.DAE`, an
        :class:`~molrg.EmpiricalDenoiser` (or any callable with a ``points`` attribute),
        or any callable ``(x, sigma) -> xhat`` (not for the Bayes probe).
    input : ``"noisy"`` or ``"clean"``.
    samples : Monte Carlo test samples per ``sigma`` (all classes), ``>= 2 K``.
    seed : ``int``, :class:`numpy.random.SeedSequence` (or a Generator, from which one
        integer seed is drawn); the same draws serve every ``sigma``.
    method : ``"auto"`` (quadrature for the Bayes probe of the idealised MoLRG's optimal
        denoiser, else ``"ambient"``), ``"quadrature"``, ``"reduced"`` or ``"ambient"``.
    train_samples : training samples of the linear probe (default: ``samples``).
    backend : array namespace of the simulation (``"numpy"``, ``"cupy"``,
        ``"array_api_strict"``).

    Returns
    -------
    :class:`ProbeResult`.

    Raises
    ------
    molrg.ParameterError
        For any invalid argument or combination, naming it, before any work.

    Examples
    --------
    The Bayes probe's accuracy falls from near 1 to chance (``1/K``) as the noise grows:

    >>> import numpy as np
    >>> import molrg
    >>> acc = molrg.probe_accuracy(molrg.MoLRG(K=3, d=5, n=50, delta=0.2), [0.1, 1.0, 100.0])
    >>> np.round(acc.estimate, 3)
    array([0.996, 0.641, 0.333])
    """
    plan = _iv(model, sigma, probe, denoiser, input, samples, seed, method, train_samples,
               backend)
    if plan.method == "quadrature":
        value, bound = bayes_accuracy_exact(plan.model, plan.sigma, input=plan.input)
        K = plan.model.K
        flat_v, flat_b = np.atleast_1d(value), np.atleast_1d(bound)
        per = np.repeat(flat_v[:, None], K, axis=1)
        per_b = np.repeat(flat_b[:, None], K, axis=1)
        return ProbeResult(value, bound, 0, 0, plan.sigma, plan.probe, plan.input, "quadrature",
                           "argmax_l ||U_l^T xhat||^2 (= argmax_l ||U_l^T x||^2, the Bayes rule)",
                           "bound on the numerical error of the quadrature (scipy quad)",
                           per.reshape(*plan.sigma.shape, K), per_b.reshape(*plan.sigma.shape, K),
                           None)
    if plan.method == "reduced":
        counts, totals = _reduced(plan)
        classifier = "argmax_l r_l with K chi-square block energies (exact in law)"
    else:
        counts, totals, classifier = _ambient(plan)
    return _finish(plan, counts, totals, classifier)


def _finish(plan: _Plan, counts: np.ndarray, totals: np.ndarray, classifier: str) -> ProbeResult:
    """Combine per-class counts ``(S, C)`` with the mixing weights into the result."""
    K = plan.model.K
    p = counts / totals
    var = p * (1.0 - p) / totals  # Wald, only to weight the strata (n_eff below)
    if p.shape[1] == 1:  # exchangeable classes (reduced simulator)
        estimate, n_eff = p[:, 0], totals[:, 0].astype(np.float64)
        p, var = np.repeat(p, K, axis=1), np.repeat(var, K, axis=1)
    else:
        weights = np.asarray(plan.mixture.weights)  # type: ignore[union-attr]
        estimate = p @ weights
        wald = var @ weights**2
        n_all = np.sum(totals, axis=1).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(wald > 0, estimate * (1.0 - estimate) / wald, n_all)
        n_eff = np.clip(n_eff, 1.0, n_all)
    lower, upper = wilson_interval(estimate, n_eff)
    per_n = totals if totals.shape == p.shape else np.repeat(totals, K, axis=1)
    per_lower, per_upper = wilson_interval(p, per_n)
    se = (upper - lower) / (2 * WILSON_Z)
    per_se = (per_upper - per_lower) / (2 * WILSON_Z)
    shape = plan.sigma.shape
    return ProbeResult(estimate.reshape(shape), se.reshape(shape), int(np.sum(totals[0])),
                       plan.train_samples, plan.sigma, plan.probe, plan.input, plan.method,
                       classifier, "95% Wilson score interval (half-width / 1.96 as the "
                       "standard error), classes as strata",
                       p.reshape(*shape, K), per_se.reshape(*shape, K), plan.seed_json,
                       lower.reshape(shape), upper.reshape(shape))


WILSON_Z = 1.959963984540054
"""The normal 97.5% point: :func:`wilson_interval` is a 95% interval."""


def wilson_interval(p: Any, n: Any, z: float = WILSON_Z) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval ``(lower, upper)`` of a binomial proportion.

    ``p``: observed proportions; ``n``: trial counts (broadcast with ``p``, ``n >= 1``).
    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``: inside ``[0, 1]`` and of
    positive width also at ``p = 0`` and ``p = 1`` (Wilson 1927; Brown, Cai & DasGupta
    2001 recommend it over the Wald interval).
    """
    p = np.asarray(p, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * np.sqrt(np.maximum(p * (1 - p) / n, 0.0) + z2n / (4 * n)) / (1 + z2n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


# ---------------------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------------------
def _reduced(plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """``argmax_l r_l`` with ``r_0 ~ v_own chi2_d`` (true class) and ``r_l ~ v_other chi2_d``."""
    st = plan.model.setting
    xp = _backend.namespace(plan.backend)
    rand = _backend.Random(plan.seed, xp)
    sig = np.atleast_1d(plan.sigma)
    counts = np.zeros((sig.size, 1))
    block = max(1, (8 << 20) // (8 * st.K))
    done = 0
    while done < plan.samples:
        m = min(block, plan.samples - done)
        chi = rand.chisquare(float(st.d), (st.K, m), xp.float64)
        best_other = xp.max(chi[1:, :], axis=0)
        for i, s in enumerate(sig):
            rho = _variance_ratio(float(s), st.delta, plan.input)
            counts[i, 0] += float(xp.sum(xp.astype(chi[0, :] * rho > best_other, xp.float64)))
        done += m
    return counts, np.full((sig.size, 1), float(plan.samples))


def _class_indicator(mix: LowRankMixture) -> np.ndarray:
    """``(R, K)`` 0/1 matrix summing the columns of class ``k``'s block."""
    ind = np.zeros((mix.total_rank, mix.K))
    for k in range(mix.K):
        ind[mix.block_slice(k), k] = 1.0
    return ind


class _Rule:
    """The decision rule of one run: ``decide(x, sigma) -> (m,) int`` (and features)."""

    def __init__(self, plan: _Plan, xp: ModuleType) -> None:
        self.plan, self.xp = plan, xp
        mix = plan.mixture
        assert mix is not None
        self.mix = mix
        den = plan.denoiser
        if plan.kind == "molrg-optimal":
            den = den if isinstance(den, DAE) else DAE(plan.model.basis, plan.model.K,
                                                       plan.model.delta)
        self.den = den
        self.dae = den if isinstance(den, DAE) else None
        self.ind = xp.asarray(_class_indicator(mix), dtype=xp.float64)
        if self.dae is not None:  # U^T xhat = (U^T V) h
            self.proj = xp.asarray(self.dae.basis.T @ mix.basis, dtype=xp.float64)
        else:
            self.proj = mix.basis_in(xp, "float64")
        self.gauss: _GaussianRule | None = None
        self.posterior = False
        self.classifier = ""
        if plan.probe == "bayes":
            self._bayes_setup()
        elif plan.probe == "energy":
            self.classifier = "argmax_l ||U_l^T xhat||^2 with the model's true bases (oracle)"
        else:
            what = "h = D V^T x" if self.dae is not None else "xhat"
            self.classifier = (f"multinomial logistic regression (scikit-learn, C=1, standardised "
                               f"features) on {what}")

    def _bayes_setup(self) -> None:
        plan, mix = self.plan, self.mix
        if plan.kind == "molrg-optimal":
            self.classifier = ("argmax_l ||U_l^T xhat||^2 on the features (Bayes-optimal: = "
                               "argmax_l ||U_l^T x||^2)")
        elif plan.kind == "mixture-optimal":
            self.posterior = True
            self.classifier = ("argmax_k P(k | input) (class_posterior); the optimal denoiser "
                               "is injective on the informative span, so this is Bayes on xhat")
        elif plan.kind == "dae":
            assert self.dae is not None
            self.gauss = _GaussianRule(mix, self.dae.basis, self.xp)
            self.classifier = ("argmax_k P(k | V^T input), exact Gaussian-mixture posterior "
                               "(h = D V^T x is injective in V^T x)")
        else:  # empirical
            W = _difference_span(self.den.points)
            if _contains(W, _informative(mix)):
                self.posterior = True
                self.classifier = ("argmax_k P(k | input) (class_posterior): the span of the "
                                   "training points' differences contains the class information")
            else:
                self.gauss = _GaussianRule(mix, W, self.xp)
                self.classifier = (f"argmax_k P(k | W^T input), W = the {W.shape[1]}-dim span "
                                   "of the training points' differences (what xhat keeps)")

    def features(self, x: Any, sigma: float) -> Any:
        if self.dae is not None:
            return self.dae.features(x, sigma)
        if self.den is None:
            from .posterior import posterior_mean

            return posterior_mean(self.mix, x, sigma)
        out = self.den(x, sigma)
        if getattr(out, "shape", None) != x.shape:
            raise ParameterError(f"denoiser returned shape {getattr(out, 'shape', None)} for "
                                 f"input {tuple(x.shape)}; valid: the input's shape (m, n)")
        return out

    def energies(self, feats: Any) -> Any:
        proj = feats @ self.proj
        return (proj * proj) @ self.ind

    def decide(self, x: Any, sigma: float) -> Any:
        xp = self.xp
        plan = self.plan
        level = sigma if plan.input == "noisy" else CLEAN_SIGMA
        if self.posterior:
            from .posterior import class_posterior

            return xp.argmax(class_posterior(self.mix, x, level), axis=1)
        if self.gauss is not None:
            return self.gauss.decide(x, level)
        return xp.argmax(self.energies(self.features(x, sigma)), axis=1)


def _difference_span(points: Any) -> np.ndarray:
    """Orthonormal basis of ``span{p_i - p_1}`` (host float64), via the ``n x n`` Gram."""
    P = _backend.to_numpy(points).astype(np.float64)
    D = P[1:] - P[:1] if P.shape[0] > 1 else np.zeros((1, P.shape[1]))
    gram = D.T @ D
    w, v = np.linalg.eigh((gram + gram.T) / 2)
    top = float(w[-1]) if w.size else 0.0
    keep = w > max(top, 1e-300) * P.shape[1] * 1e3 * np.finfo(np.float64).eps
    return v[:, keep]


def _informative(mix: LowRankMixture) -> np.ndarray:
    """Columns spanning what the classes differ in: the bases and the mean differences."""
    cols = [mix.basis]
    if mix.has_means:
        cols.append((mix.means[1:] - mix.means[:1]).T)
    return np.concatenate(cols, axis=1)


def _contains(W: np.ndarray, A: np.ndarray) -> bool:
    if W.shape[1] == 0:
        return False
    resid = A - W @ (W.T @ A)
    return float(np.linalg.norm(resid)) <= SPAN_TOL * max(float(np.linalg.norm(A)), 1e-300)


class _GaussianRule:
    """Bayes rule on ``y = W^T x`` (``W`` orthonormal ``n x q``): ``y | k`` is Gaussian with
    mean ``W^T mu_k`` and covariance ``W^T Sigma_k W + level^2 I``; set up per level on the
    host in float64 (Cholesky), applied in the simulation's namespace."""

    def __init__(self, mix: LowRankMixture, W: np.ndarray, xp: ModuleType) -> None:
        self.mix, self.xp = mix, xp
        self.W = np.asarray(W, dtype=np.float64)
        self.Wxp = xp.asarray(self.W, dtype=xp.float64)
        self.factors = [self.W.T @ mix.factor(k) for k in range(mix.K)]  # (q, R)
        self.centres = mix.means @ self.W  # (K, q)
        self.cache: dict[float, tuple[list[Any], list[Any], np.ndarray]] = {}

    def _setup(self, level: float) -> tuple[list[Any], list[Any], np.ndarray]:
        if level not in self.cache:
            xp = self.xp
            q = self.W.shape[1]
            whiten, centres = [], []
            const = np.empty(self.mix.K)
            for k, f in enumerate(self.factors):
                cov = f @ f.T + level * level * np.eye(q)
                L = np.linalg.cholesky((cov + cov.T) / 2)
                Linv = np.linalg.solve(L, np.eye(q))
                whiten.append(xp.asarray(np.ascontiguousarray(Linv.T), dtype=xp.float64))
                centres.append(xp.asarray(self.centres[k][None, :], dtype=xp.float64))
                const[k] = math.log(self.mix.weights[k]) - float(np.sum(np.log(np.diag(L))))
            self.cache = {level: (whiten, centres, const)}
        return self.cache[level]

    def decide(self, x: Any, level: float) -> Any:
        xp = self.xp
        whiten, centres, const = self._setup(level)
        y = xp.astype(x, xp.float64) @ self.Wxp
        cols = []
        for k in range(self.mix.K):
            z = (y - centres[k]) @ whiten[k]
            cols.append(float(const[k]) - 0.5 * xp.sum(z * z, axis=1))
        return xp.argmax(xp.stack(cols, axis=1), axis=1)


def _rows(plan: _Plan, feat_dim: int) -> int:
    n = plan.mixture.n  # type: ignore[union-attr]
    per_row = 8 * (4 * n + 4 * feat_dim + 8 * plan.model.K) + 64
    return max(64, (64 << 20) // per_row)


def _class_counts(total: int, weights: np.ndarray) -> list[int]:
    """Training samples per class, proportional to the mixing weights (at least 1 each)."""
    raw = np.maximum(1, np.round(weights * total)).astype(int)
    return [int(v) for v in raw]


def _draw(mix: LowRankMixture, k: int, m: int, rand: _backend.Random, xp: ModuleType,
          sigma: float, noisy: bool) -> Any:
    x0 = mix.sample_class(k, m, rand, xp=xp, dtype="float64")
    if not noisy:
        return x0
    return x0 + sigma * rand.standard_normal((m, mix.n), xp.float64)


def _ambient(plan: _Plan) -> tuple[np.ndarray, np.ndarray, str]:
    """Class-stratified simulation in ``R^n`` with common random numbers across sigma."""
    xp = _backend.namespace(plan.backend)
    mix = plan.mixture
    assert mix is not None
    rule = _Rule(plan, xp)
    K = mix.K
    sig = np.atleast_1d(plan.sigma)
    per_class = plan.samples // K
    counts = np.zeros((sig.size, K))
    test_seed, train_seed = plan.seed.spawn(2)
    feat_dim = rule.dae.basis.shape[1] if rule.dae is not None else mix.n
    rows = _rows(plan, feat_dim)
    noisy = plan.input == "noisy"
    for i, s in enumerate(sig):
        s = float(s)
        clf = _fit_linear(plan, rule, mix, train_seed, s, xp) if plan.probe == "linear" else None
        rand = _backend.Random(test_seed, xp)  # the same stream at every sigma
        for k in range(K):
            done = 0
            while done < per_class:
                m = min(rows, per_class - done)
                x = _draw(mix, k, m, rand, xp, s, noisy)
                if clf is not None:
                    feats = _backend.to_numpy(rule.features(x, s))
                    pred = clf.predict(np.asarray(feats, dtype=np.float64))
                    counts[i, k] += float(np.sum(pred == k))
                else:
                    pred = rule.decide(x, s)
                    counts[i, k] += float(xp.sum(xp.astype(pred == k, xp.float64)))
                done += m
    totals = np.full((sig.size, K), float(per_class))
    return counts, totals, rule.classifier


def _fit_linear(plan: _Plan, rule: _Rule, mix: LowRankMixture, seed: np.random.SeedSequence,
                sigma: float, xp: ModuleType) -> Any:
    """Multinomial logistic regression on fresh training features at ``sigma`` (host)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rand = _backend.Random(seed, xp)
    feats, labels = [], []
    for k, m in enumerate(_class_counts(plan.train_samples, np.asarray(mix.weights))):
        x = _draw(mix, k, m, rand, xp, sigma, plan.input == "noisy")
        feats.append(np.asarray(_backend.to_numpy(rule.features(x, sigma)), dtype=np.float64))
        labels.append(np.full(m, k))
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(np.concatenate(feats), np.concatenate(labels))
    return clf


# ---------------------------------------------------------------------------------------
# Curve statistics used by the claims (error-aware)
# ---------------------------------------------------------------------------------------
