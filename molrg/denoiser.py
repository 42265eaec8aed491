"""The optimal denoiser (Proposition 1) and the parameterised DAE ``U D U^T x``.

For an orthonormal ``U = [U_1 ... U_K]`` (``n x K d``) the network form is

    ``xhat = U D U^T x``,  ``D = blockdiag(beta_1 I_d, ..., beta_K I_d)``,
    ``beta_l = xi + (zeta - xi) w_l``,  ``w = softmax(kappa ||U_l^T x||^2)``,

with ``zeta, xi, kappa`` the derived coefficients of :mod:`molrg.symbolic`; the feature
(representation) is ``h = D U^T x``.  With ``U = U*`` (the model's basis) this *is*
``E[x0 | x_t = x]``.  Nothing here forms an ``n x n`` matrix: the cost is two
``n x K d`` products per batch.  Inputs are ``(..., n)`` arrays of any array-API
namespace; the namespace is inferred from them.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from . import theory
from ._validation import check_int, check_real, check_sigma
from .model import MoLRG

__all__ = ["block_betas", "block_energies", "dae", "features", "posterior_mean", "scale_blocks",
           "softmax_weights"]


def block_energies(y: Any, K: int) -> Any:
    """``r_l = ||y_l||^2`` for coordinates ``y = U^T x`` of shape ``(..., K d)`` -> ``(..., K)``."""
    xp = array_namespace(y)
    blocks = xp.reshape(y, (*y.shape[:-1], K, y.shape[-1] // K))
    return xp.sum(blocks * blocks, axis=-1)


def softmax_weights(logits: Any, axis: int = -1) -> Any:
    """Numerically stable softmax along ``axis`` (max-shifted log-sum-exp)."""
    xp = array_namespace(logits)
    shifted = logits - xp.max(logits, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=axis, keepdims=True)


def block_betas(r: Any, xi: Any, zeta_minus_xi: Any, kappa: Any, axis: int = -1) -> Any:
    """``beta_l = xi + (zeta - xi) w_l`` with ``w = softmax(kappa r)`` along ``axis``.

    ``r`` holds the block energies ``||U_l^T x||^2``; the coefficients are scalars (or
    broadcast against ``r``).  The one place the DAE's ``D`` is computed.
    """
    return xi + zeta_minus_xi * softmax_weights(kappa * r, axis=axis)


def _betas(y: Any, K: int, sigma: float, delta: float) -> Any:
    """``beta_l(x)`` of the DAE for coordinates ``y = U^T x``: ``(..., K d) -> (..., K)``."""
    xp = array_namespace(y)
    coef = theory.coefficients(xp.asarray(sigma, dtype=y.dtype), delta)
    return block_betas(block_energies(y, K), coef.xi, coef.zeta_minus_xi, coef.kappa)


def scale_blocks(y: Any, beta: Any, K: int) -> Any:
    """``D y``: block ``l`` of ``y`` (``(..., K d)``) times ``beta_l`` (``(..., K)``)."""
    xp = array_namespace(y)
    shape = y.shape
    blocks = xp.reshape(y, (*shape[:-1], K, shape[-1] // K))
    return xp.reshape(blocks * beta[..., None], shape)


def _iv(x: Any, sigma: Any, basis: Any, K: Any, delta: Any) -> tuple[Any, Any, int, float, float]:
    xp = array_namespace(x, basis)
    K = check_int("K", K, low=2)
    if basis.ndim != 2 or basis.shape[1] % K:
        raise ValueError(f"basis has shape {tuple(basis.shape)}; valid: (n, K*d) with K={K}")
    if x.shape[-1] != basis.shape[0]:
        raise ValueError(f"x has last dimension {x.shape[-1]}; valid: n={basis.shape[0]}")
    s = check_sigma(sigma)
    if s.ndim:
        raise ValueError("sigma must be a scalar for the denoiser")
    return xp, basis, K, float(s), check_real("delta", delta, low=0.0, high=1.0)


def features(x: Any, /, sigma: float, *, basis: Any, K: int, delta: float) -> Any:
    """Representation ``h = D U^T x`` of the parameterised DAE.

    Parameters
    ----------
    x : ``(..., n)`` inputs.
    sigma : noise level the DAE assumes.
    basis : ``(n, K d)`` orthonormal ``U`` (same namespace and dtype as ``x``).
    K, delta : number of blocks and the detail-noise level in ``beta``.

    Returns
    -------
    ``(..., K d)`` features.
    """
    _xp, basis, K, sigma, delta = _iv(x, sigma, basis, K, delta)
    y = x @ basis
    return scale_blocks(y, _betas(y, K, sigma, delta), K)


def dae(x: Any, /, sigma: float, *, basis: Any, K: int, delta: float) -> Any:
    """Parameterised DAE ``xhat = U D U^T x`` (``(..., n) -> (..., n)``); see :func:`features`."""
    xp = array_namespace(x, basis)
    return features(x, sigma, basis=basis, K=K, delta=delta) @ xp.matrix_transpose(basis)


def posterior_mean(model: MoLRG, x: Any, sigma: float) -> Any:
    """Exact ``E[x0 | x_t = x]`` of the noisy MoLRG at noise level ``sigma`` (Proposition 1).

    ``sum_k w_k(x) (zeta U_k U_k^T + xi Ut_k Ut_k^T) x``, computed as the DAE with the
    model's basis; stable for ``sigma`` in [1e-4, 1e3] in float32 and float64.
    ``x`` is ``(..., n)`` in any namespace; the result has its namespace and dtype.
    """
    xp = array_namespace(x)
    basis = model.basis_in(xp, "float32" if x.dtype == xp.float32 else "float64")
    return dae(x, sigma, basis=basis, K=model.K, delta=model.delta)
