"""The one coordinate-space kernel of the idealised MoLRG's denoisers (unchecked).

For an orthonormal ``U = [U_1 ... U_K]`` (``n x K d``) and coordinates ``y = U^T x``:

    ``r_l = ||y_l||^2``  (block energies),
    ``w = softmax(kappa r)``,
    ``beta_l = xi + (zeta - xi) w_l``,
    ``D y``: block ``l`` of ``y`` times ``beta_l`` (the feature ``h``; ``xhat = U D y``),

with ``zeta, xi, kappa`` Proposition 1's coefficients (generated from the SymPy
derivation).  :func:`molrg.posterior_mean`, the DAE and every simulator call these
functions; the torch DAE of :mod:`molrg.train.networks` evaluates the same generated
expressions in torch (tested against :func:`molrg.posterior_mean`).  They do not validate: the public wrappers
in :mod:`molrg.denoisers` do.  Inputs are arrays of any array-API namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _generated as gen
from ._backend import array_namespace
from .validation import ParameterError, check_array

__all__ = [
    "Coefficients",
    "block_betas",
    "block_energies",
    "coefficients",
    "features_from_coordinates",
    "scale_blocks",
    "softmax_weights",
]


@dataclass(frozen=True)
class Coefficients:
    """Posterior-mean coefficients at one or more noise levels (arrays shaped like sigma).

    ``zeta``/``xi``: shrinkage on the own / other subspaces; ``zeta_minus_xi`` their
    difference computed without cancellation; ``kappa``: the logit coefficient,
    ``g_k = kappa ||U_k^T x||^2 + const``.
    """

    zeta: Any
    xi: Any
    zeta_minus_xi: Any
    kappa: Any


def coefficients(sigma: Any, delta: float) -> Coefficients:
    """Proposition 1's coefficients at ``sigma`` (an array of any namespace) for ``delta``.

    Evaluated in float64 and returned in ``sigma``'s dtype: in float32 the products
    ``(delta^2 + sigma^2)(1 + sigma^2)`` overflow for ``sigma > 1e9`` (which zeroed
    ``zeta - xi`` and broke the float32 denoiser there).
    """
    xp = array_namespace(sigma)
    s = sigma if sigma.dtype == xp.float64 else xp.astype(sigma, xp.float64)
    values = (gen.zeta(xp, s), gen.xi(xp, s, delta), gen.zeta_minus_xi(xp, s, delta),
              gen.kappa(xp, s, delta))
    if sigma.dtype != xp.float64:
        values = tuple(xp.astype(v, sigma.dtype) for v in values)
    return Coefficients(*values)


def block_energies(y: Any, K: int) -> Any:
    """``r_l = ||y_l||^2`` for coordinates ``y`` of shape ``(..., K d)`` -> ``(..., K)``."""
    xp = array_namespace(y)
    blocks = xp.reshape(y, (*y.shape[:-1], K, y.shape[-1] // K))
    return xp.sum(blocks * blocks, axis=-1)


def softmax_weights(logits: Any, axis: int = -1) -> Any:
    """Numerically stable softmax along ``axis`` (max-shifted log-sum-exp).

    The public entry point of the kernel: checks in O(1) that ``logits`` is a real
    floating array with ``ndim >= 1`` and that ``axis`` is an integer naming one of its
    axes (``molrg.ParameterError`` otherwise); values are not inspected (NaN propagates).

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> molrg.softmax_weights(np.zeros(4))
    array([0.25, 0.25, 0.25, 0.25])
    >>> molrg.softmax_weights(np.array([1000.0, 0.0]))  # no overflow
    array([1., 0.])
    """
    check_array("logits", logits, ndim=tuple(range(1, 33)))
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -logits.ndim <= axis < logits.ndim:
        raise ParameterError(f"axis={axis!r} is not valid; valid: an integer in "
                             f"[{-logits.ndim}, {logits.ndim - 1}]")
    if logits.shape[axis] == 0:
        raise ParameterError(f"logits has shape {tuple(logits.shape)}: nothing along "
                             f"axis={axis}; valid: at least one logit")
    xp = array_namespace(logits)
    shifted = logits - xp.max(logits, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=axis, keepdims=True)


def block_betas(r: Any, xi: Any, zeta_minus_xi: Any, kappa: Any, axis: int = -1) -> Any:
    """``beta_l = xi + (zeta - xi) w_l`` with ``w = softmax(kappa r)`` along ``axis``.

    ``r`` holds the block energies ``||U_l^T x||^2``; the coefficients broadcast against
    ``r``.  The one place the DAE's ``D`` is computed.
    """
    return xi + zeta_minus_xi * softmax_weights(kappa * r, axis=axis)


def scale_blocks(y: Any, beta: Any, K: int) -> Any:
    """``D y``: block ``l`` of ``y`` (``(..., K d)``) times ``beta_l`` (``(..., K)``).

    The leading axes of ``y`` and ``beta`` broadcast (a clean input shares one ``y`` across
    a chunk of noise levels); the result has the broadcast leading shape.
    """
    xp = array_namespace(y)
    width = y.shape[-1]
    blocks = xp.reshape(y, (*y.shape[:-1], K, width // K))
    scaled = blocks * beta[..., None]
    return xp.reshape(scaled, (*scaled.shape[:-2], width))


def features_from_coordinates(y: Any, sigma: Any, K: int, delta: float) -> Any:
    """The feature ``h = D y`` for coordinates ``y = U^T x`` (``(..., K d) -> (..., K d)``).

    ``sigma`` is a 0-d array of ``y``'s namespace and dtype.
    """
    coef = coefficients(sigma, delta)
    beta = block_betas(block_energies(y, K), coef.xi, coef.zeta_minus_xi, coef.kappa)
    return scale_blocks(y, beta, K)
