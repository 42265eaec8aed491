"""Reference implementations the benchmarks compare against (not part of the library).

* :class:`DenseNaive` -- what a researcher writes first: dense ``n x n`` class
  covariances, explicit inverses, and a Python loop with per-sample quadratic forms and
  matrix-vector products.  Its one-off set-up (covariances, inverses, factors) is done in
  ``__init__`` and excluded from the timing: only the marginal cost per sample counts.
* :class:`DenseBatched` -- the same dense algebra vectorised over a batch (BLAS-3): a
  stronger baseline, reported next to the naive one for honesty.
* :func:`floor` -- the least any ambient simulation must do per batch: draw the
  ``n``-dimensional Gaussian noise with the same generator and apply one ``n x K d``
  projection ``U^T x`` to it.

All three compute the ratio-of-means SNR of the optimal denoiser at one ``sigma`` (noisy
input), so their outputs can be compared with :func:`molrg.snr`.
"""

from __future__ import annotations

import numpy as np

import molrg
from molrg.reference import class_covariances


class DenseNaive:
    """Dense per-sample Monte Carlo SNR (noisy input, ratio of means, 'others')."""

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


def floor(model: molrg.MoLRG, samples: int, rng: np.random.Generator, dtype: str = "float64",
          xp_name: str = "numpy") -> object:
    """Draw ``(samples, n)`` standard normals and project them on ``U`` (``n x K d``)."""
    gen = molrg._backend.Random(rng, molrg._backend.namespace(xp_name))
    basis = model.basis_in(gen.xp, dtype)
    dt = molrg._backend.resolve_dtype(gen.xp, dtype)
    return gen.standard_normal((samples, model.n), dt) @ basis
