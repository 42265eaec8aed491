"""Learning dynamics at a fixed training set: curves and scores per training checkpoint.

For a sequence of denoisers (the checkpoints of one training run on points ``P``),
:func:`checkpoint_curves` evaluates, per checkpoint and on one sigma grid:

* the SNR curve (:func:`molrg.snr`, ambient Monte Carlo with ``replicates`` for paired
  errors) and its shape (:func:`molrg.result_shape`);
* the linear-probe accuracy curve (:func:`molrg.probe_accuracy`) and its peak over sigma;
* the generalisation score ``g = A / (A + B)`` (:func:`molrg.generalization_score`) and
  ``A = E||f - f*||^2``, the distance to the optimal denoiser;
* the **distance to the optimum** ``D = exp(mean_sigma log A(sigma))`` (the geometric mean
  of ``A`` over the grid: every noise level weighs the same whatever its scale), the
  analogue of the paper's FID, with a delta-method error.

:func:`rank_correlation` is Spearman's rho with an exact (or Monte Carlo) permutation
p-value, for "peak probe accuracy is negatively correlated with the distance".
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .analysis import result_shape
from .estimators import UntrustworthyWarning, snr
from .generalization import StudyOptions, generalization_score
from .models import check_model
from .options import MonteCarlo
from .probes import probe_accuracy
from .validation import ParameterError, ParameterTypeError, check_int, check_sigma

__all__ = ["CURVE_EVALUATION", "CheckpointCurves", "RankCorrelation", "checkpoint_curves",
           "log_checkpoints", "rank_correlation"]


def log_checkpoints(first: int, last: int, count: int) -> tuple[int, ...]:
    """``count`` log-spaced integer steps from ``first`` to ``last`` (duplicates dropped).

    Examples
    --------
    >>> import molrg
    >>> molrg.log_checkpoints(1, 1000, 4)
    (1, 10, 100, 1000)
    """
    first = check_int("first", first, low=1, high=10**9)
    last = check_int("last", last, low=1, high=10**9)
    if last < first:
        raise ParameterError(f"last={last} must be at least first={first}")
    count = check_int("count", count, low=1, high=10_000)
    steps = np.unique(np.rint(np.geomspace(first, last, count)).astype(int))
    return tuple(int(s) for s in steps)


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's ``rho`` of ``x`` and ``y``, its two-sided permutation ``p`` value
    (``exact`` when every pairing was enumerated) and the one-sided ``p_negative``
    (probability of a rho at most the observed under independence)."""

    rho: float
    p: float
    p_negative: float
    size: int
    exact: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ranks(v: np.ndarray) -> np.ndarray:
    # deferred, as scikit-learn in molrg.ensemble: scipy.stats fails to import while torch
    # is stubbed out as absent, and ``from molrg import *`` must not import it
    from scipy.stats import rankdata

    return np.asarray(rankdata(v), dtype=np.float64)


def rank_correlation(x: Any, y: Any, *, resamples: int = 20_000,
                     seed: int = 0) -> RankCorrelation:
    """Spearman correlation with a permutation p-value (exact for at most 8 points).

    Examples
    --------
    >>> import molrg
    >>> r = molrg.rank_correlation([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    >>> r.rho, round(r.p_negative, 4), r.exact
    (-1.0, 0.0083, True)
    """
    arrays = []
    for name, v in (("x", x), ("y", y)):
        try:
            if isinstance(v, (str, bytes)) or np.asarray(v).dtype.kind not in "iuf":
                raise TypeError
            arr = np.asarray(v, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise ParameterTypeError(f"{name}={v!r} must be real numbers") from None
        if arr.size < 3 or not np.all(np.isfinite(arr)):
            raise ParameterError(f"{name}={v!r} must be at least 3 finite numbers")
        arrays.append(arr)
    a, b = arrays
    if a.size != b.size:
        raise ParameterError(f"y has {b.size} values; valid: as many as x ({a.size})")
    resamples = check_int("resamples", resamples, low=100, high=10**7)
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float(ra @ ra) * float(rb @ rb))
    if den == 0:
        return RankCorrelation(math.nan, math.nan, math.nan, a.size, True)
    rho = float(ra @ rb) / den
    exact = a.size <= 8
    if exact:
        perms = np.array(list(itertools.permutations(range(a.size))))
    else:
        rng = np.random.default_rng(seed)
        perms = np.stack([rng.permutation(a.size) for _ in range(resamples)])
    null = (rb[perms] @ ra) / den
    eps = 1e-12
    p = float(np.mean(np.abs(null) >= abs(rho) - eps))
    p_neg = float(np.mean(null <= rho + eps))
    if not exact:  # include the observed pairing (a valid Monte Carlo p-value)
        p = (p * resamples + 1) / (resamples + 1)
        p_neg = (p_neg * resamples + 1) / (resamples + 1)
    return RankCorrelation(rho, p, p_neg, int(a.size), exact)


@dataclass(frozen=True)
class CheckpointCurves:
    """Per checkpoint (``steps``, in order): SNR curve (``snr``, ``snr_stderr``, ``shape``,
    ``untrustworthy``), linear-probe curve (``probe``, ``probe_stderr``), score ``g`` and
    distance ``A`` per sigma, and the scalar ``distance`` ``D`` with ``distance_stderr``.
    Arrays are ``(checkpoints, sigma)``."""

    sigma: np.ndarray
    steps: tuple[int, ...]
    snr: np.ndarray
    snr_stderr: np.ndarray
    shapes: tuple[dict[str, Any], ...]
    untrustworthy: np.ndarray
    probe: np.ndarray
    probe_stderr: np.ndarray
    score: np.ndarray
    score_stderr: np.ndarray
    to_optimal: np.ndarray
    to_optimal_stderr: np.ndarray
    distance: np.ndarray
    distance_stderr: np.ndarray

    @property
    def peak_probe(self) -> np.ndarray:
        """Per checkpoint: the largest linear-probe accuracy over sigma."""
        return np.asarray(self.probe.max(axis=1))

    def to_json(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else
                    list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


CURVE_EVALUATION = StudyOptions(samples=10_000, replicates=50, probe_samples=2_000,
                                score_samples=2_000)
""":func:`checkpoint_curves`'s default evaluation settings."""


def checkpoint_curves(model: Any, checkpoints: Mapping[int, Any], points: Any, sigma: Any, /, *,
                      evaluation: StudyOptions | None = None, seed: int = 0) -> CheckpointCurves:
    """SNR and linear-probe curves, generalisation score and distance to the optimum of
    each checkpoint of a training run on ``points`` (the same evaluation draws for every
    checkpoint: common random numbers along training).

    Parameters
    ----------
    model : the data law, an ambient model (:class:`~molrg.MoLRG` or
        :class:`~molrg.LowRankMixture`).
    checkpoints : mapping step -> denoiser ``(x, sigma) -> xhat`` (e.g.
        ``TrainedDenoiser.checkpoints``).
    points : ``(N, n)`` the training set.
    sigma : 1-D grid of noise levels.
    evaluation : :class:`~molrg.StudyOptions`: SNR ``samples`` (fixed: ``max_samples`` is
        not used) with ``replicates`` for paired errors, ``input``, ``denominator``, ``z``
        for the curve shapes, ``probe_samples`` (at least ``2 K``) and ``score_samples``
        (default :data:`CURVE_EVALUATION`; ``regime_sigma_max`` is not used).
    seed : the SNR's seed (``seed + 1`` the probe's, ``seed + 2`` the score's).

    Examples
    --------
    The optimum and the memorising denoiser as two "checkpoints":

    >>> import molrg
    >>> m = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0); p, _ = m.sample(4, 0)
    >>> opt = lambda x, s: molrg.posterior_mean(m, x, s)
    >>> ev = molrg.StudyOptions(samples=400, replicates=4, probe_samples=200, score_samples=200)
    >>> c = molrg.checkpoint_curves(m, {1: opt, 2: molrg.EmpiricalDenoiser(p)}, p, [0.5, 1.0],
    ...                             evaluation=ev)
    >>> c.score.round(3).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    model = check_model(model, ambient=True)
    ev = CURVE_EVALUATION if evaluation is None else evaluation
    if not isinstance(ev, StudyOptions):
        raise ParameterTypeError(f"evaluation={evaluation!r} must be None or a "
                                 "molrg.StudyOptions")
    if ev.probe_samples < 2 * model.K:
        raise ParameterError(f"evaluation.probe_samples={ev.probe_samples} is out of range; "
                             f"valid: at least 2 K = {2 * model.K}")
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    try:
        if isinstance(points, (str, bytes)) or np.asarray(points).dtype.kind not in "iuf":
            raise TypeError
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("points must be an (N, n) array of real numbers") from None
    if pts.ndim != 2 or pts.shape[1] != model.n or pts.shape[0] < 1 or not np.all(np.isfinite(pts)):
        raise ParameterError(f"points has shape {pts.shape}; valid: finite (N, n={model.n})")
    if np.ndim(sigma) != 1 or np.size(sigma) < 2:
        raise ParameterError(f"sigma={sigma!r}; valid: a 1-D grid of at least 2 noise levels")
    if not isinstance(checkpoints, Mapping) or not checkpoints:
        raise ParameterTypeError("checkpoints must be a non-empty mapping step -> denoiser")
    sig = np.atleast_1d(check_sigma(sigma)).astype(np.float64).ravel()
    steps = tuple(sorted(int(s) for s in checkpoints))
    rows = [_checkpoint_row(model, checkpoints[step], points, sig, ev, seed) for step in steps]
    arr = {k: np.asarray([r[k] for r in rows]) for k in rows[0] if k != "shape"}
    return CheckpointCurves(sig, steps, arr["snr"], arr["se"], tuple(r["shape"] for r in rows),
                            arr["flag"], arr["probe"], arr["pse"], arr["g"], arr["ge"],
                            arr["a"], arr["ae"], arr["D"], arr["De"])


def _checkpoint_row(model: Any, f: Any, points: Any, sig: np.ndarray, ev: StudyOptions,
                    seed: int) -> dict[str, Any]:
    """One checkpoint's curves, score and distance (the row of :class:`CheckpointCurves`)."""
    with warnings.catch_warnings():  # recorded per level in ``untrustworthy``
        warnings.simplefilter("ignore", UntrustworthyWarning)
        s = snr(model, sig, input=ev.input, denominator=ev.denominator, denoiser=f,
                replicates=ev.replicates,
                method=MonteCarlo(simulator="ambient", samples=ev.samples, seed=seed))
    pr = probe_accuracy(model, sig, probe="linear", denoiser=f, input=ev.input,
                        method=MonteCarlo(samples=ev.probe_samples, seed=seed + 1))
    g = generalization_score(model, f, points, sig, samples=ev.score_samples, seed=seed + 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(g.to_optimal)
        rel = g.to_optimal_stderr / g.to_optimal
    D = float(np.exp(np.mean(logs)))
    return {"snr": s.estimate, "se": s.stderr, "shape": result_shape(s, ev.z).to_json(),
            "flag": np.asarray(s.untrustworthy, dtype=bool), "probe": pr.estimate,
            "pse": pr.stderr, "g": g.score, "ge": g.stderr, "a": g.to_optimal,
            "ae": g.to_optimal_stderr, "D": D,
            # independent-error delta method (the levels share draws: an approximation)
            "De": D * float(np.sqrt(np.sum(rel**2))) / sig.size}
