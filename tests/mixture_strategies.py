"""Hypothesis strategies: random general mixtures (overlap, unequal ranks, weights, means)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from molrg.mixtures import LowRankMixture
from molrg.models import haar_basis

BASIS_MODES = ("independent", "shared", "orthogonal", "angle")


def make_bases(mode: str, n: int, ranks: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """``independent``: Haar per class (generic overlap; rank-deficient B when sum d > n);
    ``shared``: every class contains U_0's first column (B rank-deficient);
    ``orthogonal``: blocks of one Haar matrix; ``angle``: a fixed angle to U_0."""
    if mode == "orthogonal":
        q = haar_basis(n, sum(ranks), rng)
        cuts = np.cumsum([0, *ranks])
        return [q[:, cuts[k]:cuts[k + 1]] for k in range(len(ranks))]
    if mode == "angle":
        theta = rng.uniform(0.05, 1.5)
        out = []
        for d in ranks:
            q = haar_basis(n, 2 * d, rng)
            out.append(q[:, :d] if not out else np.cos(theta) * q[:, :d] + np.sin(theta) * q[:, d:])
        return out
    bases = [haar_basis(n, d, rng) for d in ranks]
    if mode == "shared":
        anchor = bases[0][:, :1]
        for k in range(1, len(bases)):
            g = np.concatenate([anchor, rng.standard_normal((n, ranks[k] - 1))], axis=1)
            q, r = np.linalg.qr(g)
            bases[k] = q * np.sign(np.diag(r))
    return bases


@st.composite
def mixtures(draw: Any, max_n: int = 12, max_K: int = 4, max_rank: int = 4) -> LowRankMixture:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mode = draw(st.sampled_from(BASIS_MODES))
    K = draw(st.integers(2, max_K))
    n = draw(st.integers(max(3, K), max_n))
    cap = max(1, min(max_rank, n // 2 if mode in ("orthogonal", "angle") else n))
    if mode == "orthogonal":
        cap = max(1, min(cap, n // K))
    ranks = [draw(st.integers(1, cap)) for _ in range(K)]
    if mode == "orthogonal" and sum(ranks) > n:
        ranks = [1] * K
    if mode == "shared":
        ranks = [max(r, 2) if n >= 2 else 1 for r in ranks]
    delta = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.9)))
    w = rng.uniform(0.05, 1.0, K) if draw(st.booleans()) else np.ones(K)
    weights = w / w.sum()
    mean_scale = draw(st.sampled_from([0.0, 0.3, 1.0, 3.0]))
    means = mean_scale * rng.standard_normal((K, n))
    return LowRankMixture(make_bases(mode, n, ranks, rng), delta=delta, weights=weights,
                          means=means)
