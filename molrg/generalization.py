"""Where a denoiser sits between the optimum and the memorising denoiser of its training set.

For a denoiser ``f`` trained on points ``P = {p_1..p_N}`` of a model, per noise level
``sigma`` and fresh ``x_t = x0 + sigma eps`` (``x0`` from the model, not from ``P``):

    ``A = E ||f(x_t) - f*(x_t)||^2``      (distance to the optimal denoiser ``E[x0 | x_t]``)
    ``B = E ||f(x_t) - f_P(x_t)||^2``     (distance to the empirical denoiser of ``P``)
    ``g = A / (A + B)``.

``g = 0`` exactly when ``f = f*`` (almost everywhere under the law of ``x_t``), ``g = 1``
exactly when ``f = f_P``; on the segment ``f = f* + t (f_P - f*)`` it is ``t^2 / (t^2 +
(1 - t)^2)``, so ``g = 1/2`` at the midpoint.  Why this score: both references are known
exactly on the MoLRG (quadrature-free closed forms), the score is scale-free per sigma
(so levels with tiny and large denoising errors are comparable), it measures the one
direction that matters for memorisation (towards the training set's own denoiser), and it
is estimated from fresh samples, never from the training points.  It is undefined where
``f* = f_P = f`` (``A + B = 0``): ``nan``.

Errors: ``A`` and ``B`` are means over the same ``samples`` draws (paired), ``g`` a ratio:
delta method with influence ``(B a_i - A b_i) / (A + B)^2``; common random numbers across
sigma (one set of draws serves every level).

Where the two references coincide (large sigma and large ``N``: ``f_P -> f*``) ``A`` and
``B`` both tend to the network's own error and ``g -> 1/2`` whatever the network does.  So
beside ``g`` the score carries the **memorisation coefficient**

    ``t = E <f - f*, f_P - f*> / C``,   ``C = E ||f_P - f*||^2``  (``between``),

the position of ``f`` projected on the segment from ``f*`` (``t = 0``) to ``f_P``
(``t = 1``): exact on the segment (``t`` itself), blind to error orthogonal to it, and
uncertain (large ``stderr``), not biased towards 1/2, where ``C`` is small.
:func:`memorization_regime` reads it.  :func:`size_study` trains one network on ``N``
points and measures everything the data-size sweep (``python -m verify generalization``)
needs: the score, SNR and linear-probe curves with their shapes, and the SNR curve of the
exact empirical denoiser of the same points.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .analysis import curve_shape, result_shape
from .denoisers import posterior_mean
from .empirical import EmpiricalDenoiser
from .estimators import UntrustworthyWarning, snr
from .models import check_model
from .options import DENOMINATORS, INPUTS, MonteCarlo
from .probes import probe_accuracy
from .train.fit import train_denoiser
from .train.options import TrainOptions
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_choice,
    check_int,
    check_real,
    check_sigma,
)

__all__ = ["REGIMES", "GeneralizationScore", "Regime", "SizeStudy", "StudyOptions",
           "generalization_score", "memorization_regime", "size_study", "training_epochs"]


@dataclass(frozen=True)
class GeneralizationScore:
    """Per sigma: ``score`` ``g`` and its ``stderr``; ``to_optimal`` ``A`` and
    ``to_empirical`` ``B`` (mean squared distances) with their errors; ``samples``;
    ``toward_empirical`` (the memorisation coefficient ``t``) and its error; ``between``
    ``C = E ||f_P - f*||^2`` (how far apart the two references are)."""

    sigma: np.ndarray
    score: np.ndarray
    stderr: np.ndarray
    to_optimal: np.ndarray
    to_optimal_stderr: np.ndarray
    to_empirical: np.ndarray
    to_empirical_stderr: np.ndarray
    samples: int
    toward_empirical: np.ndarray = field(default_factory=lambda: np.empty(0))
    toward_empirical_stderr: np.ndarray = field(default_factory=lambda: np.empty(0))
    between: np.ndarray = field(default_factory=lambda: np.empty(0))

    def to_json(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.__dict__.items()}


def _empirical(model: Any, points: Any) -> EmpiricalDenoiser:
    """The exact empirical denoiser of ``points``, in the model's basis coordinates where
    the points lie in its span (faster), else in the ambient space."""
    try:
        return EmpiricalDenoiser(points, basis=getattr(model, "basis", None))
    except ParameterError:  # points outside span(basis): the ambient evaluation
        return EmpiricalDenoiser(points)


def generalization_score(model: Any, denoiser: Any, points: Any, sigma: Any, /, *,
                         samples: int = 4000, seed: int = 0,
                         optimal: Any = None) -> GeneralizationScore:
    """The generalisation score ``g(sigma)`` of ``denoiser`` trained on ``points``.

    Parameters
    ----------
    model : :class:`~molrg.MoLRG` or :class:`~molrg.LowRankMixture` (the data law).
    denoiser : callable ``(x, sigma) -> xhat`` on ``(m, n)`` NumPy arrays.
    points : ``(N, n)`` the denoiser's own training set (``f_P``: its :class:`~molrg.EmpiricalDenoiser`).
    sigma : positive scalar or 1-D array.
    samples : fresh evaluation samples (class-balanced), shared by every sigma.
    optimal : the reference optimum (default: ``molrg.posterior_mean(model, ., sigma)``).

    Examples
    --------
    >>> import molrg; m = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0); p, _ = m.sample(4, 0)
    >>> [molrg.generalization_score(m, f, p, 1.0, samples=200).score.item()  # optimum: 0, f_P: 1
    ...  for f in (lambda x, s: molrg.posterior_mean(m, x, s), molrg.EmpiricalDenoiser(p))]
    [0.0, 1.0]
    """
    model = check_model(model, ambient=True)
    if not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be a callable (x, sigma) -> xhat")
    if optimal is not None and not callable(optimal):
        raise ParameterTypeError(f"optimal={optimal!r} must be None or a callable (x, sigma)")
    try:
        _raw = np.asarray(points)
        if _raw.dtype.kind not in "iuf":
            raise TypeError
    except (TypeError, ValueError):
        raise ParameterTypeError("points must be real numbers") from None
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("points must be an (N, n) array of real numbers") from None
    if pts.ndim != 2 or pts.shape[1] != model.n or pts.shape[0] < 1 \
            or not np.all(np.isfinite(pts)):
        raise ParameterError(f"points has shape {pts.shape} (or non-finite entries); valid: "
                             f"finite (N, n) with n={model.n}")
    sig = np.atleast_1d(check_sigma(sigma)).astype(np.float64).ravel()
    samples = check_int("samples", samples, low=2, high=10**8)
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    emp = _empirical(model, pts)
    opt = optimal if optimal is not None else (lambda x, s: posterior_mean(model, x, s))
    rng = np.random.default_rng(seed)
    x0, _ = model.sample(samples, rng)
    x0 = np.asarray(x0, dtype=np.float64)
    eps = rng.standard_normal(x0.shape)
    rows = [_distances(np.asarray(denoiser(x0 + s * eps, float(s)), dtype=np.float64),
                       np.asarray(opt(x0 + s * eps, float(s)), dtype=np.float64),
                       np.asarray(emp(x0 + s * eps, float(s)), dtype=np.float64))
            for s in sig]
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    return GeneralizationScore(sig, out["g"], out["ge"], out["a"], out["ae"], out["b"],
                               out["be"], samples, out["t"], out["te"], out["c"])


def _distances(f: np.ndarray, fo: np.ndarray, fp: np.ndarray) -> dict[str, float]:
    """One level's ``g``, ``A``, ``B``, ``t``, ``C`` and their errors from the outputs of
    the denoiser, the optimum and the empirical denoiser on the same draws."""
    root = math.sqrt(f.shape[0])
    a = np.sum((f - fo) ** 2, axis=1)
    b = np.sum((f - fp) ** 2, axis=1)
    c = np.sum((fp - fo) ** 2, axis=1)
    p = np.sum((f - fo) * (fp - fo), axis=1)
    A, B, C = float(a.mean()), float(b.mean()), float(c.mean())
    out = {"a": A, "ae": float(a.std(ddof=1) / root), "b": B,
           "be": float(b.std(ddof=1) / root), "c": C, "g": math.nan, "ge": math.nan,
           "t": math.nan, "te": math.nan}
    if A + B > 0:
        out["g"] = A / (A + B)
        out["ge"] = float(((B * a - A * b) / (A + B) ** 2).std(ddof=1) / root)
    if C > 0:
        out["t"] = float(p.mean()) / C
        out["te"] = float(((p - out["t"] * c) / C).std(ddof=1) / root)
    return out


# ---------------------------------------------------------------------------------------
# Reading the score: memorising or generalising
# ---------------------------------------------------------------------------------------
REGIMES = ("memorises", "generalises", "undetermined")
"""The outcomes of :func:`memorization_regime`."""


@dataclass(frozen=True)
class Regime:
    """:func:`memorization_regime`'s answer.

    ``regime``: ``"memorises"``, ``"generalises"`` or ``"undetermined"``; ``coefficient``:
    the largest memorisation coefficient ``t`` over the resolved levels (``nan`` if none);
    ``where``: its sigma; ``lower``: the largest ``t - z stderr`` over all levels (the
    strongest evidence of memorisation); ``resolved``: how many levels have ``stderr <=
    resolution``.
    """

    regime: str
    coefficient: float
    where: float
    lower: float
    resolved: int
    z: float
    threshold: float
    sigma_max: float = math.inf

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def memorization_regime(score: GeneralizationScore, z: float = 4.0, *,
                        threshold: float = 0.5, resolution: float = 0.1,
                        sigma_max: float | None = None) -> Regime:
    """Whether a trained denoiser memorises its training set, from its score.

    With ``t`` the memorisation coefficient (``score.toward_empirical``) and ``s`` its
    standard error per sigma: **memorises** if at some level ``t - z s > threshold`` (it
    sits significantly nearer the empirical denoiser's side of the segment from ``f*`` to
    ``f_P``); **generalises** if no level does, and every *resolved* level (``s <=
    resolution``; levels where the two references nearly coincide are not) has ``t + z s
    < threshold``, with at least one resolved level; else **undetermined**.  Only levels
    ``sigma <= sigma_max`` count (default: all).  Why a window: at large sigma the empirical
    denoiser is the training set's mean, which any network fitted to the set learns first,
    so ``t`` is near 1 there for every ``N`` it resolves; the representation is read at
    and below the SNR peak.

    Examples
    --------
    >>> import molrg; m = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0); p, _ = m.sample(8, 0)
    >>> opt = lambda x, s: molrg.posterior_mean(m, x, s)
    >>> [molrg.memorization_regime(molrg.generalization_score(m, f, p, [0.3, 1.0],
    ...  samples=400)).regime for f in (opt, molrg.EmpiricalDenoiser(p))]
    ['generalises', 'memorises']
    """
    if not isinstance(score, GeneralizationScore):
        raise ParameterTypeError(f"score={score!r} must be a molrg.GeneralizationScore")
    z = check_real("z", z, low=0.0)
    threshold = check_real("threshold", threshold, low=0.0, high=1.0)
    resolution = check_real("resolution", resolution, low=0.0, open_low=True)
    t = np.asarray(score.toward_empirical, dtype=np.float64)
    s = np.asarray(score.toward_empirical_stderr, dtype=np.float64)
    if t.size == 0:
        raise ParameterError("score has no memorisation coefficient (an old record); valid: "
                             "a score from molrg.generalization_score")
    ok = np.isfinite(t) & np.isfinite(s)
    if sigma_max is not None:
        ok &= np.asarray(score.sigma) <= check_real("sigma_max", sigma_max, low=0.0)
    lower = np.where(ok, t - z * s, -np.inf)
    resolved = ok & (s <= resolution)
    best = float(np.max(lower)) if lower.size else -math.inf
    if resolved.any():
        j = int(np.argmax(np.where(resolved, t, -np.inf)))
        coef, where = float(t[j]), float(score.sigma[j])
    else:
        coef, where = math.nan, math.nan
    if best > threshold:
        regime = "memorises"
    elif resolved.any() and bool(np.all((t + z * s)[resolved] < threshold)):
        regime = "generalises"
    else:
        regime = "undetermined"
    return Regime(regime, coef, where, best, int(resolved.sum()), z, threshold,
                  math.inf if sigma_max is None else float(sigma_max))


# ---------------------------------------------------------------------------------------
# One training-set size: train, then measure (the data-size sweep's unit of work)
# ---------------------------------------------------------------------------------------
def training_epochs(N: int, steps: int, batch_size: int) -> int:
    """Epochs that give about ``steps`` optimiser steps on ``N`` points in batches of
    ``batch_size`` (at least 1): equal step budgets across training-set sizes, so a small
    set is seen many more times than a large one.

    Examples
    --------
    >>> import molrg
    >>> molrg.training_epochs(64, 8000, 128), molrg.training_epochs(16384, 8000, 128)
    (8000, 62)
    """
    N = check_int("N", N, low=1)
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    return max(1, round(steps / math.ceil(N / batch_size)))


@dataclass(frozen=True)
class SizeStudy:
    """:func:`size_study`'s record of one training-set size ``N``.

    ``snr`` / ``empirical_snr``: :class:`~molrg.SNRResult` of the trained network / of the
    exact empirical denoiser of the same points (paired replicates), with ``snr_shape`` /
    ``empirical_shape`` (:class:`~molrg.CurveShape`) and the ``(samples, shape,
    untrustworthy)`` tries of each (``snr_history``, ``empirical_history``); ``probe``
    (:class:`~molrg.ProbeResult`, linear probe on the network's output) and
    ``probe_shape`` (independent errors); ``score`` and ``regime``; ``epochs``,
    ``steps``, ``final_loss``, ``train_s`` / ``train_cpu_s`` (training wall / CPU time),
    ``eval_s``.
    """

    N: int
    epochs: int
    steps: int
    final_loss: float
    train_s: float
    train_cpu_s: float
    eval_s: float
    snr: Any
    snr_shape: Any
    snr_history: tuple[tuple[int, str, bool], ...]
    empirical_snr: Any
    empirical_shape: Any
    empirical_history: tuple[tuple[int, str, bool], ...]
    probe: Any
    probe_shape: Any
    score: GeneralizationScore
    regime: Regime

    def to_json(self) -> dict[str, Any]:
        def curve(r: Any) -> dict[str, Any]:
            return {"estimate": r.estimate.tolist(), "stderr": r.stderr.tolist(),
                    "samples": int(r.n_samples),
                    "untrustworthy": np.asarray(r.untrustworthy).tolist(),
                    "replicates": np.asarray(r.replicates).tolist()}

        return {"N": self.N, "epochs": self.epochs, "steps": self.steps,
                "final_loss": self.final_loss, "train_s": self.train_s,
                "train_cpu_s": self.train_cpu_s, "eval_s": self.eval_s,
                "snr": curve(self.snr), "snr_shape": self.snr_shape.to_json(),
                "snr_history": [list(h) for h in self.snr_history],
                "empirical_snr": curve(self.empirical_snr),
                "empirical_shape": self.empirical_shape.to_json(),
                "empirical_history": [list(h) for h in self.empirical_history],
                "probe": {"estimate": self.probe.estimate.tolist(),
                          "stderr": self.probe.stderr.tolist(),
                          "samples": int(self.probe.n_samples)},
                "probe_shape": self.probe_shape.to_json(),
                "score": self.score.to_json(), "regime": self.regime.to_json()}


@dataclass(frozen=True)
class StudyOptions:
    """How a trained network is evaluated, all on fresh samples: by :func:`size_study`
    (every field) and by :func:`molrg.checkpoint_curves` (a fixed ``samples``: neither
    ``max_samples`` nor ``regime_sigma_max`` is used there).

    Parameters
    ----------
    samples : Monte Carlo samples per sigma of each SNR curve to start with.
    max_samples : doubled up to this many while a shape is undetermined or an estimate
        untrustworthy (default: 16 x ``samples``).
    replicates : paired replicate groups of each SNR curve.
    probe_samples : linear-probe samples per sigma.
    score_samples : :func:`generalization_score` samples.
    z : shape and regime threshold (errors).
    input, denominator : the SNR's input mode and denominator.
    regime_sigma_max : :func:`memorization_regime` reads levels up to this (default: all).

    Examples
    --------
    >>> import molrg
    >>> molrg.StudyOptions(samples=3000).max_samples
    48000
    """

    samples: int = 3000
    max_samples: int | None = None
    replicates: int = 50
    probe_samples: int = 4000
    score_samples: int = 4000
    z: float = 4.0
    input: str = "noisy"
    denominator: str = "others"
    regime_sigma_max: float | None = None

    def __post_init__(self) -> None:
        samples = check_int("samples", self.samples, low=2, high=10**9)
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "max_samples", samples * 16 if self.max_samples is None
                           else check_int("max_samples", self.max_samples, low=samples,
                                          high=10**10))
        object.__setattr__(self, "replicates", check_int("replicates", self.replicates, low=2,
                                                         high=max(2, samples // 2)))
        for name in ("probe_samples", "score_samples"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low=2,
                                                     high=10**9))
        object.__setattr__(self, "z", check_real("z", self.z, low=0.0))
        check_choice("input", self.input, INPUTS)
        check_choice("denominator", self.denominator, DENOMINATORS)
        if self.regime_sigma_max is not None:
            object.__setattr__(self, "regime_sigma_max", check_real(
                "regime_sigma_max", self.regime_sigma_max, low=0.0))


def _adaptive_snr(model: Any, sigma: np.ndarray, denoiser: Any, seed: int,
                  ev: StudyOptions) -> tuple[Any, Any, tuple[tuple[int, str, bool], ...]]:
    """The SNR curve with paired errors, its samples doubled while its shape is undetermined
    or an estimate is flagged untrustworthy (up to ``ev.max_samples``)."""
    m, history = ev.samples, []
    while True:
        with warnings.catch_warnings():  # the record carries the flags; the last try decides
            warnings.simplefilter("ignore", UntrustworthyWarning)
            res = snr(model, sigma, input=ev.input, denominator=ev.denominator,
                      denoiser=denoiser, replicates=ev.replicates,
                      method=MonteCarlo(simulator="ambient", samples=m, seed=seed))
        shape = result_shape(res, ev.z)
        history.append((m, shape.shape, not res.trustworthy))
        assert ev.max_samples is not None
        if (shape.decided and res.trustworthy) or 2 * m > ev.max_samples:
            return res, shape, tuple(history)
        m *= 2


def size_study(model: Any, N: int, sigma: Any, /, *, steps: int = 8000, options: Any = None,
               seed: int = 0, data_seed: int | None = None,
               evaluation: StudyOptions | None = None) -> SizeStudy:
    """Train the capacity network (``architecture="mlp"``) on ``N`` points and measure it.

    The training set is ``model.sample(N, data_seed)`` (default ``data_seed = seed``);
    training (:func:`molrg.train_denoiser`, PyTorch) runs :func:`training_epochs` epochs
    (about ``steps`` optimiser steps whatever ``N``) with ``options``
    (:class:`~molrg.train.TrainOptions`; default: the library's, one thread).  Then, on
    fresh samples only, as ``evaluation`` (:class:`StudyOptions`) says:

    * the SNR curve of the network and of the exact empirical denoiser of the same points
      (ambient Monte Carlo, paired replicates; samples doubled while a shape is
      undetermined or an estimate untrustworthy);
    * the linear-probe accuracy of the network's output and its shape (independent errors);
    * :func:`generalization_score` and :func:`memorization_regime`.

    Shapes are :func:`molrg.curve_shape` verdicts.  Needs the ``train`` extra.

    Examples
    --------
    A few steps on 8 points (seconds; the numbers mean nothing at this size):

    >>> import molrg
    >>> m = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, seed=0)
    >>> ev = molrg.StudyOptions(samples=200, max_samples=200, replicates=4,
    ...                         probe_samples=100, score_samples=100)
    >>> st = molrg.size_study(m, 8, [0.1, 1.0], steps=5, evaluation=ev,
    ...                       options=molrg.TrainOptions(width=8, depth=1, threads=1))
    >>> st.N, st.epochs, st.score.score.shape, st.regime.regime in molrg.REGIMES
    (8, 5, (2,), True)
    """
    N = check_int("N", N, low=1, high=10**7)
    steps = check_int("steps", steps, low=1, high=10**8)
    seed = check_int("seed", seed, low=0, high=2**62)
    data_seed = seed if data_seed is None else check_int("data_seed", data_seed, low=0,
                                                         high=2**62)
    ev = StudyOptions() if evaluation is None else evaluation
    if not isinstance(ev, StudyOptions):
        raise ParameterTypeError(f"evaluation={evaluation!r} must be a molrg.StudyOptions")
    options = TrainOptions(threads=1) if options is None else options
    if not isinstance(options, TrainOptions):
        raise ParameterTypeError(f"options={options!r} must be a molrg.train.TrainOptions")
    sig = np.atleast_1d(check_sigma(sigma)).astype(np.float64).ravel()
    points = np.asarray(model.sample(N, data_seed)[0], dtype=np.float64)
    epochs = training_epochs(N, steps, options.batch_size)
    den = train_denoiser(model, architecture="mlp", data=points, epochs=epochs, seed=seed,
                         options=options)
    start = time.perf_counter()
    emp = _empirical(model, points)
    res, shape, hist = _adaptive_snr(model, sig, den, seed, ev)
    eres, eshape, ehist = _adaptive_snr(model, sig, emp, seed, ev)
    probe = probe_accuracy(model, sig, probe="linear", denoiser=den, input=ev.input,
                           method=MonteCarlo(samples=ev.probe_samples, seed=seed))
    score = generalization_score(model, den, points, sig, samples=ev.score_samples, seed=seed)
    return SizeStudy(N, epochs, epochs * math.ceil(N / options.batch_size), den.final_loss,
                     den.seconds, den.cpu_seconds, time.perf_counter() - start, res, shape,
                     hist, eres, eshape, ehist, probe,
                     curve_shape(probe.estimate, probe.stderr, ev.z), score,
                     memorization_regime(score, ev.z, sigma_max=ev.regime_sigma_max))
