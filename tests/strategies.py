"""hypothesis strategies for molrg (one module; imported by the property suites).

Valid models: ``K in [2, 16]``, ``d in [1, 64]``, ``delta in [0.05, 0.9]``, ``n`` from
``K d`` to 512, random or canonical bases.  Noise levels: log-uniform in
``[1e-3, 1e2]``.  Seeds are drawn as integers so every failure replays.  Bounds are built
into the strategies (no filters).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

import molrg

K_RANGE = (2, 16)
D_RANGE = (1, 64)
DELTA_RANGE = (0.05, 0.9)
N_MAX = 512
SIGMA_RANGE = (1e-3, 1e2)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def model_params(draw: st.DrawFn, *, K_max: int = K_RANGE[1], d_max: int = D_RANGE[1],
                 n_max: int = N_MAX) -> dict:
    """Keyword arguments of a valid :class:`molrg.MoLRG` (``K d <= n <= n_max``)."""
    K = draw(st.integers(K_RANGE[0], K_max))
    d = draw(st.integers(D_RANGE[0], max(1, min(d_max, n_max // K))))
    n = draw(st.integers(K * d, max(K * d, n_max)))
    delta = draw(st.floats(*DELTA_RANGE))
    kind = draw(st.sampled_from(["random", "canonical"]))
    return {"K": K, "d": d, "n": n, "delta": delta, "kind": kind, "seed": draw(seeds)}


def models(**bounds: int) -> st.SearchStrategy[molrg.MoLRG]:
    """Valid models (see :func:`model_params` for the bounds)."""
    return model_params(**bounds).map(lambda p: molrg.MoLRG(**p))


def sigmas(low: float = SIGMA_RANGE[0], high: float = SIGMA_RANGE[1]) -> st.SearchStrategy[float]:
    """Noise levels, log-uniform in ``[low, high]``."""
    return st.floats(math.log(low), math.log(high)).map(math.exp)


def theory_params() -> st.SearchStrategy[tuple[int, int, float]]:
    """``(K, d, delta)`` for the theory (no ``n``)."""
    return st.tuples(st.integers(*K_RANGE), st.integers(*D_RANGE), st.floats(*DELTA_RANGE))


def theory_settings() -> st.SearchStrategy[molrg.Setting]:
    """:class:`molrg.Setting` over the box (what the theory and the reduced simulator take)."""
    return theory_params().map(lambda p: molrg.Setting(*p))


# Invalid inputs ------------------------------------------------------------------------
invalid_deltas = st.one_of(
    st.floats(max_value=0.0), st.floats(min_value=1.0),
    st.just(math.nan), st.just(math.inf),
)
invalid_K = st.integers(max_value=1)
invalid_d = st.integers(max_value=0)
invalid_sigmas = st.one_of(
    st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf),
)
invalid_samples = st.integers(max_value=1)
invalid_words = st.text(min_size=1, max_size=12).map(lambda s: "x" + s)
