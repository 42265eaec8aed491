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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .validation import ParameterError, ParameterTypeError, check_int, check_sigma

__all__ = ["GeneralizationScore", "generalization_score"]


@dataclass(frozen=True)
class GeneralizationScore:
    """Per sigma: ``score`` ``g`` and its ``stderr``; ``to_optimal`` ``A`` and
    ``to_empirical`` ``B`` (mean squared distances) with their errors; ``samples``."""

    sigma: np.ndarray
    score: np.ndarray
    stderr: np.ndarray
    to_optimal: np.ndarray
    to_optimal_stderr: np.ndarray
    to_empirical: np.ndarray
    to_empirical_stderr: np.ndarray
    samples: int

    def to_json(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.__dict__.items()}


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
    from .denoisers import posterior_mean
    from .empirical import EmpiricalDenoiser
    from .mixtures import LowRankMixture
    from .models import MoLRG

    if not isinstance(model, (MoLRG, LowRankMixture)):
        raise ParameterTypeError(f"model={model!r} must be a molrg.MoLRG or molrg.LowRankMixture")
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
    basis = getattr(model, "basis", None)
    try:
        emp = EmpiricalDenoiser(pts, basis=basis) if basis is not None else EmpiricalDenoiser(pts)
    except ParameterError:  # points outside span(basis): the ambient evaluation
        emp = EmpiricalDenoiser(pts)
    opt = optimal if optimal is not None else (lambda x, s: posterior_mean(model, x, s))
    rng = np.random.default_rng(seed)
    x0, _ = model.sample(samples, rng)
    x0 = np.asarray(x0, dtype=np.float64)
    eps = rng.standard_normal(x0.shape)
    S = sig.size
    out = {k: np.empty(S) for k in ("g", "ge", "a", "ae", "b", "be")}
    root = math.sqrt(samples)
    for i, s in enumerate(sig):
        x = x0 + s * eps
        f = np.asarray(denoiser(x, float(s)), dtype=np.float64)
        a = np.sum((f - np.asarray(opt(x, float(s)), dtype=np.float64)) ** 2, axis=1)
        b = np.sum((f - np.asarray(emp(x, float(s)), dtype=np.float64)) ** 2, axis=1)
        A, B = float(a.mean()), float(b.mean())
        tot = A + B
        if tot > 0:
            g = A / tot
            psi = (B * a - A * b) / tot**2
            ge = float(psi.std(ddof=1) / root)
        else:
            g, ge = math.nan, math.nan
        out["g"][i], out["ge"][i] = g, ge
        out["a"][i], out["ae"][i] = A, float(a.std(ddof=1) / root)
        out["b"][i], out["be"][i] = B, float(b.std(ddof=1) / root)
    return GeneralizationScore(sig, out["g"], out["ge"], out["a"], out["ae"], out["b"],
                               out["be"], samples)
