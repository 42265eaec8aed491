"""The decision rules of :func:`molrg.probe_accuracy`'s Monte Carlo probes: the Bayes rule
on the features of each kind of denoiser, the oracle energy probe and the linear probe's
features (the reasoning is in :mod:`molrg.probes`' docstring)."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend
from .denoisers import DAE, dae_parameters_of
from .mixtures import LowRankMixture
from .plan import Plan
from .posterior import class_posterior, posterior_mean
from .validation import ParameterError

__all__ = ["CLEAN_SIGMA", "SPAN_TOL", "Rule"]

CLEAN_SIGMA = 1e-4
"""Noise level at which the Bayes rule on a clean ``x0`` is evaluated for general mixtures
(adds ``1e-8`` to every variance: a relative change of ``1e-8 / delta^2`` in the logits)."""
SPAN_TOL = 1e-8
"""Relative residual below which a subspace counts as contained in another."""


def _class_indicator(mix: LowRankMixture) -> np.ndarray:
    """``(R, K)`` 0/1 matrix summing the columns of class ``k``'s block."""
    ind = np.zeros((mix.total_rank, mix.K))
    for k in range(mix.K):
        ind[mix.block_slice(k), k] = 1.0
    return ind


class Rule:
    """The decision rule of one run: ``decide(x, sigma) -> (m,) int`` (and features)."""

    def __init__(self, plan: Plan, xp: ModuleType) -> None:
        self.plan, self.xp = plan, xp
        mix = plan.mixture
        assert mix is not None
        self.mix = mix
        den = plan.denoiser
        # the DAE features h = D V^T x: of the idealised MoLRG's optimal denoiser (a DAE with
        # the model's basis) or of a denoiser of Proposition 1's form
        params = dae_parameters_of(plan.model, den) if plan.kind in ("molrg-optimal", "dae") \
            else None
        self.dae = None if params is None else DAE(params.basis, params.K, params.delta)
        self.den = self.dae if plan.kind == "molrg-optimal" else den
        self.ind = xp.asarray(_class_indicator(mix), dtype=xp.float64)
        if self.dae is not None:  # U^T xhat = (U^T V) h
            self.proj = xp.asarray(self.dae.basis.T @ mix.basis, dtype=xp.float64)
        else:
            self.proj = mix.basis_in(xp, "float64")
        self.gauss: _GaussianRule | None = None
        self.posterior = False
        self.classifier = ""
        if plan.probe == "bayes":
            self._bayes_setup()
        elif plan.probe == "energy":
            self.classifier = "argmax_l ||U_l^T xhat||^2 with the model's true bases (oracle)"
        else:
            what = "h = D V^T x" if self.dae is not None else "xhat"
            self.classifier = (f"multinomial logistic regression (scikit-learn, C=1, standardised "
                               f"features) on {what}")

    def _bayes_setup(self) -> None:
        plan, mix = self.plan, self.mix
        if plan.kind == "molrg-optimal":
            self.classifier = ("argmax_l ||U_l^T xhat||^2 on the features (Bayes-optimal: = "
                               "argmax_l ||U_l^T x||^2)")
        elif plan.kind == "mixture-optimal":
            self.posterior = True
            self.classifier = ("argmax_k P(k | input) (class_posterior); the optimal denoiser "
                               "is injective on the informative span, so this is Bayes on xhat")
        elif plan.kind == "dae":
            assert self.dae is not None
            self.gauss = _GaussianRule(mix, self.dae.basis, self.xp)
            self.classifier = ("argmax_k P(k | V^T input), exact Gaussian-mixture posterior "
                               "(h = D V^T x is injective in V^T x)")
        else:  # empirical
            W = _difference_span(self.plan.denoiser.points)
            if _contains(W, _informative(mix)):
                self.posterior = True
                self.classifier = ("argmax_k P(k | input) (class_posterior): the span of the "
                                   "training points' differences contains the class information")
            else:
                self.gauss = _GaussianRule(mix, W, self.xp)
                self.classifier = (f"argmax_k P(k | W^T input), W = the {W.shape[1]}-dim span "
                                   "of the training points' differences (what xhat keeps)")

    def features(self, x: Any, sigma: float) -> Any:
        if self.dae is not None:
            return self.dae.features(x, sigma)
        if self.den is None:
            return posterior_mean(self.mix, x, sigma)
        out = self.den(x, sigma)
        if getattr(out, "shape", None) != x.shape:
            raise ParameterError(f"denoiser returned shape {getattr(out, 'shape', None)} for "
                                 f"input {tuple(x.shape)}; valid: the input's shape (m, n)")
        return out

    def energies(self, feats: Any) -> Any:
        proj = feats @ self.proj
        return (proj * proj) @ self.ind

    def decide(self, x: Any, sigma: float) -> Any:
        xp = self.xp
        plan = self.plan
        level = sigma if plan.input == "noisy" else CLEAN_SIGMA
        if self.posterior:
            return xp.argmax(class_posterior(self.mix, x, level), axis=1)
        if self.gauss is not None:
            return self.gauss.decide(x, level)
        return xp.argmax(self.energies(self.features(x, sigma)), axis=1)


def _difference_span(points: Any) -> np.ndarray:
    """Orthonormal basis of ``span{p_i - p_1}`` (host float64), via the ``n x n`` Gram."""
    P = _backend.to_numpy(points).astype(np.float64)
    D = P[1:] - P[:1] if P.shape[0] > 1 else np.zeros((1, P.shape[1]))
    gram = D.T @ D
    w, v = np.linalg.eigh((gram + gram.T) / 2)
    top = float(w[-1]) if w.size else 0.0
    keep = w > max(top, 1e-300) * P.shape[1] * 1e3 * np.finfo(np.float64).eps
    return v[:, keep]


def _informative(mix: LowRankMixture) -> np.ndarray:
    """Columns spanning what the classes differ in: the bases and the mean differences."""
    cols = [mix.basis]
    if mix.has_means:
        cols.append((mix.means[1:] - mix.means[:1]).T)
    return np.concatenate(cols, axis=1)


def _contains(W: np.ndarray, A: np.ndarray) -> bool:
    if W.shape[1] == 0:
        return False
    resid = A - W @ (W.T @ A)
    return float(np.linalg.norm(resid)) <= SPAN_TOL * max(float(np.linalg.norm(A)), 1e-300)


class _GaussianRule:
    """Bayes rule on ``y = W^T x`` (``W`` orthonormal ``n x q``): ``y | k`` is Gaussian with
    mean ``W^T mu_k`` and covariance ``W^T Sigma_k W + level^2 I``; set up per level on the
    host in float64 (Cholesky), applied in the simulation's namespace."""

    def __init__(self, mix: LowRankMixture, W: np.ndarray, xp: ModuleType) -> None:
        self.mix, self.xp = mix, xp
        self.W = np.asarray(W, dtype=np.float64)
        self.Wxp = xp.asarray(self.W, dtype=xp.float64)
        self.factors = [self.W.T @ mix.factor(k) for k in range(mix.K)]  # (q, R)
        self.centres = mix.means @ self.W  # (K, q)
        self.cache: dict[float, tuple[list[Any], list[Any], np.ndarray]] = {}

    def _setup(self, level: float) -> tuple[list[Any], list[Any], np.ndarray]:
        if level not in self.cache:
            xp = self.xp
            q = self.W.shape[1]
            whiten, centres = [], []
            const = np.empty(self.mix.K)
            for k, f in enumerate(self.factors):
                cov = f @ f.T + level * level * np.eye(q)
                L = np.linalg.cholesky((cov + cov.T) / 2)
                Linv = np.linalg.solve(L, np.eye(q))
                whiten.append(xp.asarray(np.ascontiguousarray(Linv.T), dtype=xp.float64))
                centres.append(xp.asarray(self.centres[k][None, :], dtype=xp.float64))
                const[k] = math.log(self.mix.weights[k]) - float(np.sum(np.log(np.diag(L))))
            self.cache = {level: (whiten, centres, const)}
        return self.cache[level]

    def decide(self, x: Any, level: float) -> Any:
        xp = self.xp
        whiten, centres, const = self._setup(level)
        y = xp.astype(x, xp.float64) @ self.Wxp
        cols = []
        for k in range(self.mix.K):
            z = (y - centres[k]) @ whiten[k]
            cols.append(float(const[k]) - 0.5 * xp.sum(z * z, axis=1))
        return xp.argmax(xp.stack(cols, axis=1), axis=1)
