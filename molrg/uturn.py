"""U-turn experiments on the MoLRG: speciation and collapse levels, and the sampler's law check.

A *U-turn* from level ``sigma``: take a clean ``x0``, noise it, ``x = x0 + sigma eps``, run
the backward dynamics (:mod:`molrg.dynamics`) with some denoiser down to ``sigma_end`` and
ask what the end point remembers of ``x0``.

* **Speciation** (optimal denoiser): ``x0`` of class ``k``; the end point is classified by
  the Bayes rule of the MoLRG, ``argmax_l ||U_l^T x||^2`` (equal priors and ranks: the
  class-``l`` log-likelihood is ``(1/delta^2 - 1) ||U_l^T x||^2 / 2`` plus a constant, at every
  noise level, see :mod:`molrg.probes`).  ``P_same(sigma)`` falls from 1 to ``1/K``; the
  *speciation level* ``sigma_S`` is where it crosses the midpoint ``(1 + 1/K) / 2``.
* **Collapse** (empirical denoiser of ``N`` training points ``p_i``): ``x0 = p_i``; the end
  point is denoised once more at ``sigma_end`` and matched to its nearest training point.
  ``P_own(sigma)`` (the nearest point is ``p_i`` itself) falls from 1 towards ``1/N``; the
  *collapse level* ``sigma_C`` is where it crosses ``1/2``.  ``P_any`` (the end point is a
  training point to within ``match_tol`` of the nearest-neighbour spacing) is reported too.

Levels are found by linear interpolation in ``log sigma`` between the last grid point at or
above the threshold and the next one; their error bar is a parametric bootstrap of the
binomial counts (:func:`molrg.levels.crossing`).  :func:`law_check` tests the sampler
itself against the model's law; the neighbouring theories' predicted levels are in
:mod:`molrg.neighbours`.

All start levels share one schedule: the log-spaced schedule from the highest start level
to ``sigma_end`` with the start levels merged in, so that a batch that starts at
``sigma_j`` joins the ensemble already on its way down; every step moves every active
trajectory, and a whole curve costs one pass of the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _backend
from .denoisers import OptimalDenoiser
from .dynamics import Sampler, backward, check_sampler, sigma_schedule
from .empirical import EmpiricalDenoiser
from .kernel import coefficients
from .levels import Level, crossing
from .models import check_model
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_array,
    check_int,
    check_real,
    check_sigma,
)

__all__ = ["ClassDenoiser", "CollapseCurve", "LawCheck", "SpeciationCurve", "bayes_class",
           "collapse_curve", "law_check", "speciation_curve"]

MATCH_TOL = 1e-2
"""An end point "is" a training point when its distance to the nearest one is below this
fraction of the median nearest-neighbour spacing of the training set."""


def _check_model(model: Any) -> Any:
    """``model`` if its optimal denoiser has Proposition 1's form (``dae_parameters``: the
    idealised MoLRG, equal ranks and one ``delta``), which the class denoisers and the
    Bayes rule ``argmax_l ||U_l^T x||^2`` below assume."""
    model = check_model(model, ambient=True)
    if model.dae_parameters is None:
        raise ParameterTypeError(f"model={model!r} must be an idealised molrg.MoLRG (a model "
                                 "whose optimal denoiser is Proposition 1's DAE)")
    return model


class ClassDenoiser:
    """The optimal denoiser of ONE class of a MoLRG: ``xhat = U diag(beta) U^T x`` with
    ``beta_k = zeta = 1/(1+sigma^2)`` on the class's own block and ``beta_l = xi =
    delta^2/(delta^2+sigma^2)`` elsewhere (a Gaussian, so the posterior mean is linear).

    Its backward dynamics maps ``N(0, Sigma_k + s_1^2 I)`` to ``N(0, Sigma_k + s_2^2 I)``:
    block energies ``(1 + s^2) chi2_d`` (own) and ``(delta^2 + s^2) chi2_d`` (others),
    the class-conditional law the sampler is checked against (:func:`law_check`).
    """

    def __init__(self, model: Any, k: int) -> None:
        self.model = _check_model(model)
        self.k = check_int("k", k, low=0, high=model.K - 1)

    def __call__(self, x: Any, sigma: float, /) -> Any:
        xp = _backend.array_namespace(x)
        dt = _backend.float_dtype_of(xp, x)
        m = self.model
        basis = m.basis_in(xp, dt)
        coef = coefficients(xp.asarray(float(sigma), dtype=xp.float64), m.delta)
        own = np.zeros(m.rank, dtype=bool)
        own[self.k * m.d:(self.k + 1) * m.d] = True
        beta = np.where(own, float(coef.zeta), float(coef.xi))
        return ((x @ basis) * xp.asarray(beta, dtype=x.dtype)) @ xp.matrix_transpose(basis)


def bayes_class(model: Any, x: Any) -> np.ndarray:
    """The Bayes class ``argmax_l ||U_l^T x||^2`` of each row of ``x`` (``(m, n) -> (m,)`` ints,
    host NumPy).  The Bayes rule of the MoLRG at any noise level (equal priors and ranks)."""
    model = _check_model(model)
    xp = _backend.array_namespace(x)
    y = _backend.to_numpy(x @ model.basis_in(xp, _backend.float_dtype_of(xp, x)))
    r = np.sum(y.reshape(y.shape[0], model.K, model.d) ** 2, axis=2)
    return np.argmax(r, axis=1)


# ---------------------------------------------------------------------------------------
# The shared ensemble
# ---------------------------------------------------------------------------------------
def _merged_schedule(starts: np.ndarray, sampler: Sampler) -> np.ndarray:
    base = sigma_schedule(float(starts.max()), sampler.sigma_end, sampler.steps)
    return np.unique(np.concatenate([base, starts]))[::-1]


def _ensemble(denoiser: Callable[[Any, float], Any], starts: np.ndarray,
              make: Callable[[int], Any], sampler: Sampler, seed: Any) -> tuple[Any, np.ndarray]:
    """Run every start batch (``make(j)`` is the ``(m_j, n)`` state at ``starts[j]``) down to
    ``sigma_end`` in one ensemble; returns the end states and each row's start index."""
    sched = _merged_schedule(starts, sampler)
    x: Any = None
    group: list[np.ndarray] = []
    rand: _backend.Random | None = None
    for i in range(sched.size):
        s0 = float(sched[i])
        for j in np.nonzero(starts == sched[i])[0]:
            batch = make(int(j))
            xp = _backend.array_namespace(batch)
            x = batch if x is None else xp.concat([x, batch], axis=0)
            group.append(np.full(int(batch.shape[0]), int(j)))
        if i == sched.size - 1 or x is None:
            continue
        s1 = float(sched[i + 1])
        if sampler.kind == "ode":
            d = (x - denoiser(x, s0)) / s0
            trial = x + (s1 - s0) * d
            x = x + (s1 - s0) * 0.5 * (d + (trial - denoiser(trial, s1)) / s1)
        else:
            xp = _backend.array_namespace(x)
            rand = rand or _backend.Random(seed, xp)
            var = s0 * s0 - s1 * s1
            x = x + var * (denoiser(x, s0) - x) / (s0 * s0) \
                + math.sqrt(var) * rand.standard_normal(tuple(x.shape), x.dtype)
    if sampler.denoise_end:
        x = denoiser(x, float(sched[-1]))
    return x, np.concatenate(group)


def _grid(sigma: Any, sampler: Sampler) -> np.ndarray:
    sig = check_sigma(sigma)
    if sig.ndim != 1 or sig.size < 2 or np.any(np.diff(sig) <= 0):
        raise ParameterError("sigma must be 1-D, increasing, with at least 2 points")
    if sig[0] <= sampler.sigma_end:
        raise ParameterError(f"sigma={sig[0]!r} must exceed the sampler's "
                             f"sigma_end={sampler.sigma_end!r}")
    return sig


# ---------------------------------------------------------------------------------------
# Speciation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeciationCurve:
    """``P_same(sigma)``: the probability that a U-turn from ``sigma`` ends in the class it
    started from (Bayes rule), with binomial standard errors, and the speciation level."""

    sigma: np.ndarray
    p_same: np.ndarray
    stderr: np.ndarray
    samples: int
    level: Level
    sampler: Sampler
    K: int

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma.tolist(), "p_same": self.p_same.tolist(),
                "stderr": self.stderr.tolist(), "samples": self.samples,
                "level": self.level.to_json(), "sampler": self.sampler.to_json(), "K": self.K}


def speciation_curve(model: Any, sigma: Any, /, *, sampler: Sampler | None = None,
                     samples: int = 1000, seed: int = 0,
                     denoiser: Callable[[Any, float], Any] | None = None) -> SpeciationCurve:
    """U-turns of the optimal denoiser (or ``denoiser``) from every level of ``sigma``.

    ``samples`` U-turns per level, classes uniform; ``P_same`` with binomial errors; the
    speciation level crosses ``(1 + 1/K) / 2``.  Cost: one pass of the sampler's schedule
    on an ensemble of ``samples * len(sigma)`` trajectories in ``R^n`` (the U-turn does not
    depend on ``n``: use ``n = K d`` with a canonical basis for speed).

    Examples
    --------
    Two well-separated classes (``delta = 0.1``): a U-turn from a small ``sigma`` keeps its
    class, one from a large ``sigma`` lands in either (``P_same`` near ``1/K = 1/2``); the
    speciation level is where ``P_same`` crosses ``(1 + 1/2) / 2 = 0.75``:

    >>> import molrg
    >>> model = molrg.MoLRG(K=2, d=1, n=3, delta=0.1, seed=0)
    >>> curve = molrg.speciation_curve(model, [0.01, 0.1, 1.0, 10.0, 100.0], samples=200)
    >>> bool(curve.p_same[0] > 0.9), bool(abs(curve.p_same[-1] - 0.5) < 3 * curve.stderr[-1])
    (True, True)
    >>> curve.level.threshold, curve.level.position
    (0.75, 'inside')
    """
    model = _check_model(model)
    sampler = check_sampler(sampler)
    sig = _grid(sigma, sampler)
    samples = check_int("samples", samples, low=2, high=10**8)
    seed = check_int("seed", seed, low=0)
    if denoiser is not None and not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be callable (x, sigma) -> xhat")
    den = OptimalDenoiser(model) if denoiser is None else denoiser
    seeds = np.random.SeedSequence(seed).spawn(sig.size + 2)
    labels: dict[int, np.ndarray] = {}

    def make(j: int) -> Any:
        rng = np.random.default_rng(seeds[j])
        x0, lab = model.sample(samples, rng)
        labels[j] = _backend.to_numpy(lab)
        return x0 + float(sig[j]) * rng.standard_normal(x0.shape)

    end, group = _ensemble(den, sig, make, sampler, seeds[-1])
    truth = np.concatenate([labels[j] for j in _group_order(group)])
    same = bayes_class(model, end) == truth
    k = np.array([int(np.sum(same[group == j])) for j in range(sig.size)])
    p = k / samples
    se = np.sqrt(np.maximum(p * (1 - p), 1.0 / samples) / samples)
    level = crossing(sig, k, np.full(sig.size, samples), 0.5 * (1 + 1 / model.K), seed=seed)
    return SpeciationCurve(sig, p, se, samples, level, sampler, model.K)


def _group_order(group: np.ndarray) -> list[int]:
    """Start indices in the order their batches joined the ensemble."""
    out: list[int] = []
    for g in group:
        if not out or out[-1] != g:
            out.append(int(g))
    return out


# ---------------------------------------------------------------------------------------
# Collapse
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CollapseCurve:
    """``P_own(sigma)`` (the U-turn from training point ``p_i`` ends at ``p_i``) and
    ``P_any(sigma)`` (it ends at some training point), binomial errors, the collapse level
    (``P_own`` crosses 1/2)."""

    sigma: np.ndarray
    p_own: np.ndarray
    p_any: np.ndarray
    stderr: np.ndarray
    samples: int
    N: int
    level: Level
    sampler: Sampler

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma.tolist(), "p_own": self.p_own.tolist(),
                "p_any": self.p_any.tolist(), "stderr": self.stderr.tolist(),
                "samples": self.samples, "N": self.N, "level": self.level.to_json(),
                "sampler": self.sampler.to_json()}


def collapse_curve(points: Any, sigma: Any, /, *, sampler: Sampler | None = None,
                   samples: int = 500, seed: int = 0, basis: Any = None) -> CollapseCurve:
    """U-turns of the empirical denoiser of ``points`` (``(N, n)``, NumPy) from every level.

    Each U-turn starts at a uniformly drawn training point; the end point is denoised at
    ``sigma_end`` (the sampler's ``denoise_end`` is forced on) and matched to its nearest
    training point.  ``basis``: orthonormal columns spanning the points (passed to
    :class:`~molrg.EmpiricalDenoiser`, exact and cheaper).

    Examples
    --------
    The empirical denoiser's U-turn always ends at some training point (``P_any = 1``);
    from a small ``sigma`` it returns to the point it started from (``P_own = 1``):

    >>> import molrg
    >>> points, _ = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0).sample(4, 0)
    >>> curve = molrg.collapse_curve(points, [0.01, 0.1, 10.0], samples=100)
    >>> curve.N, float(curve.p_own[0]), curve.p_any
    (4, 1.0, array([1., 1., 1.]))
    >>> curve.level.threshold, curve.level.position
    (0.5, 'inside')
    """
    check_array("points", points, ndim=2)
    pts = np.asarray(_backend.to_numpy(points), dtype=np.float64)
    if pts.shape[0] < 2 or pts.shape[1] < 1:
        raise ParameterError(f"points has shape {pts.shape}; valid: (N, n) with N >= 2")
    if not np.all(np.isfinite(pts)):
        raise ParameterError("points has non-finite entries; valid: finite training points")
    sampler = check_sampler(sampler)
    sampler = Sampler(sampler.kind, sampler.steps, sampler.sigma_end, True)
    sig = _grid(sigma, sampler)
    samples = check_int("samples", samples, low=2, high=10**8)
    seed = check_int("seed", seed, low=0)
    den = EmpiricalDenoiser(pts, basis=basis)
    N = pts.shape[0]
    seeds = np.random.SeedSequence(seed).spawn(sig.size + 1)
    starts: dict[int, np.ndarray] = {}

    def make(j: int) -> Any:
        rng = np.random.default_rng(seeds[j])
        idx = rng.integers(0, N, samples)
        starts[j] = idx
        return pts[idx] + float(sig[j]) * rng.standard_normal((samples, pts.shape[1]))

    end, group = _ensemble(den, sig, make, sampler, seeds[-1])
    nearest, dist = _nearest(pts, np.asarray(end))
    spacing = _spacing(pts)
    truth = np.concatenate([starts[j] for j in _group_order(group)])
    own = (nearest == truth) & (dist <= MATCH_TOL * spacing)
    anyp = dist <= MATCH_TOL * spacing
    k = np.array([int(np.sum(own[group == j])) for j in range(sig.size)])
    ka = np.array([int(np.sum(anyp[group == j])) for j in range(sig.size)])
    p = k / samples
    se = np.sqrt(np.maximum(p * (1 - p), 1.0 / samples) / samples)
    level = crossing(sig, k, np.full(sig.size, samples), 0.5, seed=seed)
    return CollapseCurve(sig, p, ka / samples, se, samples, N, level, sampler)


def _nearest(pts: np.ndarray, x: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    half = 0.5 * np.sum(pts * pts, axis=1)
    idx = np.empty(x.shape[0], dtype=np.int64)
    dist = np.empty(x.shape[0])
    for i in range(0, x.shape[0], chunk):
        xc = x[i:i + chunk]
        score = xc @ pts.T - half  # argmax = nearest
        j = np.argmax(score, axis=1)
        idx[i:i + chunk] = j
        dist[i:i + chunk] = np.linalg.norm(xc - pts[j], axis=1)
    return idx, dist


def _spacing(pts: np.ndarray) -> float:
    """Median nearest-neighbour distance of the training points (on up to 2000 of them)."""
    sub = pts[:2000]
    d2 = np.sum(sub * sub, 1)[:, None] + np.sum(pts * pts, 1)[None, :] - 2 * sub @ pts.T
    d2[np.arange(sub.shape[0]), np.arange(sub.shape[0])] = np.inf
    return float(np.median(np.sqrt(np.maximum(d2.min(axis=1), 0.0))))


# ---------------------------------------------------------------------------------------
# The sampler against the model's law
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LawCheck:
    """p-values of the backward samples at ``sigma_end`` against the model's law there.

    ``conditional``: per class ``k``, the class-``k`` dynamics (:class:`ClassDenoiser`);
    Kolmogorov-Smirnov of the own-block energies against ``(1 + s^2) chi2_d`` and of the
    other blocks' against ``(delta^2 + s^2) chi2_d`` (``s = sigma_end``).
    ``mixture``: the optimal denoiser; each block energy against the mixture law
    ``(1/K) F_own + ((K-1)/K) F_other``.  ``two_sample``: two-sample KS of every coordinate
    ``U^T x`` and every block energy against fresh forward samples ``x0 + s eps``.
    ``min_p`` per family with its Bonferroni-adjusted value.
    """

    conditional: dict[str, float]
    mixture: dict[str, float]
    two_sample: dict[str, float]
    samples: int
    sigma_start: float
    sampler: Sampler
    bonferroni: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"conditional": self.conditional, "mixture": self.mixture,
                "two_sample": self.two_sample, "samples": self.samples,
                "sigma_start": self.sigma_start, "sampler": self.sampler.to_json(),
                "bonferroni": self.bonferroni}


def law_check(model: Any, /, *, sampler: Sampler | None = None, samples: int = 2000,
              sigma_start: float = 10.0, seed: int = 0) -> LawCheck:
    """Sample ``x0 + sigma_start eps`` exactly, run it back, test the law at ``sigma_end``.

    Examples
    --------
    The optimal denoiser's ODE samples the model's law: every family of tests passes
    (Bonferroni-adjusted p-values well above 1%), each p-value in ``[0, 1]``:

    >>> import molrg
    >>> check = molrg.law_check(molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0), samples=200)
    >>> sorted(check.bonferroni), sorted(check.mixture)
    (['conditional', 'mixture', 'two_sample'], ['block0', 'block1'])
    >>> all(0.01 < p <= 1 for p in check.bonferroni.values())
    True
    """
    # deferred, as scikit-learn in molrg.ensemble: scipy.stats fails to import while torch
    # is stubbed out as absent, and ``from molrg import *`` must not import it
    from scipy import stats

    model = _check_model(model)
    sampler = check_sampler(sampler)
    sigma_start = check_real("sigma_start", sigma_start, low=sampler.sigma_end, high=1e3,
                             open_high=False)
    seed = check_int("seed", seed, low=0)
    if sampler.denoise_end:
        raise ParameterError("sampler.denoise_end must be False for the law check (the law "
                             "of x at sigma_end is tested)")
    samples = check_int("samples", samples, low=20, high=10**8)
    rng = np.random.default_rng(seed)
    s = sampler.sigma_end
    K, d, delta = model.K, model.d, model.delta
    a, b = 1.0 + s * s, delta * delta + s * s
    basis = model.basis

    def energies(x: np.ndarray) -> np.ndarray:
        y = x @ basis
        return np.sum(y.reshape(y.shape[0], K, d) ** 2, axis=2)

    cond: dict[str, float] = {}
    for k in range(K):
        z = rng.standard_normal((samples, K, d)) * np.where(np.arange(K) == k, 1.0, delta)[:, None]
        x0 = z.reshape(samples, K * d) @ basis.T
        x = x0 + sigma_start * rng.standard_normal(x0.shape)
        end = backward(ClassDenoiser(model, k), x, sigma_start, sampler,
                       seed=int(rng.integers(2**62)))
        r = energies(end)
        cond[f"class{k}/own"] = float(stats.kstest(r[:, k] / a, stats.chi2(d).cdf).pvalue)
        other = np.delete(r, k, axis=1).ravel() / b
        cond[f"class{k}/others"] = float(stats.kstest(other, stats.chi2(d).cdf).pvalue)
    x0, _ = model.sample(samples, rng)
    x = x0 + sigma_start * rng.standard_normal(x0.shape)
    end = backward(OptimalDenoiser(model), x, sigma_start, sampler,
                   seed=int(rng.integers(2**62)))
    r = energies(end)

    def mix_cdf(t: np.ndarray) -> np.ndarray:
        return (stats.chi2(d).cdf(t / a) + (K - 1) * stats.chi2(d).cdf(t / b)) / K

    mix = {f"block{l}": float(stats.kstest(r[:, l], mix_cdf).pvalue) for l in range(K)}
    f0, _ = model.sample(samples, rng)
    fresh = f0 + s * rng.standard_normal(f0.shape)
    two: dict[str, float] = {}
    ye, yf = end @ basis, fresh @ basis
    for c in range(K * d):
        two[f"coord{c}"] = float(stats.ks_2samp(ye[:, c], yf[:, c]).pvalue)
    rf = energies(fresh)
    for l in range(K):
        two[f"energy{l}"] = float(stats.ks_2samp(r[:, l], rf[:, l]).pvalue)
    bonf = {name: float(min(1.0, min(fam.values()) * len(fam)))
            for name, fam in (("conditional", cond), ("mixture", mix), ("two_sample", two))}
    return LawCheck(cond, mix, two, samples, float(sigma_start), sampler, bonf)
