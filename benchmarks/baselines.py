"""What the benchmarks compare molrg against (not part of the library; public API only).

Floors -- the least a computation must do, drawn with the same generator as molrg
(NumPy: ``numpy.random.default_rng``, PCG64; CuPy: ``cupy.random.default_rng``) in the same
dtype and the same batch sizes:

* :func:`ambient_floor` -- the ambient simulators' floor: per batch, draw the
  ``(rows, n)`` Gaussian noise and project it once on an ``(n, r)`` basis.  For the
  idealised MoLRG ``r = K d`` (its basis); for a :class:`molrg.LowRankMixture` the basis of
  the span of its bases and means (:func:`span_basis`), the projection the mixture's
  optimal denoiser needs.
* :func:`gemm_floor` -- the empirical denoiser's floor: its two GEMMs on the same sizes,
  ``x @ P^T`` (``(m, n) @ (n, N)``) and ``E @ P`` (``(m, N) @ (N, n)``), nothing else.

Dense references (NumPy, float64) -- what a researcher writes first:

* :class:`DenseNaive` -- dense ``n x n`` class covariances, explicit inverses and a
  Python loop with per-sample quadratic forms and matrix-vector products.  Its one-off
  set-up (covariances, inverses, factors) is done in ``__init__`` and excluded from the
  timing.
* :class:`DenseBatched` -- the same dense algebra vectorised over a batch (BLAS-3): a
  stronger baseline, reported next to the naive one for honesty.

Both compute the ratio-of-means SNR of the optimal denoiser at one ``sigma`` (noisy
input, ``others`` denominator), so their outputs can be compared with :func:`molrg.snr`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

import molrg


# ---------------------------------------------------------------------------------------
# Backends (NumPy, and CuPy where a GPU is usable)
# ---------------------------------------------------------------------------------------
def cupy_usable() -> bool:
    """CuPy importable and at least one CUDA device visible."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # no driver, no device, wrong CUDA wheel
        return False


def array_module(backend: str) -> Any:
    """``numpy`` or ``cupy`` (the array library itself, for the floors)."""
    if backend == "cupy":
        import cupy

        return cupy
    return np


def sync(backend: str) -> None:
    """Wait for the device (a no-op on NumPy): timings must include the work."""
    if backend == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def generator(backend: str, seed: int) -> Any:
    """The generator molrg uses on ``backend`` (PCG64 on NumPy, CuPy's default on CuPy)."""
    return array_module(backend).random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# Floors
# ---------------------------------------------------------------------------------------
def span_basis(model: molrg.LowRankMixture) -> np.ndarray:
    """Orthonormal ``(n, r)`` basis of the span of the model's bases and (non-zero) means."""
    cols = model.basis if not model.has_means else np.concatenate([model.basis, model.means.T],
                                                                  axis=1)
    u, sv, _ = np.linalg.svd(cols, full_matrices=False)
    rank = int(np.sum(sv > sv[0] * max(cols.shape) * np.finfo(float).eps))
    return np.ascontiguousarray(u[:, :rank])


def ambient_floor(basis: np.ndarray, *, rows: int, total: int, backend: str = "numpy",
                  dtype: str = "float64", seed: int = 1) -> Callable[[], Any]:
    """A callable drawing ``total`` rows of ``N(0, I_n)`` noise in blocks of ``rows`` and
    projecting each block on ``basis`` (``(n, r)``), as the ambient simulators do."""
    xp = array_module(backend)
    proj = xp.asarray(basis, dtype=dtype)
    n = basis.shape[0]
    gen = generator(backend, seed)

    def run() -> Any:
        out = None
        done = 0
        while done < total:
            m = min(rows, total - done)
            out = gen.standard_normal((m, n), dtype=dtype) @ proj
            done += m
        return out

    return run


def gemm_floor(x: Any, points: Any) -> Callable[[], Any]:
    """A callable doing the empirical denoiser's two GEMMs on its sizes:
    ``x @ P^T`` (logits) and ``E @ P`` (weighted sum), ``E`` an ``(m, N)`` array."""
    weights = x @ points.T  # any (m, N) array of the dtype; computed once, outside the timing

    def run() -> Any:
        logits = x @ points.T
        return logits, weights @ points

    return run


# ---------------------------------------------------------------------------------------
# Dense references
# ---------------------------------------------------------------------------------------
def class_covariances(model: molrg.MoLRG) -> np.ndarray:
    """``(K, n, n)`` covariances ``U_k U_k^T + delta^2 sum_{l != k} U_l U_l^T`` (dense)."""
    K, d = model.K, model.d
    out = []
    for k in range(K):
        scale = np.full(K * d, model.delta)
        scale[k * d:(k + 1) * d] = 1.0
        out.append((model.basis * scale**2) @ model.basis.T)
    return np.array(out)


class DenseNaive:
    """Dense per-sample Monte Carlo SNR (noisy input, ratio of means, ``others``)."""

    def __init__(self, model: molrg.MoLRG, sigma: float) -> None:
        n, K = model.n, model.K
        self.model, self.sigma = model, sigma
        self.cov = class_covariances(model)
        noisy = self.cov + sigma**2 * np.eye(n)
        self.inv = np.linalg.inv(noisy)
        self.logdet = np.array([np.linalg.slogdet(c)[1] for c in noisy])
        vals, vecs = np.linalg.eigh(self.cov)  # square-root factors for sampling
        self.factor = vecs * np.sqrt(np.clip(vals, 0, None))[:, None, :]
        self.proj = np.array([model.block(k) @ model.block(k).T for k in range(K)])

    def run(self, samples: int, rng: np.random.Generator) -> float:
        K, n = self.model.K, self.model.n
        num = np.zeros(K)
        den = np.zeros(K)
        for i in range(samples):
            k = i % K
            x = self.factor[k] @ rng.standard_normal(n) + self.sigma * rng.standard_normal(n)
            solved = [self.inv[j] @ x for j in range(K)]
            logp = np.array([-0.5 * x @ solved[j] - 0.5 * self.logdet[j] for j in range(K)])
            w = np.exp(logp - logp.max())
            w /= w.sum()
            xhat = sum(w[j] * (self.cov[j] @ solved[j]) for j in range(K))
            energy = [float(np.sum((self.proj[j] @ xhat) ** 2)) for j in range(K)]
            num[k] += energy[k]
            den[k] += sum(energy) - energy[k]
        return float(np.mean(num / den))


class DenseBatched(DenseNaive):
    """The dense algebra vectorised over a batch (matrix-matrix products)."""

    def run(self, samples: int, rng: np.random.Generator) -> float:
        K, n = self.model.K, self.model.n
        m = samples // K
        ratios = []
        for k in range(K):
            x = (rng.standard_normal((m, n)) @ self.factor[k].T
                 + self.sigma * rng.standard_normal((m, n)))
            solved = np.stack([x @ self.inv[j] for j in range(K)])  # (K, m, n)
            logp = -0.5 * np.einsum("mn,kmn->mk", x, solved) - 0.5 * self.logdet
            w = np.exp(logp - logp.max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            xhat = np.einsum("mk,kmn->mn", w, np.stack([solved[j] @ self.cov[j] for j in range(K)]))
            energy = np.stack([np.sum((xhat @ self.proj[j]) ** 2, axis=1) for j in range(K)])
            ratios.append(energy[k].mean() / (energy.sum(axis=0) - energy[k]).mean())
        return float(np.mean(ratios))
