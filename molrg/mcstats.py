"""Running statistics of the Monte Carlo simulators (:mod:`molrg.montecarlo`): mergeable
means and co-moments on the device, in float64, and what a simulator returns."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend

__all__ = ["GROUPS", "Moments", "Simulation"]

GROUPS: ContextVar[int] = ContextVar("molrg_moment_groups", default=0)
"""Opt-in replicate groups for :class:`Moments` (0: none); set by ``molrg.snr(...,
replicates=R)`` around one simulation."""


# ---------------------------------------------------------------------------------------
# Running statistics, on the device, float64
# ---------------------------------------------------------------------------------------
class Moments:
    """Mergeable means and co-moments of ``(N, D)`` or of ``N/D`` per (sigma, class).

    Arrays are ``(S, C)`` in the namespace of the simulation, float64; merged across
    batches with Chan et al.'s pairwise update.
    """

    def __init__(self, xp: ModuleType, ratios: bool) -> None:
        self.xp = xp
        self.ratios = ratios
        self.count = 0
        self.mean: list[Any] = []
        self.m2: list[Any] = []
        self.peak: list[Any] = []  # largest term of each averaged quantity (tail diagnostic)
        # opt-in (GROUPS, set by molrg.snr(..., replicates=R)): per-group sums, the
        # i-th sample of the stream in group i mod R
        self.groups = GROUPS.get()
        self.group_sums: list[Any] = []
        self.group_counts: Any = None

    def add(self, num: Any, den: Any) -> None:
        """Merge a batch: ``num``, ``den`` of shape ``(S, C, m)`` (any float dtype)."""
        xp = self.xp
        n = xp.astype(num, xp.float64)
        dd = xp.astype(den, xp.float64)
        arrays = [n / dd] if self.ratios else [n, dd]
        m = num.shape[-1]
        if self.groups:
            idx = (xp.arange(m) + self.count) % self.groups
            onehot = xp.astype(idx[:, None] == xp.arange(self.groups)[None, :], xp.float64)
            sums = [a @ onehot for a in arrays]  # (S, C, R)
            counts = xp.sum(onehot, axis=0)
            if self.group_counts is None:
                self.group_sums, self.group_counts = sums, counts
            else:
                self.group_sums = [a + b for a, b in zip(self.group_sums, sums, strict=True)]
                self.group_counts = self.group_counts + counts
        means = [xp.mean(a, axis=-1) for a in arrays]
        centred = [a - mu[..., None] for a, mu in zip(arrays, means, strict=True)]
        pairs = ((0, 0),) if self.ratios else ((0, 0), (1, 1), (0, 1))
        m2 = [xp.sum(centred[i] * centred[j], axis=-1) for i, j in pairs]
        peak = [xp.max(xp.abs(a), axis=-1) for a in arrays]
        if self.count == 0:
            self.count, self.mean, self.m2, self.peak = m, means, m2, peak
            return
        self.peak = [xp.maximum(a, b) for a, b in zip(self.peak, peak, strict=True)]
        total = self.count + m
        diff = [b - a for a, b in zip(self.mean, means, strict=True)]
        f = self.count * m / total
        cross = [diff[i] * diff[j] for i, j in pairs]
        self.m2 = [a + b + f * c for a, b, c in zip(self.m2, m2, cross, strict=True)]
        self.mean = [a + d * (m / total) for a, d in zip(self.mean, diff, strict=True)]
        self.count = total

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-(sigma, class) estimates and their standard errors, as NumPy ``(S, C)`` arrays.

        Ratio of means ``R = mean_N / mean_D``: the delta-method error
        ``|R| sqrt((c_NN / mean_N^2 - 2 c_ND / (mean_N mean_D) + c_DD / mean_D^2) / m)``,
        formed from relative (co)variances so that nothing overflows for any finite
        ``R``; mean of ratios: the sample mean and ``sqrt(var / m)``.  Whether these errors
        can be trusted is :meth:`tail_share`'s question.
        """
        m = self.count
        mean = [_backend.to_numpy(a) for a in self.mean]
        cov = [_backend.to_numpy(a) / (m - 1) for a in self.m2]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.ratios:
                return mean[0], np.sqrt(np.maximum(cov[0], 0.0) / m)
            mn, md = mean
            ratio = mn / md
            rel = (np.where(mn != 0, cov[0] / (mn * mn), 0.0)
                   - 2 * np.where(mn != 0, cov[2] / mn, 0.0) / md + cov[1] / (md * md))
            se = np.abs(ratio) * np.sqrt(np.maximum(rel, 0.0) / m)
            se = np.where((mn == 0) & (md != 0), np.sqrt(np.maximum(cov[0], 0.0) / m) / md, se)
        return ratio, se

    def tail_share(self) -> np.ndarray:
        """Largest share of a sum that one sample carries, or could carry, per (sigma,
        class) (NumPy ``(S, C)``).

        Observed: the largest term's share of the sum of ``N``, of ``D`` (ratio of means)
        or of ``|N/D|`` (mean of ratios); at least ``1/m``.  Ratio of means also takes the
        share of ``D``'s sum that *one unseen* sample would carry if its whole output energy
        fell into the denominator (a misclassified sample: ``D ~ N + D``),
        ``(mean_N + mean_D) / (m mean_D) = (1 + R) / m``.  The rare events that carry the
        denominator's mean when the SNR ``R`` is large (small ``delta``) are often absent
        from the sample altogether (then no observed term is large, yet the estimate is
        many standard errors off: tests/test_coverage.py); this term flags them.  Near or
        above 1: the standard error is not to be trusted.  0 where a sum is 0.
        """
        m = self.count
        mean = [_backend.to_numpy(a) for a in self.mean]
        shares = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for mu, top in zip(mean, self.peak, strict=True):
                total = np.abs(mu) * m
                top = _backend.to_numpy(top)
                shares.append(np.where(total > 0, top / total, np.where(top > 0, 1.0, 0.0)))
            if not self.ratios:
                mn, md = mean
                unseen = np.where(md > 0, (mn / md + 1.0) / m, np.where(mn > 0, 1.0, 0.0))
                shares.append(unseen)
        return np.nan_to_num(np.maximum.reduce(shares), nan=1.0, posinf=1.0)


@dataclass(frozen=True)
class Simulation:
    """What a simulator returns: per-class moments for each sigma chunk, in grid order."""

    chunks: list[Moments]
    samples: int
    batch: int

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-(sigma, class) estimates and standard errors, ``(S, C)``."""
        parts = [c.per_class() for c in self.chunks]
        return (np.concatenate([p[0] for p in parts], axis=0),
                np.concatenate([p[1] for p in parts], axis=0))

    def tail_share(self) -> np.ndarray:
        """:meth:`Moments.tail_share` for the whole grid, ``(S, C)``."""
        return np.concatenate([c.tail_share() for c in self.chunks], axis=0)


class _ClassColumns(Moments):
    """One sigma's per-class moments, presented as a ``(1, K)`` :class:`Moments`."""

    def __init__(self, per_class: list[Moments]) -> None:
        self.parts = per_class

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        est, se = zip(*(p.per_class() for p in self.parts), strict=True)
        return np.concatenate(est, axis=1), np.concatenate(se, axis=1)

    def tail_share(self) -> np.ndarray:
        return np.concatenate([p.tail_share() for p in self.parts], axis=1)
