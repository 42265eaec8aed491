"""Independent reference computations of the posterior mean, for verification only.

* :func:`posterior_mean_dense` -- brute-force Bayes with dense ``n x n`` class
  covariances, explicit Gaussian log-densities (``slogdet`` + ``solve``) and Tweedie's
  formula per class.  It shares nothing with :mod:`molrg.denoisers` but the model.
* :func:`posterior_mean_symbolic` -- the derived Proposition-1 expressions in their
  *unreduced* form (``phi ||U_k^T x||^2 + psi ||Ut_k^T x||^2``, ``zeta P_k + xi Pt_k``)
  evaluated by SymPy/mpmath at ``dps`` significant digits.

Both cost ``O(K n^3)`` or worse: for small ``n`` only (``n <= 64`` is quick).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .models import MoLRG
from .validation import check_sigma

__all__ = ["class_covariances", "posterior_mean_dense", "posterior_mean_symbolic"]


def class_covariances(model: MoLRG) -> np.ndarray:
    """Dense clean covariances ``Sigma_k = U_k U_k^T + delta^2 Ut_k Ut_k^T``, ``(K, n, n)``."""
    out = np.empty((model.K, model.n, model.n))
    full = model.basis @ model.basis.T
    for k in range(model.K):
        uk = model.block(k)
        own = uk @ uk.T
        out[k] = own + model.delta**2 * (full - own)
    return out


def posterior_mean_dense(model: MoLRG, x: Any, sigma: float) -> np.ndarray:
    """Brute-force ``E[x0 | x_t = x]`` for ``x`` of shape ``(m, n)`` (NumPy float64)."""
    s = float(check_sigma(sigma))
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    sigmas = class_covariances(model)
    logp = np.empty((x.shape[0], model.K))
    means = np.empty((model.K, *x.shape))
    for k in range(model.K):
        cov = sigmas[k] + s**2 * np.eye(model.n)
        _, logdet = np.linalg.slogdet(cov)
        sol = np.linalg.solve(cov, x.T).T  # cov^{-1} x
        logp[:, k] = -0.5 * np.sum(x * sol, axis=1) - 0.5 * logdet
        means[k] = sol @ sigmas[k]  # Sigma_k cov^{-1} x (symmetric matrices)
    logp -= logp.max(axis=1, keepdims=True)
    w = np.exp(logp)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("mk,kmn->mn", w, means)


def posterior_mean_symbolic(model: MoLRG, x: Any, sigma: float, dps: int = 30) -> np.ndarray:
    """Derived Proposition 1 evaluated in ``dps``-digit arithmetic, for ``x`` of shape ``(m, n)``."""
    import mpmath as mp
    import sympy as sp

    from . import symbolic as sym

    s = float(check_sigma(sigma))
    p1 = sym.derive_proposition1()
    names = sym.symbols()
    values = {names["sigma"]: sp.Float(s, dps), names["delta"]: sp.Float(model.delta, dps)}
    with mp.workdps(dps):
        coef = {name: mp.mpf(str(getattr(p1, name).evalf(dps, subs=values)))
                for name in ("zeta", "xi", "phi", "psi")}
        basis = mp.matrix(model.basis.tolist())
        out = np.empty((np.atleast_2d(x).shape[0], model.n))
        for row, xi_row in enumerate(np.atleast_2d(np.asarray(x, dtype=np.float64))):
            y = basis.T * mp.matrix(xi_row.tolist())
            r = [mp.fsum(y[k * model.d + j] ** 2 for j in range(model.d)) for k in range(model.K)]
            total = mp.fsum(r)
            g = [coef["phi"] * rk + coef["psi"] * (total - rk) for rk in r]
            top = max(g)
            e = [mp.exp(gk - top) for gk in g]
            norm = mp.fsum(e)
            c = mp.matrix(model.rank, 1)
            for m in range(model.K):  # block m: zeta from class m, xi from every other class
                wm = e[m] / norm
                b = coef["zeta"] * wm + coef["xi"] * (1 - wm)
                for j in range(model.d):
                    c[m * model.d + j] = b * y[m * model.d + j]
            out[row] = np.array((basis * c).tolist(), dtype=float).ravel()
    return out
