"""The tests' own brute-force Bayes posterior (dense covariances, scipy log-densities).

Independent of :mod:`molrg.posterior`: ``Sigma_k`` is built from the definition
``U_k U_k^T + delta^2 sum_{l != k} U_l U_l^T`` with the raw bases, class log-densities come
from :func:`scipy.stats.multivariate_normal.logpdf`, and the class posterior mean is
``mu_k + Sigma_k C_k^{-1} (x - mu_k)`` (Wiener form, solved densely).  O(n^3): small n only.

Dense float64 Bayes is not exact: at sigma ~ 1e-2 its class posteriors can be off by up to
~5e-10 (scipy's logpdf rounds logits of size ~1/sigma^2).  :func:`exact_posterior` is the
referee: the same formulas in mpmath with 40 significant digits (slow; n <= ~12).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from molrg.mixtures import LowRankMixture


def class_covariance(bases: Sequence[np.ndarray], delta: float, k: int) -> np.ndarray:
    cov = bases[k] @ bases[k].T
    for j, u in enumerate(bases):
        if j != k:
            cov = cov + delta**2 * (u @ u.T)
    return cov


def posterior(bases: Sequence[np.ndarray], delta: float, weights: np.ndarray, means: np.ndarray,
              x: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``(E[x0 | x_t = x], P(k | x))`` for ``x`` of shape ``(m, n)``."""
    n = x.shape[1]
    logp, cond = [], []
    for k in range(len(bases)):
        prior = class_covariance(bases, delta, k)
        cov = prior + sigma**2 * np.eye(n)
        lp = multivariate_normal(mean=means[k], cov=cov).logpdf(x)
        logp.append(np.log(weights[k]) + np.atleast_1d(lp))
        cond.append(means[k] + np.linalg.solve(cov, (x - means[k]).T).T @ prior)
    logp_arr = np.array(logp).T  # (m, K)
    w = np.exp(logp_arr - logsumexp(logp_arr, axis=1, keepdims=True))
    return np.einsum("mk,kmn->mn", w, np.array(cond)), w


def empirical(points: np.ndarray, x: np.ndarray, sigma: float) -> np.ndarray:
    """Direct ``sum_i softmax_i(-||x - p_i||^2 / (2 sigma^2)) p_i`` (explicit differences)."""
    d2 = np.sum((x[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    logits = -d2 / (2 * sigma**2)
    w = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    return w @ points


def exact_posterior(model: LowRankMixture, x: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (40-digit mpmath) ``(E[x0 | x], P(k | x))`` of the float64-represented model."""
    import mpmath

    with mpmath.workdps(40):
        return _exact_posterior(mpmath, model, x, sigma)


def _exact_posterior(mp, model: LowRankMixture, x: np.ndarray, sigma: float  # type: ignore[no-untyped-def]
                     ) -> tuple[np.ndarray, np.ndarray]:
    n, K = model.n, model.K
    per_class = []
    for k in range(K):
        F = mp.matrix(model.factor(k).tolist())
        S = F * F.T
        C = S + mp.mpf(sigma) ** 2 * mp.eye(n)
        L = mp.cholesky(C)
        per_class.append((S, C, 2 * mp.fsum(mp.log(L[j, j]) for j in range(n))))
    means, weights = [], []
    for i in range(x.shape[0]):
        xi = mp.matrix(x[i].tolist())
        logs, conds = [], []
        for k, (S, C, logdet) in enumerate(per_class):
            mu = mp.matrix(model.means[k].tolist())
            v = mp.lu_solve(C, xi - mu)
            logs.append(mp.log(mp.mpf(model.weights[k])) - (xi - mu).T * v / 2 - logdet / 2)
            conds.append(mu + S * v)
        logs = [lg[0] if isinstance(lg, mp.matrix) else lg for lg in logs]
        top = max(logs)
        e = [mp.exp(lg - top) for lg in logs]
        w = [ei / mp.fsum(e) for ei in e]
        mean = mp.zeros(n, 1)
        for k in range(K):
            mean += w[k] * conds[k]
        weights.append([float(wk) for wk in w])
        means.append([float(mean[j]) for j in range(n)])
    return np.array(means), np.array(weights)
