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

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import probe_sim
from .options import METHODS, Method
from .plan import PROBE_MAX_SAMPLES, Plan, Request, make_plan
from .probe_exact import QUAD_TAIL, bayes_accuracy_exact
from .probe_rules import CLEAN_SIGMA, SPAN_TOL

__all__ = [
    "CLEAN_SIGMA",
    "PROBE_METHODS",
    "ProbeResult",
    "bayes_accuracy_exact",
    "probe_accuracy",
]

PROBE_METHODS = METHODS
"""Methods of :func:`probe_accuracy` (``auto``: quadrature where it applies, else ambient)."""
MAX_SAMPLES = PROBE_MAX_SAMPLES
_REEXPORTED = (QUAD_TAIL, SPAN_TOL)  # former homes: molrg.probes.QUAD_TAIL, SPAN_TOL


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


def probe_accuracy(
    model: Any,
    sigma: Any,
    /,
    *,
    probe: str = "bayes",
    denoiser: Any = None,
    input: str = "noisy",
    method: str | Method = "auto",
    train_samples: int | None = None,
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
    method : a method object, as for :func:`molrg.snr`: :class:`~molrg.Quadrature` (the
        Bayes probe of the idealised MoLRG's optimal denoiser) or
        :class:`~molrg.MonteCarlo` (``samples``: test samples per ``sigma``, all classes,
        ``>= 2 K``; ``seed``: the same draws serve every ``sigma``; ``backend``; ``memory``
        sizes the batches; the simulation is float64), :class:`~molrg.Auto` (quadrature
        where it applies, else its Monte Carlo fallback with the ambient simulator), or a
        word: ``"auto"`` (``Auto()``), ``"quadrature"``, ``"reduced"``, ``"ambient"``
        (Monte Carlo with :data:`molrg.plan.PROBE_SAMPLES` samples, seed 0).
    train_samples : training samples of the linear probe (default: the method's samples).

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
    request = Request(input=input, denoiser=denoiser, probe=probe, train_samples=train_samples)
    plan = make_plan(model, sigma, method, request)
    if plan.method.exact:
        return _quadrature(plan)
    seq = plan.monte_carlo.seed_sequence()
    if plan.monte_carlo.simulator == "reduced":
        counts, totals = probe_sim.reduced(plan, seq)
        classifier = "argmax_l r_l with K chi-square block energies (exact in law)"
    else:
        counts, totals, classifier = probe_sim.ambient(plan, seq)
    seed_json = seq if isinstance(plan.monte_carlo.seed, np.random.SeedSequence) else seq.entropy
    return _finish(plan, counts, totals, classifier, seed_json)


def _quadrature(plan: Plan) -> ProbeResult:
    """The exact Bayes accuracy (:func:`bayes_accuracy_exact`) as a result."""
    value, bound = bayes_accuracy_exact(plan.model, plan.sigma, input=plan.input)
    K = plan.model.K
    flat_v, flat_b = np.atleast_1d(value), np.atleast_1d(bound)
    per = np.repeat(flat_v[:, None], K, axis=1)
    per_b = np.repeat(flat_b[:, None], K, axis=1)
    return ProbeResult(value, bound, 0, 0, plan.sigma, str(plan.probe), plan.input, "quadrature",
                       "argmax_l ||U_l^T xhat||^2 (= argmax_l ||U_l^T x||^2, the Bayes rule)",
                       "bound on the numerical error of the quadrature (scipy quad)",
                       per.reshape(*plan.sigma.shape, K), per_b.reshape(*plan.sigma.shape, K),
                       None)


def _finish(plan: Plan, counts: np.ndarray, totals: np.ndarray, classifier: str,
            seed_json: Any) -> ProbeResult:
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
                       plan.train_samples, plan.sigma, str(plan.probe), plan.input,
                       plan.method.name,
                       classifier, "95% Wilson score interval (half-width / 1.96 as the "
                       "standard error), classes as strata",
                       p.reshape(*shape, K), per_se.reshape(*shape, K), seed_json,
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
