"""Monte Carlo SNR of the optimal denoiser (and of any parameterised DAE), with error bars.

For a sample of true class ``k`` and denoiser output ``xhat``:

* numerator ``N = ||U_k U_k^T xhat||^2``;
* denominator ``D``: ``"others"`` (the submission's CSNR) ``sum_{l != k} ||U_l U_l^T xhat||^2``
  or ``"complement"`` (arXiv Definition 1) ``||(I - U_k U_k^T) xhat||^2``;
* estimand ``"ratio-of-means"`` (default; what Theorem 1's proof takes):
  ``(1/K) sum_k E[N | k] / E[D | k]``; ``"mean-of-ratios"``: ``(1/K) sum_k E[N/D | k]``.

Methods
-------
``"ambient"``
    The full simulation in ``R^n``: ``x_t = x0 + sigma eps`` with ``eps ~ N(0, I_n)``
    drawn in full, projected once per batch on the DAE basis ``V``
    (``V^T x_t = (U^T V)^T z + sigma V^T eps`` with ``z = U^T x0``).  Every later step
    works in the ``K d`` coordinates, so a whole ``sigma`` grid costs one ``n x K d``
    projection per batch.  Classes are stratified (``samples // K`` per class).  Needed
    for arbitrary DAE bases.
``"reduced"``
    Exact for the optimal denoiser: given the class, the SNR depends on ``x`` only through
    the ``K`` block energies ``r_l = ||U_l^T x||^2``, which are independent scaled
    chi-square variables, ``r_own ~ v_own chi2_d``, ``r_l ~ v_other chi2_d``
    (``v`` the derived input variances), and all classes are exchangeable.  ``K`` chi-square
    draws per sample, no ``n`` at all (proof: ``docs/math.md``).
``"auto"`` (default)
    ``"reduced"`` when no DAE ``basis`` is given, else ``"ambient"``.

Both methods use common random numbers across ``sigma`` (one set of draws per batch is
reused for every noise level), so a curve is smooth and differences along it are
precise.  Errors: delta method for each class's ratio of means, sample standard
deviation for the mean of ratios; classes are independent strata.  Statistics are merged
across batches in float64 (Chan et al.), whatever the simulation dtype.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend, theory
from ._validation import check_choice, check_int, check_sigma
from .denoiser import block_betas, block_energies, scale_blocks
from .model import MoLRG, latent

__all__ = [
    "DENOMINATORS",
    "ESTIMANDS",
    "INPUTS",
    "METHODS",
    "SNRResult",
    "snr",
]

INPUTS = ("noisy", "clean")
ESTIMANDS = ("ratio-of-means", "mean-of-ratios")
DENOMINATORS = ("others", "complement")
METHODS = ("auto", "ambient", "reduced")
DEFAULT_MEMORY_BYTES = 64 * 2**20
"""Working-memory budget of one batch; sets the default batch size."""


@dataclass(frozen=True)
class SNRResult:
    """Monte Carlo SNR estimate.

    Attributes
    ----------
    estimate, stderr : float64 NumPy arrays shaped like the ``sigma`` given.
    n_samples : samples used per ``sigma`` value (all classes together).
    sigma : the noise levels (float64 array, shape of the input).
    error_method : how ``stderr`` was computed.
    options : the resolved options (input, estimand, denominator, method, backend, ...).
    """

    estimate: np.ndarray
    stderr: np.ndarray
    n_samples: int
    sigma: np.ndarray
    error_method: str
    options: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Running statistics (float64, NumPy; tiny arrays)
# ---------------------------------------------------------------------------------------
class _Moments:
    """Mergeable means and co-moments of ``(N, D, N/D)`` per (sigma, class)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: np.ndarray | None = None  # (3, S, C): N, D, Q
        self.m2: np.ndarray | None = None  # (4, S, C): NN, DD, ND, QQ

    def add(self, count: int, mean: np.ndarray, m2: np.ndarray) -> None:
        if self.mean is None or self.m2 is None:
            self.count, self.mean, self.m2 = count, mean, m2
            return
        n_a, n_b = self.count, count
        total = n_a + n_b
        diff = mean - self.mean
        f = n_a * n_b / total
        cross = np.stack([diff[0] * diff[0], diff[1] * diff[1], diff[0] * diff[1], diff[2] * diff[2]])
        self.m2 = self.m2 + m2 + f * cross
        self.mean = self.mean + diff * (n_b / total)
        self.count = total

    def result(self, estimand: str) -> tuple[np.ndarray, np.ndarray]:
        assert self.mean is not None and self.m2 is not None
        m = self.count
        cov = self.m2 / (m - 1)
        if estimand == "ratio-of-means":
            mn, md = self.mean[0], self.mean[1]
            ratio = mn / md
            var = (cov[0] - 2 * ratio * cov[2] + ratio**2 * cov[1]) / (m * md**2)
        else:
            ratio = self.mean[2]
            var = cov[3] / m
        classes = ratio.shape[-1]
        estimate = ratio.mean(axis=-1)
        stderr = np.sqrt(np.maximum(var, 0.0).sum(axis=-1)) / classes
        return estimate, stderr


def _batch_moments(xp: ModuleType, num: list[Any], den: list[Any], ratios: bool
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Means (3, S, C) and centred co-moments (4, S, C) of one batch; arrays ``(C, m)``.

    The per-sample ratio ``N/D`` is formed only when ``ratios`` (mean of ratios): with
    ``(K-1) d = 1`` a float32 chi-square draw can underflow to an exact zero ``D``.
    Otherwise its slots are zero-filled on the host (no work on the device).
    """
    n = xp.astype(xp.stack(num), xp.float64, copy=False)  # (S, C, m)
    dd = xp.astype(xp.stack(den), xp.float64, copy=False)
    arrays = (n, dd, n / dd) if ratios else (n, dd)
    means = [xp.mean(a, axis=-1) for a in arrays]
    centred = [a - mu[..., None] for a, mu in zip(arrays, means, strict=True)]
    pairs = ((0, 0), (1, 1), (0, 1), (2, 2)) if ratios else ((0, 0), (1, 1), (0, 1))
    m2 = [xp.sum(centred[i] * centred[j], axis=-1) for i, j in pairs]
    packed = _backend.to_numpy(xp.stack(means + m2))
    mean, comoments = packed[: len(means)], packed[len(means):]
    if not ratios:
        zero = np.zeros_like(mean[:1])
        mean, comoments = np.concatenate([mean, zero]), np.concatenate([comoments, zero])
    return mean, comoments


# ---------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------
def snr(
    model: MoLRG,
    sigma: Any,
    *,
    input: str = "noisy",
    estimand: str = "ratio-of-means",
    denominator: str = "others",
    samples: int = 100_000,
    seed: int | np.random.Generator | None = 0,
    backend: str = "numpy",
    dtype: str = "float64",
    method: str = "auto",
    basis: Any = None,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SNRResult:
    """Monte Carlo SNR of a denoiser on the noisy MoLRG ``model`` at noise level(s) ``sigma``.

    Parameters
    ----------
    model : the MoLRG.
    sigma : positive scalar or 1-D array; one call evaluates a whole curve with common
        random numbers.
    input : ``"noisy"`` (the denoiser sees ``x_t``) or ``"clean"`` (it sees ``x0`` and
        uses ``sigma`` only as the level it assumes).
    estimand : ``"ratio-of-means"`` or ``"mean-of-ratios"``.
    denominator : ``"others"`` (CSNR) or ``"complement"`` (arXiv SNR).
    samples : Monte Carlo samples per ``sigma`` value, ``>= 2`` (``>= 2 K`` for the
        ambient method, which stratifies by class).
    seed : int or :class:`numpy.random.Generator` (reproducible for a given seed, backend
        and batch size).
    backend : ``"numpy"``, ``"cupy"`` or ``"array_api_strict"`` (testing).
    dtype : ``"float64"`` or ``"float32"`` for the simulation (statistics are float64).
    method : ``"auto"``, ``"ambient"`` or ``"reduced"`` (see the module docstring).
    basis : ``(n, K d)`` orthonormal basis of a parameterised DAE ``U D U^T x``; default
        the model's own (the optimal denoiser).
    batch : samples per batch (default: from a 64 MiB working-memory budget).
    progress : optional callback ``progress(done, total)`` after each batch.

    Returns
    -------
    SNRResult with ``estimate`` and ``stderr`` shaped like ``sigma``.
    """
    sig, dae_basis, opts = _iv(model, sigma, input, estimand, denominator, samples, backend,
                               dtype, method, basis, batch)
    xp = _backend.namespace(opts["backend"])
    dt = _backend.resolve_dtype(xp, opts["dtype"])
    gen = _backend.Random(seed, xp)
    if opts["method"] == "reduced":
        moments, used = _simulate_reduced(model, np.atleast_1d(sig), opts, xp, dt, gen, progress)
    else:
        moments, used = _simulate_ambient(model, np.atleast_1d(sig), opts, dae_basis, xp, dt,
                                          gen, progress)
    estimate, stderr = moments.result(opts["estimand"])
    error = (
        "delta method per class ratio of means, classes as strata"
        if opts["estimand"] == "ratio-of-means"
        else "sample standard deviation of per-sample ratios / sqrt(m), classes as strata"
    )
    return SNRResult(
        estimate=estimate.reshape(sig.shape),
        stderr=stderr.reshape(sig.shape),
        n_samples=used,
        sigma=sig,
        error_method=error,
        options=opts,
    )


def _iv(model: Any, sigma: Any, input: Any, estimand: Any, denominator: Any, samples: Any,
        backend: Any, dtype: Any, method: Any, basis: Any, batch: Any
        ) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Validate everything once: ``(sigma array, DAE basis or None, resolved options)``."""
    if not isinstance(model, MoLRG):
        raise ValueError(f"model={model!r} must be a molrg.MoLRG")
    sig = check_sigma(sigma)
    opts: dict[str, Any] = {
        "input": check_choice("input", input, INPUTS),
        "estimand": check_choice("estimand", estimand, ESTIMANDS),
        "denominator": check_choice("denominator", denominator, DENOMINATORS),
        "samples": check_int("samples", samples, low=2),
        "backend": check_choice("backend", backend, _backend.BACKENDS),
        "dtype": check_choice("dtype", dtype, ("float64", "float32")),
        "method": check_choice("method", method, METHODS),
    }
    if basis is not None:
        basis = MoLRG(model.K, model.d, model.n, model.delta, basis=basis).basis
    if opts["method"] == "auto":
        opts["method"] = "reduced" if basis is None else "ambient"
    if opts["method"] == "reduced" and basis is not None:
        raise ValueError(
            "method='reduced' is exact only for the optimal denoiser; valid with a DAE "
            "basis: 'ambient' or 'auto'"
        )
    if opts["method"] == "ambient" and opts["samples"] < 2 * model.K:
        raise ValueError(
            f"samples={opts['samples']} is too small for method='ambient' (stratified by "
            f"class); valid: samples >= 2*K = {2 * model.K}"
        )
    if opts["estimand"] == "mean-of-ratios" and basis is None:
        dof = (model.K - 1) * model.d
        if dof <= 2:
            raise ValueError(
                f"estimand='mean-of-ratios' has an infinite mean for (K-1)*d = {dof} "
                "(E[1/chi2_m] diverges for m <= 2); valid: (K-1)*d >= 3 or "
                "estimand='ratio-of-means'"
            )
        if dof <= 4:
            warnings.warn(
                f"estimand='mean-of-ratios' has infinite variance for (K-1)*d = {dof} <= 4: "
                "its standard error is not reliable",
                RuntimeWarning,
                stacklevel=3,
            )
    if batch is not None:
        batch = check_int("batch", batch, low=1)
    opts["batch"] = batch
    return sig, basis, opts


def _progress(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


# ---------------------------------------------------------------------------------------
# Reduced method: K scaled chi-square block energies per sample
# ---------------------------------------------------------------------------------------
def _simulate_reduced(model: MoLRG, sig: np.ndarray, opts: dict[str, Any], xp: ModuleType,
                      dt: Any, gen: _backend.Random, progress: Any) -> tuple[_Moments, int]:
    K, d, delta = model.K, model.d, model.delta
    total = opts["samples"]
    itemsize = 4 if opts["dtype"] == "float32" else 8
    batch = opts["batch"] or max(1, DEFAULT_MEMORY_BYTES // (itemsize * 8 * K))
    s = xp.asarray(sig, dtype=dt)
    coef = theory.coefficients(s, delta)
    v_own = theory.evaluate("energy_own", s, K, d, delta, opts["input"]) / d
    v_other = theory.evaluate("energy_other", s, K, d, delta, opts["input"]) / d
    # Per-sigma input variance of each class row, (S, K, 1): row 0 the true class.
    true_row = xp.reshape(xp.arange(K) == 0, (1, K, 1))
    scales = xp.where(true_row, xp.reshape(v_own, (-1, 1, 1)), xp.reshape(v_other, (-1, 1, 1)))
    ratios = opts["estimand"] == "mean-of-ratios"
    moments = _Moments()
    done = 0
    while done < total:
        m = min(batch, total - done)
        # Layout (K, m): row 0 is the true class, rows 1.. the others; reductions over
        # classes run across rows (contiguous, fast on every backend).
        chi = gen.chisquare(float(d), (K, m), dt)
        num, den = [], []
        for i in range(sig.size):
            r = chi * scales[i, ...]
            beta = block_betas(r, coef.xi[i], coef.zeta_minus_xi[i], coef.kappa[i], axis=0)
            energy = beta * beta * r
            num.append(energy[:1, :])
            den.append(xp.sum(energy[1:, :], axis=0, keepdims=True))
        moments.add(m, *_batch_moments(xp, num, den, ratios))
        done += m
        _progress(progress, done, total)
    return moments, total


# ---------------------------------------------------------------------------------------
# Ambient method: the full simulation in R^n
# ---------------------------------------------------------------------------------------
def _simulate_ambient(model: MoLRG, sig: np.ndarray, opts: dict[str, Any], custom: Any,
                      xp: ModuleType, dt: Any, gen: _backend.Random, progress: Any
                      ) -> tuple[_Moments, int]:
    K, d, n, delta = model.K, model.d, model.n, model.delta
    per_class = opts["samples"] // K
    itemsize = 4 if opts["dtype"] == "float32" else 8
    rows = opts["batch"] or max(K, DEFAULT_MEMORY_BYTES // (itemsize * (n + 8 * K * d)))
    m_batch = max(1, rows // K)

    true_basis = model.basis_in(xp, opts["dtype"])
    dae_basis = true_basis if custom is None else xp.asarray(custom, dtype=dt)
    # A = U^T V maps DAE coordinates to true coordinates; None means V = U (identity).
    cross = None if custom is None else xp.matrix_transpose(true_basis) @ dae_basis
    own = xp.reshape(xp.eye(K, dtype=dt), (K, 1, K))  # class c, sample, block
    s = xp.asarray(sig, dtype=dt)
    coef = theory.coefficients(s, delta)
    noisy = opts["input"] == "noisy"
    complement = opts["denominator"] == "complement"
    ratios = opts["estimand"] == "mean-of-ratios"

    moments = _Moments()
    done = 0
    while done < per_class:
        m = min(m_batch, per_class - done)
        onehot = xp.reshape(xp.broadcast_to(own, (K, m, K)), (K * m, K))
        z = latent(xp, gen, onehot, d, delta, dt)  # U^T x0, (K m, K d)
        y0 = z if cross is None else z @ cross  # V^T x0
        eps_v = gen.standard_normal((K * m, n), dt) @ dae_basis if noisy else None
        num, den = [], []
        for i in range(sig.size):
            y = y0 + s[i] * eps_v if eps_v is not None else y0
            r = block_energies(y, K)
            beta = block_betas(r, coef.xi[i], coef.zeta_minus_xi[i], coef.kappa[i])
            if cross is None:  # xhat = U c: block energies are beta^2 r
                energy = beta * beta * r
                norm2 = xp.sum(energy, axis=1)
            else:  # U^T xhat = A c, ||xhat||^2 = ||c||^2
                c = scale_blocks(y, beta, K)
                energy = block_energies(c @ xp.matrix_transpose(cross), K)
                norm2 = xp.sum(c * c, axis=1)
            energy = xp.reshape(energy, (K, m, K))
            n_own = xp.sum(energy * own, axis=2)  # (K, m)
            rest = xp.reshape(norm2, (K, m)) if complement else xp.sum(energy, axis=2)
            num.append(n_own)
            den.append(rest - n_own)
        moments.add(m, *_batch_moments(xp, num, den, ratios))
        done += m
        _progress(progress, done * K, per_class * K)
    return moments, per_class * K
