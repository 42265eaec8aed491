"""``molrg.snr``: the SNR of a denoiser on a model, exact where possible, else by Monte Carlo.

For a sample of true class ``k`` and denoiser output ``xhat``: numerator
``N = ||U_k U_k^T xhat||^2``; denominator ``"others"`` (the submission's CSNR)
``sum_{l != k} ||U_l U_l^T xhat||^2`` or ``"complement"`` (arXiv Definition 1)
``||(I - U_k U_k^T) xhat||^2``.  Estimands: ``"ratio-of-means"`` (default; what Theorem 1's
proof takes) ``sum_k pi_k E[N | k] / E[D | k]``; ``"mean-of-ratios"``
``sum_k pi_k E[N/D | k]``, with ``pi`` the mixing weights (``1/K`` for the MoLRG).

Conventions for general mixtures (:class:`~molrg.LowRankMixture`): the projections are
onto each class's own subspace, ``U_l U_l^T``, also where subspaces overlap (``others``
then counts an overlap once per class it belongs to); class means are not subtracted
(``xhat`` is projected as it is).

Methods (``method=``, a word or a method object of :mod:`molrg.options`):

``"quadrature"`` / :class:`~molrg.Quadrature`
    Deterministic evaluation of the exact SNR of the optimal denoiser of the idealised
    MoLRG (ratio of means); ``stderr`` is a bound on its numerical error.
``"reduced"`` / ``MonteCarlo(simulator="reduced")``
    ``K`` chi-square block energies per sample (exact in law; idealised MoLRG, optimal
    denoiser).
``"ambient"`` / ``MonteCarlo(simulator="ambient")``
    The full simulation in ``R^n`` (any model with ``n``, any denoiser).
``"auto"`` (default)
    Quadrature where it applies, else reduced, else ambient.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from . import _backend, _threads, montecarlo
from .denoisers import dae_parameters_of
from .options import Method
from .plan import MAX_CLASSES, QUADRATURE_DELTA_MIN, Plan, Request, make_plan
from .validation import ParameterError, check_int

__all__ = ["MAX_CLASSES", "MIN_VERDICT_SAMPLES", "QUADRATURE_DELTA_MIN", "TAIL_SHARE_MAX",
           "SNRResult", "UntrustworthyWarning", "check_verdict_samples", "snr"]

TAIL_SHARE_MAX = 0.01
"""Largest share of a sum that one Monte Carlo term may carry for the estimate's standard
error to be trusted (:attr:`SNRResult.tail_share`).  Above it (heavy tails: a handful of
rare huge terms carry the mean, or fewer than 100 samples per class) the result is flagged
``untrustworthy``; measured coverage of the flagged and unflagged +-2 SE intervals:
``docs/properties.md`` ("Coverage of Monte Carlo error bars")."""

MIN_VERDICT_SAMPLES = 3000
"""Fewest Monte Carlo samples per sigma (all classes together) on which a verdict of the
``verify`` commands may rest; fewer are refused before any work."""


class UntrustworthyWarning(RuntimeWarning):
    """A Monte Carlo estimate whose standard error cannot be trusted (heavy tails or too
    few samples for the tail: :data:`TAIL_SHARE_MAX`); verdicts on it are "undetermined"."""


def check_verdict_samples(samples: Any, name: str = "samples") -> int:
    """``samples`` if a verdict may rest on that many Monte Carlo samples per sigma, else a
    :class:`~molrg.ParameterError` naming :data:`MIN_VERDICT_SAMPLES`."""
    value = check_int(name, samples, low=2, high=None)
    if value < MIN_VERDICT_SAMPLES:
        raise ParameterError(
            f"{name}={value!r} is too few Monte Carlo samples for a verdict (the error bars "
            f"of so few cannot be trusted); valid: {name} >= {MIN_VERDICT_SAMPLES}")
    return value


@dataclass(frozen=True)
class SNRResult:
    """The SNR at one or more noise levels, with its error.

    Attributes
    ----------
    estimate, stderr : float64 NumPy arrays shaped like ``sigma``.  For Monte Carlo
        ``stderr`` is the standard error; for quadrature a bound on the numerical error.
    n_samples : Monte Carlo samples per ``sigma`` value (all classes together); 0 for
        quadrature.
    sigma : the noise levels (float64, the shape given).
    input, estimand, denominator : what was computed.
    method : the resolved method object (:class:`~molrg.Quadrature`, or
        :class:`~molrg.MonteCarlo` with its simulator, seed and batch size).
    error_method : how ``stderr`` was obtained.
    per_class, per_class_stderr : ``sigma.shape + (K,)``: the per-class SNR
        ``E[N|k]/E[D|k]`` (or ``E[N/D|k]``) and its error.
    tail_share : float64, shaped like ``sigma``: the largest single Monte Carlo term's
        share of its sum (numerator or denominator; the worst class); 0 for quadrature.
    untrustworthy : bool array shaped like ``sigma``: ``tail_share > TAIL_SHARE_MAX`` (or a
        non-finite estimate): the standard error there does not cover (heavy tails, too
        few samples); a :class:`UntrustworthyWarning` is issued and verdicts built on it
        are "undetermined".  All False for quadrature.
    """

    estimate: np.ndarray
    stderr: np.ndarray
    n_samples: int
    sigma: np.ndarray
    input: str
    estimand: str
    denominator: str
    method: Method
    error_method: str
    per_class: np.ndarray = field(repr=False)
    per_class_stderr: np.ndarray = field(repr=False)
    tail_share: np.ndarray = field(default_factory=lambda: np.zeros(()), repr=False)
    untrustworthy: np.ndarray = field(default_factory=lambda: np.zeros((), dtype=bool))
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    """Opt-in (``snr(..., replicates=R)``): ``(R,) + sigma.shape``, the linearised curves
    of ``R`` disjoint groups of the samples (common random numbers across sigma within
    each): per class ``R_hat + (mean_N,g - R_hat mean_D,g) / mean_D`` (ratio of means; the
    group mean for the mean of ratios), whose mean is ``estimate`` and whose covariance /
    R estimates the covariance of ``estimate`` across sigma.  Empty otherwise."""

    @property
    def trustworthy(self) -> bool:
        """True when no entry is flagged :attr:`untrustworthy`."""
        return not bool(np.any(self.untrustworthy))

    def to_json(self) -> dict[str, Any]:
        out = {"sigma": self.sigma, "estimate": self.estimate, "stderr": self.stderr,
               "n_samples": self.n_samples, "input": self.input, "estimand": self.estimand,
               "denominator": self.denominator, "method": self.method.to_json(),
               "error_method": self.error_method, "per_class": self.per_class,
               "per_class_stderr": self.per_class_stderr, "tail_share": self.tail_share,
               "untrustworthy": self.untrustworthy}
        if self.replicates.size:
            out["replicates"] = self.replicates
        return out


def _iv(model: Any, sigma: Any, input: Any, estimand: Any, denominator: Any, denoiser: Any,
        method: Any) -> Plan:
    """Validate everything once and resolve the method (before any work):
    :func:`molrg.plan.make_plan`, the validation shared with :func:`molrg.probe_accuracy`."""
    return make_plan(model, sigma, method, Request(input=input, estimand=estimand,
                                                   denominator=denominator, denoiser=denoiser))


def snr(
    model: Any,
    sigma: Any,
    /,
    *,
    input: str = "noisy",
    estimand: str = "ratio-of-means",
    denominator: str = "others",
    denoiser: Any = None,
    method: str | Method = "auto",
    replicates: int | None = None,
) -> SNRResult:
    """The SNR of ``denoiser`` on ``model`` at noise level(s) ``sigma``.

    Parameters
    ----------
    model : :class:`~molrg.Setting` (quadrature and reduced only), :class:`~molrg.MoLRG` or
        :class:`~molrg.LowRankMixture`.
    sigma : positive scalar or 1-D array; one call evaluates a whole curve (Monte Carlo with
        common random numbers across sigma, so curves are smooth).
    input : ``"noisy"`` (the denoiser sees ``x_t``) or ``"clean"`` (it sees ``x0`` and uses
        ``sigma`` only as the level it assumes).
    estimand : ``"ratio-of-means"`` or ``"mean-of-ratios"``.
    denominator : ``"others"`` (CSNR) or ``"complement"`` (arXiv SNR).
    denoiser : ``None`` (the model's optimal denoiser), a :class:`~molrg.DAE`, an
        :class:`~molrg.EmpiricalDenoiser` or any callable ``(x_t, sigma) -> xhat``.
    method : ``"auto"``, ``"quadrature"``, ``"reduced"``, ``"ambient"`` or a method object
        (:class:`~molrg.Quadrature`, :class:`~molrg.MonteCarlo` with samples, seed, batch,
        backend, dtype, memory, progress; :class:`~molrg.Auto` with a Monte Carlo fallback).
    replicates : opt-in, Monte Carlo only: also return ``R`` replicate curves
        (``SNRResult.replicates``, ``(R,) + sigma.shape``): the same simulation, its
        samples split into ``R`` groups (sample ``i`` of each class in group ``i mod R``),
        each group's curve linearised about ``estimate``.  ``estimate`` and ``stderr`` are
        those of the call without replicates; the replicate curves estimate the
        covariance of the curve across sigma (:func:`molrg.crn_covariance`).

    Returns
    -------
    :class:`SNRResult` with ``estimate`` and ``stderr`` shaped like ``sigma``.

    Raises
    ------
    ValueError, TypeError
        For any invalid argument or an invalid combination (naming the valid methods),
        before any work is done.

    Examples
    --------
    The exact SNR of the optimal denoiser (quadrature; ``stderr`` is its error bound) and a
    Monte Carlo estimate with its standard error:

    >>> import numpy as np
    >>> import molrg
    >>> model = molrg.MoLRG(K=3, d=5, n=50, delta=0.2)
    >>> exact = molrg.snr(model, [0.1, 0.5, 2.0])
    >>> np.round(exact.estimate, 3), bool(exact.stderr.max() < 1e-6)
    (array([15.425, 18.879,  0.783]), True)
    >>> mc = molrg.snr(model, 0.5, method=molrg.MonteCarlo(samples=20_000, seed=0))
    >>> bool(abs(mc.estimate - exact.estimate[1]) < 5 * mc.stderr)
    True
    """
    plan = _iv(model, sigma, input, estimand, denominator, denoiser, method)
    sig = np.atleast_1d(plan.sigma)
    if replicates is not None:
        return _replicated(plan, sig, replicates)
    if not plan.method.monte_carlo:  # quadrature, or a method of the user's: run(plan)
        run = _quadrature if plan.method.name == "quadrature" else plan.method.run  # type: ignore[attr-defined]
        return _finish(plan, *run(plan, sig), samples=0,
                       error=getattr(plan.method, "error_method",
                                     "numerical error bound of the quadrature"))
    per_class, se, sim = _simulate(plan, sig)
    return _mc_result(plan, per_class, se, sim)


def _mc_result(plan: Plan, per_class: np.ndarray, se: np.ndarray,
               sim: montecarlo.Simulation) -> SNRResult:
    """A Monte Carlo result with its tail diagnostic (an :class:`UntrustworthyWarning` when
    flagged)."""
    error = ("delta method per class ratio of means, classes as strata"
             if plan.estimand == "ratio-of-means"
             else "sample standard deviation of per-sample ratios / sqrt(m), classes as strata")
    result = _finish(plan, per_class, se, samples=sim.samples, error=error, batch=sim.batch,
                     tail=sim.tail_share())
    if not result.trustworthy:
        bad = np.atleast_1d(result.untrustworthy)
        share = np.atleast_1d(result.tail_share)
        warnings.warn(
            f"Monte Carlo SNR untrustworthy at {int(bad.sum())} of {bad.size} noise levels: "
            f"one sample carries up to {float(np.nanmax(share)):.2g} of a sum (limit "
            f"{TAIL_SHARE_MAX:g}); its standard error does not cover (heavy tails or too few "
            "samples): use more samples, or method='quadrature' where it applies",
            UntrustworthyWarning, stacklevel=3)
    return result


def _finish(plan: Plan, per_class: np.ndarray, per_class_se: np.ndarray, *, samples: int,
            error: str, batch: int | None = None, tail: np.ndarray | None = None) -> SNRResult:
    """Combine classes (strata weighted by the mixing weights) and shape like sigma."""
    weights = np.asarray(plan.model.weights, dtype=np.float64)
    share = np.zeros(per_class.shape[0]) if tail is None else np.max(tail, axis=-1)
    if per_class.shape[-1] == 1 and weights.size > 1:  # exchangeable classes: one stands for all
        per_class = np.repeat(per_class, weights.size, axis=-1)
        per_class_se = np.repeat(per_class_se, weights.size, axis=-1)
        estimate, stderr = per_class[:, 0], per_class_se[:, 0]
    else:
        estimate = per_class @ weights
        scale = np.max(np.abs(per_class_se), axis=-1, keepdims=True)  # no overflow in se^2
        with np.errstate(divide="ignore", invalid="ignore"):
            stderr = scale[:, 0] * np.sqrt(((np.where(scale > 0, per_class_se / scale, 0.0))
                                            ** 2) @ weights**2)
        stderr = np.where(scale[:, 0] > 0, stderr, np.where(np.isnan(scale[:, 0]), np.nan, 0.0))
    method = plan.method
    if batch is not None:
        method = plan.monte_carlo.replace(batch=batch, progress=None)
    shape = plan.sigma.shape
    flagged = (share > TAIL_SHARE_MAX) | ~np.isfinite(estimate) | ~np.isfinite(stderr) \
        if tail is not None else np.zeros(share.shape, dtype=bool)
    return SNRResult(
        estimate=estimate.reshape(shape), stderr=stderr.reshape(shape), n_samples=samples,
        sigma=plan.sigma, input=plan.input, estimand=plan.estimand,
        denominator=plan.denominator, method=method, error_method=error,
        per_class=per_class.reshape(*shape, -1), per_class_stderr=per_class_se.reshape(*shape, -1),
        tail_share=share.reshape(shape), untrustworthy=flagged.reshape(shape),
    )


def _quadrature(plan: Plan, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from . import quadrature  # SciPy: kept off the Monte Carlo path (tests/test_init.py)

    st = plan.model.setting
    with _threads.limit_blas(1):  # tiny products: one BLAS thread (molrg/_threads.py)
        value, error = quadrature.snr_ratio_of_means(sig, st.K, st.d, st.delta,
                                                     cast("quadrature.Input", plan.input),
                                                     rule=plan.method.rule)  # type: ignore[attr-defined]
    return value[:, None], error[:, None]


def _simulate(plan: Plan, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray, montecarlo.Simulation]:
    mc = plan.monte_carlo
    xp = _backend.namespace(mc.backend)
    random = _backend.Random(mc.seed, xp)
    memory = _backend.memory_budget(xp, mc.memory)
    run = montecarlo.Run(sig, plan.input, plan.estimand == "mean-of-ratios",
                         plan.denominator == "complement", mc.samples, random, mc.dtype,
                         memory, mc.batch, mc.progress)
    with _threads.small_products(xp, _largest_product(plan, memory)):
        return _run_simulator(plan, run)


def _known_products(plan: Plan) -> bool:
    """Whether the denoiser's matrix products are the library's (the optimal denoiser or
    a denoiser of Proposition 1's form), not a user's of unknown size."""
    den = plan.denoiser
    return den is None or getattr(den, "optimal_for", None) is not None \
        or getattr(den, "dae_parameters", None) is not None


def _largest_product(plan: Plan, memory: int) -> float:
    """Multiply-adds of a simulator's largest matrix product per batch (for the BLAS thread
    limit): none for the reduced simulator, ``rows x n x rank`` for the ambient ones (rows
    as the simulators size them, at most ``memory / (8 n)``), unbounded for a denoiser of
    the user's (its products are unknown)."""
    mc = plan.monte_carlo
    if mc.simulator == "reduced":
        return 0.0
    if not _known_products(plan):
        return float("inf")
    model = plan.model
    rows = min(mc.samples, max(1, memory // (8 * model.n)))
    return float(rows) * model.n * model.total_rank


def _fast_dae(plan: Plan) -> bool:
    """Whether the DAE simulator runs the pair: the model's optimal denoiser is a DAE
    (``model.dae_parameters``) and the denoiser is it, or a DAE of the same ``K`` and rank."""
    mine = plan.model.dae_parameters
    if mine is None or plan.caps.reduced:  # caps.reduced: the optimal denoiser
        return mine is not None
    theirs = dae_parameters_of(plan.model, plan.denoiser)
    return theirs is not None and theirs.K == mine.K and theirs.rank == mine.rank


def _run_simulator(plan: Plan, run: montecarlo.Run
                   ) -> tuple[np.ndarray, np.ndarray, montecarlo.Simulation]:
    """The simulator the plan's capabilities allow: reduced, the DAE one, or the general."""
    model = plan.model
    if plan.monte_carlo.simulator == "reduced":
        sim = montecarlo.simulate_reduced(model.setting, run)
    elif _fast_dae(plan):
        dae = None if plan.caps.reduced else dae_parameters_of(model, plan.denoiser)
        sim = montecarlo.simulate_ambient_molrg(model, run, dae)
    else:
        sim = montecarlo.simulate_ambient_general(model, run, plan.denoiser)
    per_class, se = sim.per_class()
    return per_class, se, sim


# ---------------------------------------------------------------------------------------
# Opt-in replicates (snr(..., replicates=R)): independent common-random-number curves
# ---------------------------------------------------------------------------------------
def _group_means(sim: montecarlo.Simulation) -> list[np.ndarray]:
    """Per-group means of a grouped simulation, ``(S, C, R)`` per moment array."""
    out: list[list[np.ndarray]] = []
    for chunk in sim.chunks:
        parts = getattr(chunk, "parts", None) or [chunk]  # _ClassColumns: one per class
        out.append([np.concatenate([_backend.to_numpy(p.group_sums[i])
                                    / _backend.to_numpy(p.group_counts) for p in parts], axis=1)
                    for i in range(len(parts[0].group_sums))])
    return [np.concatenate(v, axis=0) for v in zip(*out, strict=True)]


def _replicated(plan: Plan, sig: np.ndarray, replicates: Any) -> SNRResult:
    """One simulation (the same draws and result as without replicates), its samples split
    into ``R`` groups (sample ``i`` of each class stream in group ``i mod R``)."""
    if not plan.method.monte_carlo:
        raise ParameterError("replicates applies to Monte Carlo only; valid: replicates=None "
                             "for method='quadrature'")
    mc = plan.monte_carlo
    low = 2 * plan.model.K if mc.simulator == "ambient" else 2
    R = check_int("replicates", replicates, low=2, high=max(2, mc.samples // low))
    token = montecarlo.GROUPS.set(R)
    try:
        per_class, se, sim = _simulate(plan, sig)
    finally:
        montecarlo.GROUPS.reset(token)
    groups = _group_means(sim)
    ratios = plan.estimand == "mean-of-ratios"
    # linearised replicate curves: their mean is the estimate (up to unequal group sizes),
    # their covariance / R the batch-means delta-method covariance across sigma:
    # ratio of means  R + (mean_N,g - R mean_D,g) / mean_D;  mean of ratios  mean_g
    if ratios:
        lin = groups[0]
    else:
        mean_d = np.mean(groups[1], axis=-1)
        lin = per_class[..., None] + (groups[0] - per_class[..., None] * groups[1]) \
            / mean_d[..., None]
    curves = [_finish(plan, lin[..., g], np.zeros_like(lin[..., g]), samples=0,
                      error="").estimate for g in range(R)]
    res = _mc_result(plan, per_class, se, sim)
    reps = np.stack(curves).reshape((R, *plan.sigma.shape))
    return dataclasses.replace(res, replicates=reps)
