"""The Monte Carlo simulations of :func:`molrg.probe_accuracy`: the reduced Bayes probe
(``K`` chi-square energies) and the class-stratified ambient simulation with common random
numbers across sigma (test draws; fresh training draws for the linear probe)."""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend
from .mixtures import LowRankMixture
from .options import rows_within
from .plan import Plan
from .probe_exact import variance_ratio
from .probe_rules import Rule

__all__ = ["ambient", "reduced"]


def reduced(plan: Plan, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """``argmax_l r_l`` with ``r_0 ~ v_own chi2_d`` (true class) and ``r_l ~ v_other chi2_d``
    (chi-square draws of ``K`` rows in an eighth of the method's memory budget)."""
    st = plan.model.setting
    mc = plan.monte_carlo
    samples = mc.samples
    xp = _backend.namespace(mc.backend)
    rand = _backend.Random(seed, xp)
    sig = np.atleast_1d(plan.sigma)
    counts = np.zeros((sig.size, 1))
    block = rows_within(mc.memory // 8, 8 * st.K)
    done = 0
    while done < samples:
        m = min(block, samples - done)
        chi = rand.chisquare(float(st.d), (st.K, m), xp.float64)
        best_other = xp.max(chi[1:, :], axis=0)
        for i, s in enumerate(sig):
            rho = variance_ratio(float(s), st.delta, plan.input)
            counts[i, 0] += float(xp.sum(xp.astype(chi[0, :] * rho > best_other, xp.float64)))
        done += m
    return counts, np.full((sig.size, 1), float(samples))


def _rows(plan: Plan, feat_dim: int) -> int:
    """Rows of one test batch within the method's memory budget (float64)."""
    n = plan.mixture.n  # type: ignore[union-attr]
    per_row = 8 * (4 * n + 4 * feat_dim + 8 * plan.model.K) + 64
    return rows_within(plan.monte_carlo.memory, per_row, low=64)


def _class_counts(total: int, weights: np.ndarray) -> list[int]:
    """Training samples per class, proportional to the mixing weights (at least 1 each)."""
    raw = np.maximum(1, np.round(weights * total)).astype(int)
    return [int(v) for v in raw]


def _draw(mix: LowRankMixture, k: int, m: int, rand: _backend.Random, xp: ModuleType,
          sigma: float, noisy: bool) -> Any:
    x0 = mix.sample_class(k, m, rand, xp=xp, dtype="float64")
    if not noisy:
        return x0
    return x0 + sigma * rand.standard_normal((m, mix.n), xp.float64)


def ambient(plan: Plan, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray, str]:
    """Class-stratified simulation in ``R^n`` with common random numbers across sigma."""
    xp = _backend.namespace(plan.monte_carlo.backend)
    mix = plan.mixture
    assert mix is not None
    rule = Rule(plan, xp)
    K = mix.K
    sig = np.atleast_1d(plan.sigma)
    per_class = plan.monte_carlo.samples // K
    counts = np.zeros((sig.size, K))
    test_seed, train_seed = seed.spawn(2)
    feat_dim = rule.dae.basis.shape[1] if rule.dae is not None else mix.n
    rows = _rows(plan, feat_dim)
    noisy = plan.input == "noisy"
    for i, s in enumerate(sig):
        s = float(s)
        clf = _fit_linear(plan, rule, mix, train_seed, s, xp) if plan.probe == "linear" else None
        rand = _backend.Random(test_seed, xp)  # the same stream at every sigma
        for k in range(K):
            done = 0
            while done < per_class:
                m = min(rows, per_class - done)
                x = _draw(mix, k, m, rand, xp, s, noisy)
                if clf is not None:
                    feats = _backend.to_numpy(rule.features(x, s))
                    pred = clf.predict(np.asarray(feats, dtype=np.float64))
                    counts[i, k] += float(np.sum(pred == k))
                else:
                    pred = rule.decide(x, s)
                    counts[i, k] += float(xp.sum(xp.astype(pred == k, xp.float64)))
                done += m
    totals = np.full((sig.size, K), float(per_class))
    return counts, totals, rule.classifier


def _fit_linear(plan: Plan, rule: Rule, mix: LowRankMixture, seed: np.random.SeedSequence,
                sigma: float, xp: ModuleType) -> Any:
    """Multinomial logistic regression on fresh training features at ``sigma`` (host)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rand = _backend.Random(seed, xp)
    feats, labels = [], []
    for k, m in enumerate(_class_counts(plan.train_samples, np.asarray(mix.weights))):
        x = _draw(mix, k, m, rand, xp, sigma, plan.input == "noisy")
        feats.append(np.asarray(_backend.to_numpy(rule.features(x, sigma)), dtype=np.float64))
        labels.append(np.full(m, k))
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(np.concatenate(feats), np.concatenate(labels))
    return clf
