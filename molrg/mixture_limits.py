"""Small- and large-``sigma`` limits of the per-class SNR of binary low-rank mixtures,
evaluated numerically (NumPy, no SymPy).

The same traces as :mod:`molrg.symbolic.mixture_limits` (which derives them symbolically
and documents each step), summed over the same small blocks, but with numbers: ``python
-m verify mixtures`` reads its limits here, so it never imports SymPy.  The two are held
equal to 1e-12 relative by ``tests/test_verify_mixture_limits.py`` (the symbolic module is
the independent check of this one).

Families: ``"orthogonal"`` (ranks ``d0, d1``), ``"angle-all"`` (``d`` principal angles of
``angle_deg``), ``"angle-one"`` (one angle of ``angle_deg``, ``d - 1`` of 90 degrees); weights
``(pi0, 1 - pi0)``.
"""

from __future__ import annotations

import math

import numpy as np

from .validation import check_choice, check_int, check_real

__all__ = ["FAMILIES", "mixture_limits"]

FAMILIES = ("orthogonal", "angle-all", "angle-one")
"""The binary families with known limits."""


def _blocks(family: str, d0: int, d1: int, angle_deg: float,
            d: int) -> list[tuple[int, list[np.ndarray]]]:
    """``(multiplicity, [u_0, u_1])`` per block; ``u_k`` the class-``k`` column in it."""
    if family == "orthogonal":
        return [(d0, [np.array([[1.0]]), np.array([[0.0]])]),
                (d1, [np.array([[0.0]]), np.array([[1.0]])])]
    c = math.cos(math.radians(angle_deg))
    pair = [np.array([[1.0], [0.0]]), np.array([[c], [math.sqrt(1 - c * c)]])]
    if family == "angle-all":
        return [(d, pair)]
    return [(1, pair), (d - 1, [np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]])])]


def mixture_limits(family: str, *, delta: float, pi0: float = 0.5, d0: int = 5, d1: int = 5,
                   angle_deg: float = 90.0,
                   d: int = 5) -> dict[tuple[str, str, str, int], float]:
    """Every limit of ``family``: ``{(limit, input, denominator, k): SNR}``, ``limit`` in
    ``("zero", "inf")`` (``sigma -> 0`` and ``sigma -> inf``), ``input`` in ``("noisy",
    "clean")``, ``denominator`` in ``("others", "complement")``, class ``k`` in ``(0, 1)``;
    ``inf`` where the denominator vanishes.

    Examples
    --------
    >>> lim = mixture_limits("orthogonal", delta=0.5)
    >>> round(lim[("zero", "noisy", "others", 0)], 6)  # d0 / (delta^2 d1)
    4.0
    """
    check_choice("family", family, FAMILIES)
    delta = check_real("delta", delta, low=0.0, high=1.0, open_low=False, open_high=False)
    pi0 = check_real("pi0", pi0, low=0.0, high=1.0, open_low=False, open_high=False)
    d0, d1 = check_int("d0", d0, low=1), check_int("d1", d1, low=1)
    angle_deg = check_real("angle_deg", angle_deg, low=0.0, high=90.0, open_low=False,
                           open_high=False)
    d = check_int("d", d, low=1)
    return _limits(family, delta, pi0, d0, d1, angle_deg, d)


def _limits(family: str, delta: float, pi0: float, d0: int, d1: int, angle_deg: float,
            d: int) -> dict[tuple[str, str, str, int], float]:
    weights = (pi0, 1 - pi0)
    sums: dict[tuple[str, str, str, int], np.ndarray] = {}
    for mult, us in _blocks(family, d0, d1, angle_deg, d):
        proj = [u @ u.T for u in us]
        cov = [proj[k] + delta**2 * proj[1 - k] for k in range(2)]
        M = weights[0] * cov[0] + weights[1] * cov[1]
        for k in range(2):
            second = {("zero", "noisy"): cov[k], ("zero", "clean"): cov[k],
                      ("inf", "noisy"): M @ M, ("inf", "clean"): M @ cov[k] @ M}
            for (limit, mode), S in second.items():
                num = float(np.trace(us[k].T @ S @ us[k]))
                others = float(np.trace(us[1 - k].T @ S @ us[1 - k]))
                for den, value in (("others", others), ("complement", np.trace(S) - num)):
                    key = (limit, mode, den, k)
                    sums[key] = sums.get(key, np.zeros(2)) + mult * np.array([num, value])
    return {key: float(n / v) if v > 0 else math.inf for key, (n, v) in sums.items()}
