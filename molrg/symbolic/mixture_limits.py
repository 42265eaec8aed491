"""Small- and large-``sigma`` limits of the per-class SNR of the optimal denoiser of
binary low-rank mixtures (the paper's appendix relaxations), derived with SymPy.

Used by ``python -m verify mixtures`` and the tests only (never imported by ``molrg`` at
run time).

Model (``molrg.LowRankMixture``): class ``k`` has ``x0 ~ N(0, Sigma_k)``,
``Sigma_k = U_k U_k^T + delta^2 sum_{l != k} U_l U_l^T``, weight ``pi_k``; the optimal
denoiser is ``xhat = sum_k w_k(x) Sigma_k (Sigma_k + sigma^2 I)^{-1} x`` with
``w = P(k | x)``.  Per-class SNR ``E[N | k] / E[D | k]`` (ratio of means), ``N =
||U_k^T xhat||^2``, ``D`` = ``others`` ``sum_{l != k} ||U_l^T xhat||^2`` or ``complement``
``||(I - U_k U_k^T) xhat||^2``.

Limits (each step is exact; the expectations are traces):

* ``sigma -> 0`` (either input): every ``Sigma_k (Sigma_k + sigma^2 I)^{-1} x -> x`` on
  ``span(B)`` (``Sigma_k`` is positive definite there for ``delta > 0``) and the weights sum
  to one, so ``xhat -> x0``: ``E[N | k] = tr(U_k^T Sigma_k U_k)``, ``others = sum_{l != k}
  tr(U_l^T Sigma_k U_l)``, ``complement = tr(Sigma_k) - E[N | k]``.
* ``sigma -> inf``: the logit differences vanish, ``w -> pi``, and
  ``xhat = M x / sigma^2 + o(.)`` with ``M = sum_k pi_k Sigma_k``.  Noisy input
  (``x = x_t ~ sigma eps``): ``E[N | k] ~ tr(U_k^T M^2 U_k)``, ``complement ~ tr(M^2) -
  E[N | k]`` -- the law of ``xhat`` no longer depends on the class.  Clean input
  (``x = x0``): ``E[N | k] ~ tr(U_k^T M Sigma_k M U_k)``, ``complement ~ tr(M Sigma_k M) -
  E[N | k]``.

Families (binary, ``n`` large enough; the limits do not depend on ``n``):

* ``"orthogonal"``: mutually orthogonal subspaces of ranks ``d0, d1`` and weights
  ``(pi0, 1 - pi0)`` (the base case, unequal ranks, unequal weights);
* ``"angle-all"``: two rank-``d`` subspaces whose ``d`` principal angles all equal
  ``theta`` (``molrg.LowRankMixture.two_subspaces``): ``d`` independent copies of one
  2-dimensional block with ``u_1 = (1, 0)``, ``u_2 = (cos theta, sin theta)``, so the
  limits do not depend on ``d``;
* ``"angle-one"``: one principal angle ``theta``, the other ``d - 1`` equal to 90 degrees.

Traces add over the blocks, so each family is a sum of small symbolic blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

__all__ = ["FAMILIES", "LIMITS", "MixtureLimits", "derive_mixture_limits", "evaluate"]

FAMILIES = ("orthogonal", "angle-all", "angle-one")
LIMITS = ("zero", "inf")
INPUTS = ("noisy", "clean")
DENOMINATORS = ("others", "complement")

delta, c, pi0 = sp.symbols("delta c pi0", positive=True)
d, d0, d1 = sp.symbols("d d0 d1", positive=True, integer=True)
pi1 = 1 - pi0


@dataclass(frozen=True)
class MixtureLimits:
    """The limits of one family: ``expr[(limit, input, denominator, k)]`` (SymPy), and the
    family's free symbols."""

    family: str
    expr: dict[tuple[str, str, str, int], sp.Expr]
    symbols: tuple[sp.Symbol, ...]


def _blocks(family: str) -> list[tuple[sp.Expr, list[sp.Matrix]]]:
    """``(multiplicity, [u_0, u_1])`` per block; ``u_k`` the class-``k`` columns in the block."""
    s = sp.sqrt(1 - c**2)
    if family == "orthogonal":
        return [(d0, [sp.Matrix([[1]]), sp.Matrix([[0]])]),
                (d1, [sp.Matrix([[0]]), sp.Matrix([[1]])])]
    pair = [sp.Matrix([1, 0]), sp.Matrix([c, s])]
    if family == "angle-all":
        return [(d, pair)]
    if family == "angle-one":
        return [(1, pair), (d - 1, [sp.Matrix([1, 0]), sp.Matrix([0, 1])])]
    raise ValueError(f"family={family!r}; valid: {FAMILIES}")


def _trace(a: sp.Matrix) -> sp.Expr:
    return sp.expand(a.trace())


@cache
def derive_mixture_limits(family: str) -> MixtureLimits:
    """Derive every limit of ``family`` (cached)."""
    weights = (pi0, pi1)
    parts: dict[tuple[str, str, str, int], list[sp.Expr]] = {}
    for mult, us in _blocks(family):
        dim = us[0].shape[0]
        proj = [u * u.T for u in us]
        cov = [proj[k] + delta**2 * proj[1 - k] for k in range(2)]
        M = weights[0] * cov[0] + weights[1] * cov[1]
        for k in range(2):
            second = {
                ("zero", "noisy"): cov[k], ("zero", "clean"): cov[k],
                ("inf", "noisy"): M * M, ("inf", "clean"): M * cov[k] * M,
            }
            for (limit, mode), S in second.items():
                num = _trace(us[k].T * S * us[k])
                others = _trace(us[1 - k].T * S * us[1 - k])
                total = _trace(S)
                assert S.shape == (dim, dim)
                for den, value in (("others", others), ("complement", total - num)):
                    parts.setdefault((limit, mode, den, k), []).append(
                        sp.Matrix([mult * num, mult * value]))
    expr = {}
    for key, items in parts.items():
        total = sum(items, sp.zeros(2, 1))
        expr[key] = sp.factor(sp.cancel(total[0] / total[1]))
    free = {"orthogonal": (delta, pi0, d0, d1), "angle-all": (delta, pi0, c),
            "angle-one": (delta, pi0, c, d)}[family]
    return MixtureLimits(family, expr, free)


def evaluate(family: str, *, delta_: float, pi0_: float = 0.5, d0_: int = 5, d1_: int = 5,
             angle_deg: float = 90.0, d_: int = 5) -> dict[tuple[str, str, str, int], float]:
    """Numerical values of every limit of ``family`` at the given parameters."""
    lim = derive_mixture_limits(family)
    values = {delta: delta_, pi0: pi0_, d0: d0_, d1: d1_, c: sp.cos(sp.rad(angle_deg)), d: d_}
    out = {}
    for key, e in lim.expr.items():
        v = e.subs(values)
        out[key] = float(v) if v.is_finite is not False else float("inf")
    return out
