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
binomial counts (the spread of the interpolated crossing in ``log sigma``).

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
from .dynamics import Sampler, sigma_schedule
from .kernel import coefficients
from .models import MoLRG
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_array,
    check_int,
    check_real,
    check_sigma,
)

__all__ = ["ClassDenoiser", "CollapseCurve", "LawCheck", "Level", "SpeciationCurve",
           "bayes_class", "collapse_curve", "crossing", "law_check", "speciation_curve"]

BOOTSTRAP = 400
"""Parametric bootstrap resamples behind every level's error bar."""
MATCH_TOL = 1e-2
"""An end point "is" a training point when its distance to the nearest one is below this
fraction of the median nearest-neighbour spacing of the training set."""


def _check_model(model: Any) -> MoLRG:
    if not isinstance(model, MoLRG):
        raise ParameterTypeError(f"model={model!r} must be a molrg.MoLRG")
    return model


class ClassDenoiser:
    """The optimal denoiser of ONE class of a MoLRG: ``xhat = U diag(beta) U^T x`` with
    ``beta_k = zeta = 1/(1+sigma^2)`` on the class's own block and ``beta_l = xi =
    delta^2/(delta^2+sigma^2)`` elsewhere (a Gaussian, so the posterior mean is linear).

    Its backward dynamics maps ``N(0, Sigma_k + s_1^2 I)`` to ``N(0, Sigma_k + s_2^2 I)``:
    block energies ``(1 + s^2) chi2_d`` (own) and ``(delta^2 + s^2) chi2_d`` (others),
    the class-conditional law the sampler is checked against (:func:`law_check`).
    """

    def __init__(self, model: MoLRG, k: int) -> None:
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


def bayes_class(model: MoLRG, x: Any) -> np.ndarray:
    """The Bayes class ``argmax_l ||U_l^T x||^2`` of each row of ``x`` (``(m, n) -> (m,)`` ints,
    host NumPy).  The Bayes rule of the MoLRG at any noise level (equal priors and ranks)."""
    model = _check_model(model)
    xp = _backend.array_namespace(x)
    y = _backend.to_numpy(x @ model.basis_in(xp, _backend.float_dtype_of(xp, x)))
    r = np.sum(y.reshape(y.shape[0], model.K, model.d) ** 2, axis=2)
    return np.argmax(r, axis=1)


# ---------------------------------------------------------------------------------------
# Levels
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """Where a decreasing curve ``P(sigma)`` crosses ``threshold``.

    ``sigma`` is NaN when the curve is below the threshold at the first grid point
    (``position = "below grid"``) or above it at the last (``"above grid"``).  ``stderr``
    is the bootstrap standard deviation of the crossing in ``sigma`` (delta method from
    ``log sigma``); ``low``/``high`` the 16th/84th bootstrap percentiles.
    """

    sigma: float
    stderr: float
    low: float
    high: float
    threshold: float
    position: str

    @property
    def found(self) -> bool:
        return self.position == "inside"

    def to_json(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "stderr": self.stderr, "low": self.low,
                "high": self.high, "threshold": self.threshold, "position": self.position}


def _cross(sigma: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, str]:
    above = np.nonzero(p >= threshold)[0]
    if above.size == 0:
        return math.nan, "below grid"
    j = int(above[-1])
    if j == sigma.size - 1:
        return math.nan, "above grid"
    u0, u1 = math.log(sigma[j]), math.log(sigma[j + 1])
    p0, p1 = float(p[j]), float(p[j + 1])
    frac = 0.0 if p0 == p1 else (p0 - threshold) / (p0 - p1)
    return math.exp(u0 + frac * (u1 - u0)), "inside"


def crossing(sigma: Any, successes: Any, trials: Any, threshold: float, *,
             seed: int = 0, bootstrap: int = BOOTSTRAP) -> Level:
    """The level where the binomial proportion ``successes / trials`` (one per ``sigma``)
    last stays at or above ``threshold``, interpolated linearly in ``log sigma``, with a
    parametric bootstrap error bar.  ``sigma``: increasing 1-D grid."""
    sig = check_sigma(sigma)
    k = np.asarray(successes, dtype=np.int64)
    m = np.asarray(trials, dtype=np.int64)
    if sig.ndim != 1 or sig.size < 2 or np.any(np.diff(sig) <= 0):
        raise ParameterError("sigma must be 1-D, increasing, with at least 2 points")
    if k.shape != sig.shape or m.shape != sig.shape or np.any(m < 1) or np.any(k < 0) \
            or np.any(k > m):
        raise ParameterError("successes and trials must match sigma, 0 <= successes <= trials")
    threshold = check_real("threshold", threshold, low=0.0, high=1.0)
    bootstrap = check_int("bootstrap", bootstrap, low=10, high=10**6)
    p = k / m
    level, where = _cross(sig, p, threshold)
    rng = np.random.default_rng(seed)
    draws = rng.binomial(m, p, size=(bootstrap, sig.size)) / m
    logs = np.array([_cross(sig, row, threshold)[0] for row in draws])
    logs = np.log(logs[np.isfinite(logs)])
    if where != "inside" or logs.size < bootstrap // 2:
        return Level(level, math.nan, math.nan, math.nan, threshold, where)
    se = float(np.std(logs, ddof=1))
    lo, hi = np.percentile(logs, [16, 84])
    return Level(level, level * se, float(math.exp(lo)), float(math.exp(hi)), threshold, where)


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


def _check_sampler(sampler: Any) -> Sampler:
    if sampler is None:
        return Sampler()
    if not isinstance(sampler, Sampler):
        raise ParameterTypeError(f"sampler={sampler!r} must be a molrg.Sampler")
    return sampler


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


def speciation_curve(model: MoLRG, sigma: Any, /, *, sampler: Sampler | None = None,
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
    from .denoisers import OptimalDenoiser

    model = _check_model(model)
    sampler = _check_sampler(sampler)
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
    from .empirical import EmpiricalDenoiser

    check_array("points", points, ndim=2)
    pts = np.asarray(_backend.to_numpy(points), dtype=np.float64)
    if pts.shape[0] < 2 or pts.shape[1] < 1:
        raise ParameterError(f"points has shape {pts.shape}; valid: (N, n) with N >= 2")
    if not np.all(np.isfinite(pts)):
        raise ParameterError("points has non-finite entries; valid: finite training points")
    sampler = _check_sampler(sampler)
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


def law_check(model: MoLRG, /, *, sampler: Sampler | None = None, samples: int = 2000,
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
    from scipy import stats

    from .denoisers import OptimalDenoiser
    from .dynamics import backward

    model = _check_model(model)
    sampler = _check_sampler(sampler)
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


# ---------------------------------------------------------------------------------------
# The neighbouring theories' predictions (derived in molrg.symbolic.speciation; a test
# checks these transcriptions against the SymPy expressions)
# ---------------------------------------------------------------------------------------
def biroli_speciation_level(K: int, delta: float) -> float:
    """Biroli et al.'s spectral speciation level ``sigma_S = sqrt(Lambda - 1)``,
    ``Lambda = (1 + (K-1) delta^2) / K`` the largest covariance eigenvalue of the MoLRG;
    NaN when ``Lambda <= 1`` (always, for ``0 < delta < 1``: no level predicted)."""
    lam = (1.0 + (K - 1) * delta * delta) / K
    return math.sqrt(lam - 1.0) if lam > 1.0 else math.nan


def achilli_level(d: int, delta: float) -> float:
    """Our reading of Achilli et al.'s criterion (mean free-entropy difference between the
    true class and another equals its standard deviation):
    ``sigma_rs^2 = (1 - rho* delta^2) / (rho* - 1)``, ``rho* = (sqrt(d-1)+1)/(sqrt(d-1)-1)``;
    NaN when ``d <= 2`` or ``rho* delta^2 >= 1`` (the balance is never reached)."""
    if d <= 2:
        return math.nan
    q = math.sqrt(d - 1.0)
    rho = (q + 1.0) / (q - 1.0)
    s2 = (1.0 - rho * delta * delta) / (rho - 1.0)
    return math.sqrt(s2) if s2 > 0 else math.nan


def free_entropy_balance(d: int, delta: float, sigma: Any) -> np.ndarray:
    """``E[L] / sd[L]`` of the class log-likelihood ratio at ``sigma`` (1 at Achilli's level)."""
    s2 = np.asarray(sigma, dtype=np.float64) ** 2
    a, b = 1.0 + s2, delta * delta + s2
    mean = d * (a - b) ** 2 / (2 * a * b)
    var = d * (a - b) ** 2 * (a * a + b * b) / (2 * a * a * b * b)
    return np.asarray(mean / np.sqrt(var))


def class_information(K: int, d: int, delta: float, sigma: Any, *, samples: int = 20000,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mutual information ``I(class; x_sigma)`` (nats) and its Monte Carlo standard error.

    ``I = log K - E[H(w)]``, ``w = softmax(kappa r)`` the class posterior of the block
    energies ``r`` (own ``(1+s^2) chi2_d``, others ``(delta^2+s^2) chi2_d``); one set of
    chi-square draws is shared by every sigma (a smooth curve)."""
    sig = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    rng = np.random.default_rng(seed)
    chi = rng.chisquare(d, size=(samples, K))
    info, err = np.empty(sig.size), np.empty(sig.size)
    for i, s in enumerate(sig):
        s2 = s * s
        a, b = 1.0 + s2, delta * delta + s2
        r = chi * b
        r[:, 0] = chi[:, 0] * a
        g = 0.5 * (1.0 / b - 1.0 / a) * r
        g -= g.max(axis=1, keepdims=True)
        w = np.exp(g)
        w /= w.sum(axis=1, keepdims=True)
        h = -np.sum(np.where(w > 0, w * np.log(np.where(w > 0, w, 1.0)), 0.0), axis=1)
        info[i] = math.log(K) - h.mean()
        err[i] = h.std(ddof=1) / math.sqrt(samples)
    return info, err


def excess_entropy(K: int, d: int, delta: float, sigma: Any, *,
                   information: bool = True) -> np.ndarray:
    """Excess entropy of ``p_sigma`` over one point's Gaussian kernel (nats), on ``span(U)``:
    ``d/2 log(1 + 1/s^2) + (K-1) d/2 log(1 + delta^2/s^2) + I(s)``."""
    s2 = np.atleast_1d(np.asarray(sigma, dtype=np.float64)) ** 2
    out = 0.5 * d * np.log1p(1.0 / s2) + 0.5 * (K - 1) * d * np.log1p(delta * delta / s2)
    if information:
        out = out + class_information(K, d, delta, np.sqrt(s2))[0]
    return np.asarray(out)


def biroli_collapse_level(K: int, d: int, delta: float, N: float, *,
                          information: bool = True) -> float:
    """Biroli et al.'s collapse level: ``excess_entropy(sigma) = log N`` (decreasing in sigma;
    root in ``log sigma`` by Brent's method on ``[1e-4, 1e3]``)."""
    from scipy.optimize import brentq

    target = math.log(N)

    def f(u: float) -> float:
        return float(excess_entropy(K, d, delta, math.exp(u), information=information)[0]) - target

    lo, hi = math.log(1e-4), math.log(1e3)
    if f(lo) < 0 or f(hi) > 0:
        return math.nan
    return math.exp(brentq(f, lo, hi, xtol=1e-10))
