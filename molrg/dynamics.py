"""Backward dynamics of the variance-exploding process driven by any denoiser.

Forward process: ``x_t = x0 + sigma eps``, so ``p_sigma = p_0 * N(0, sigma^2 I)``.  By Tweedie's
formula the score of ``p_sigma`` is ``grad log p_sigma(x) = (xhat(x, sigma) - x) / sigma^2``
with ``xhat = E[x0 | x_t = x]``; any :class:`~molrg.Denoiser` ``(x, sigma) -> xhat`` stands
in for the posterior mean (the optimal one gives the exact score, the empirical one the
score of the training set, a network its own).

Two samplers from ``sigma_start`` down to ``sigma_end`` on a log-spaced schedule
``sigma_0 > sigma_1 > ... > sigma_S`` (:func:`sigma_schedule`):

* ``"ode"`` -- the probability-flow ODE ``dx/dsigma = (x - xhat(x, sigma)) / sigma``
  (EDM's form with ``sigma(t) = t``), integrated by Heun's method (second order; Karras
  et al. 2022, Algorithm 1 without churn):
  ``d_i = (x_i - xhat(x_i, sigma_i)) / sigma_i``, ``x' = x_i + (sigma_{i+1} - sigma_i) d_i``,
  ``x_{i+1} = x_i + (sigma_{i+1} - sigma_i) (d_i + d') / 2`` with ``d'`` at ``(x', sigma_{i+1})``.
  It maps ``p_{sigma_start}`` to ``p_{sigma_end}`` exactly in the limit of small steps.
* ``"sde"`` -- the reverse-time SDE ``dx = -d(sigma^2) grad log p_sigma(x) + dW_{sigma^2}``
  by Euler-Maruyama (Song et al. 2021's reverse-diffusion predictor):
  ``x_{i+1} = x_i + (sigma_i^2 - sigma_{i+1}^2) score(x_i, sigma_i) + sqrt(sigma_i^2 - sigma_{i+1}^2) z``.

Both are batched over the leading axes of ``x``, written against the array-API standard
(NumPy, CuPy, ``array_api_strict``), and cost ``steps`` (SDE) or ``2 steps - 1`` (ODE)
denoiser calls.  :func:`converged` is the step-size check: halving the step changes a
statistic by less than its error bar.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _backend
from ._backend import array_namespace, float_dtype_of
from .validation import ParameterError, ParameterTypeError, check_choice, check_int, check_real

__all__ = ["SAMPLERS", "Convergence", "Sampler", "backward", "check_sampler", "converged",
           "sigma_schedule"]

SAMPLERS = ("ode", "sde")
"""``ode``: probability-flow ODE (Heun); ``sde``: reverse SDE (Euler-Maruyama)."""


@dataclass(frozen=True)
class Sampler:
    """How to run the backward dynamics (a typed options object).

    Parameters
    ----------
    kind : ``"ode"`` (Heun) or ``"sde"`` (Euler-Maruyama), see :data:`SAMPLERS`.
    steps : number of steps ``S >= 1`` from the start level to ``sigma_end``.
    sigma_end : the level the dynamics stops at, in ``[1e-4, 1e3]``.
    denoise_end : return ``xhat(x, sigma_end)`` (EDM's last step) instead of ``x``.
    """

    kind: str = "ode"
    steps: int = 32
    sigma_end: float = 1e-3
    denoise_end: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", check_choice("kind", self.kind, SAMPLERS))
        object.__setattr__(self, "steps", check_int("steps", self.steps, low=1, high=100_000))
        object.__setattr__(self, "sigma_end", check_real("sigma_end", self.sigma_end,
                                                         low=1e-4, high=1e3, open_low=False,
                                                         open_high=False))
        if not isinstance(self.denoise_end, (bool, np.bool_)):
            raise ParameterTypeError(f"denoise_end={self.denoise_end!r} must be a bool")

    def halved(self) -> Sampler:
        """The same sampler with twice the steps (half the step in ``log sigma``)."""
        return Sampler(self.kind, 2 * self.steps, self.sigma_end, self.denoise_end)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "steps": self.steps, "sigma_end": self.sigma_end,
                "denoise_end": bool(self.denoise_end)}


def check_sampler(sampler: Any) -> Sampler:
    """``sampler``, or the default :class:`Sampler` for ``None``; else a
    :class:`~molrg.ParameterTypeError`."""
    if sampler is None:
        return Sampler()
    if not isinstance(sampler, Sampler):
        raise ParameterTypeError(f"sampler={sampler!r} must be None or a molrg.Sampler")
    return sampler


def sigma_schedule(sigma_start: float, sigma_end: float, steps: int) -> np.ndarray:
    """Log-spaced decreasing noise levels ``sigma_0 = sigma_start > ... > sigma_S = sigma_end``.

    Returns a float64 ``(steps + 1,)`` NumPy array.  Equal steps in ``log sigma`` keep the
    relative change of the noise level, hence of the denoiser, the same at every step.
    """
    s0 = check_real("sigma_start", sigma_start, low=1e-4, high=1e3, open_low=False,
                    open_high=False)
    s1 = check_real("sigma_end", sigma_end, low=1e-4, high=1e3, open_low=False,
                    open_high=False)
    if not s1 < s0:
        raise ParameterError(f"sigma_end={s1!r} must be below sigma_start={s0!r}")
    steps = check_int("steps", steps, low=1, high=100_000)
    out = np.exp(np.linspace(math.log(s0), math.log(s1), steps + 1))
    out[0], out[-1] = s0, s1
    return out


def backward(denoiser: Callable[[Any, float], Any], x: Any, sigma_start: float, /,
             sampler: Sampler | None = None, *, seed: Any = None) -> Any:
    """Run the backward dynamics from ``x`` (a sample of ``p_{sigma_start}``) to ``sigma_end``.

    Parameters
    ----------
    denoiser : any callable ``(x, sigma) -> xhat`` on ``(m, n)`` arrays.
    x : ``(m, n)`` float32/float64 array of any array-API namespace.
    sigma_start : the noise level of ``x``, above ``sampler.sigma_end``.
    sampler : :class:`Sampler` (default: ODE, 32 Heun steps, to ``sigma_end = 1e-3``).
    seed : seed of the SDE's noise (ignored by the ODE).

    Returns
    -------
    ``(m, n)`` array of ``x``'s namespace and dtype: the state at ``sigma_end`` (or its
    denoised value with ``denoise_end``).

    Examples
    --------
    For data at the origin (the denoiser ``0``) the probability-flow ODE is ``dx/dsigma =
    x/sigma``: ``x`` shrinks in proportion to ``sigma``, which Heun's steps follow exactly.
    From ``sigma = 1`` to the default ``sigma_end = 1e-3``:

    >>> import numpy as np
    >>> import molrg
    >>> x = np.ones((2, 3))
    >>> out = molrg.backward(lambda x, sigma: 0 * x, x, 1.0)
    >>> out.shape, bool(np.allclose(out, 1e-3))
    ((2, 3), True)
    >>> molrg.backward(lambda x, sigma: 0 * x, x, 1.0, molrg.Sampler(steps=4, sigma_end=0.5))
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    sampler = check_sampler(sampler)
    if not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be callable (x, sigma) -> xhat")
    try:
        xp = array_namespace(x)
    except TypeError:
        raise ParameterTypeError(f"x is a {type(x).__name__}; valid: an (m, n) array") from None
    float_dtype_of(xp, x)
    if x.ndim != 2:
        raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (m, n)")
    sched = sigma_schedule(sigma_start, sampler.sigma_end, sampler.steps)
    _backend.check_seed(seed)
    return _run(denoiser, x, sched, sampler.kind, sampler.denoise_end, seed)


def _run(denoiser: Callable[[Any, float], Any], x: Any, sched: np.ndarray, kind: str,
         denoise_end: bool, seed: Any) -> Any:
    """Unchecked kernel of :func:`backward` on the schedule ``sched``."""
    xp = array_namespace(x)
    if kind == "ode":
        d = (x - denoiser(x, float(sched[0]))) / float(sched[0])
        for i in range(sched.size - 1):
            s0, s1 = float(sched[i]), float(sched[i + 1])
            trial = x + (s1 - s0) * d
            d_next = (trial - denoiser(trial, s1)) / s1
            x = x + (s1 - s0) * 0.5 * (d + d_next)
            if i + 2 < sched.size:  # the slope at the new point, for the next step
                d = (x - denoiser(x, s1)) / s1
    else:
        rand = _backend.Random(seed, xp)
        for i in range(sched.size - 1):
            s0, s1 = float(sched[i]), float(sched[i + 1])
            var = s0 * s0 - s1 * s1
            score = (denoiser(x, s0) - x) / (s0 * s0)
            x = x + var * score + math.sqrt(var) * rand.standard_normal(tuple(x.shape), x.dtype)
    if denoise_end:
        x = denoiser(x, float(sched[-1]))
    return x


@dataclass(frozen=True)
class Convergence:
    """The step-size check of a statistic: ``|coarse - fine| <= z * sqrt(se_c^2 + se_f^2)``.

    ``coarse`` uses ``steps`` steps, ``fine`` twice as many (with independent randomness,
    so the two errors add in quadrature).
    """

    coarse: float
    coarse_stderr: float
    fine: float
    fine_stderr: float
    steps: int
    z: float

    @property
    def difference(self) -> float:
        return self.fine - self.coarse

    @property
    def stderr(self) -> float:
        return math.hypot(self.coarse_stderr, self.fine_stderr)

    @property
    def holds(self) -> bool:
        return bool(abs(self.difference) <= self.z * self.stderr)

    def to_json(self) -> dict[str, Any]:
        return {"coarse": self.coarse, "coarse_stderr": self.coarse_stderr, "fine": self.fine,
                "fine_stderr": self.fine_stderr, "steps": self.steps, "z": self.z,
                "difference": self.difference, "stderr": self.stderr, "holds": self.holds}


def converged(statistic: Callable[[Sampler], tuple[float, float]], sampler: Sampler, *,
              z: float = 2.0) -> Convergence:
    """Halve the step: evaluate ``statistic(sampler)`` and ``statistic(sampler.halved())``.

    ``statistic`` returns ``(estimate, stderr)``; the check holds when the two estimates
    differ by at most ``z`` combined standard errors.
    """
    z = check_real("z", z, low=0.0)
    a, sa = statistic(sampler)
    b, sb = statistic(sampler.halved())
    return Convergence(float(a), float(sa), float(b), float(sb), sampler.steps, z)
