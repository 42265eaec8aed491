"""Denoisers: the optimal one (Proposition 1), the parameterised DAE, the memorising one, any callable.

A *denoiser* is any callable ``denoiser(x_t, sigma) -> xhat`` on ``(..., n)`` arrays of an
array-API namespace (:class:`Denoiser`).  Provided:

* :class:`OptimalDenoiser` -- ``E[x0 | x_t]`` of a model (:func:`posterior_mean`);
* :class:`DAE` -- the paper's parameterised DAE ``U D U^T x`` with a given orthonormal
  basis ``U`` (with ``U = U*`` it *is* the optimal denoiser of the idealised MoLRG);
* :class:`~molrg.EmpiricalDenoiser` (in :mod:`molrg.empirical`) -- the optimal denoiser
  of the empirical distribution of ``N`` training points (the memorising one);
* any user callable, e.g. a trained network.

For the idealised MoLRG the optimal denoiser is, in coordinates ``y = U^T x``, the kernel
of :mod:`molrg.kernel`: ``xhat = U D y`` with ``D = blockdiag(beta_l I_d)``.  Nothing here
forms an ``n x n`` matrix.  Public functions validate, then call unchecked kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import kernel
from ._backend import array_namespace
from .bases import ORTHONORMAL_TOL, DAEParameters
from .models import _check_basis, check_model
from .posterior import posterior_mean as mixture_posterior_mean
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_array,
    check_delta,
    check_int,
    check_sigma,
)

__all__ = [
    "DAE",
    "Denoiser",
    "OptimalDenoiser",
    "check_denoiser",
    "dae",
    "dae_parameters_of",
    "features",
    "is_optimal",
    "posterior_mean",
]


@runtime_checkable
class Denoiser(Protocol):
    """A denoiser: ``(x_t, sigma) -> xhat`` on ``(m, n)`` arrays of one namespace.

    That call is all a denoiser must provide.  Optional capabilities let the planners pick
    faster or exact paths, asked through :func:`is_optimal`, :func:`dae_parameters_of` and
    :func:`check_denoiser` (never by testing the class):

    ``optimal_for(model) -> bool``
        True when the denoiser *is* ``model``'s optimal denoiser (exact methods apply).
    ``dae_parameters``
        :class:`~molrg.bases.DAEParameters` when the denoiser has Proposition 1's form
        ``U D(x) U^T x`` (the fast ambient simulator; the DAE's Bayes probe).
    ``check_model(model)``
        raises a :class:`~molrg.ParameterError` when the denoiser cannot run on ``model``
        (e.g. a basis of another ``n``); called before any work.
    ``points``
        the training points of a memorising (empirical) denoiser.
    """

    def __call__(self, x: Any, sigma: float, /) -> Any: ...


def is_optimal(model: Any, denoiser: Any) -> bool:
    """Whether ``denoiser`` is ``model``'s optimal denoiser (``None`` is)."""
    if denoiser is None:
        return True
    optimal_for = getattr(denoiser, "optimal_for", None)
    return bool(optimal_for(model)) if callable(optimal_for) else False


def dae_parameters_of(model: Any, denoiser: Any) -> DAEParameters | None:
    """The :class:`~molrg.bases.DAEParameters` of ``denoiser`` (of ``model``'s optimal
    denoiser for ``None``), or ``None`` when it is not of Proposition 1's form."""
    if denoiser is None:
        return model.dae_parameters  # type: ignore[no-any-return]
    return getattr(denoiser, "dae_parameters", None)


def check_denoiser(model: Any, denoiser: Any) -> None:
    """Refuse a ``denoiser`` that is neither ``None`` nor callable, or that cannot run on
    ``model`` (its ``check_model`` capability), before any work."""
    if denoiser is None:
        return
    if not callable(denoiser):
        raise ParameterTypeError(f"denoiser={denoiser!r} must be None (the optimal denoiser) or a "
                                 "callable (x_t, sigma) -> xhat, e.g. molrg.DAE(basis, K, delta)")
    check = getattr(denoiser, "check_model", None)
    if callable(check):
        check(model)


def _scalar_sigma(sigma: Any) -> float:
    s = check_sigma(sigma)
    if s.ndim:
        raise ParameterError(f"sigma has shape {s.shape}; valid: a scalar for a denoiser")
    return float(s)


def _as_dtype_name(x: Any) -> str:
    xp = array_namespace(x)
    return "float32" if x.dtype == xp.float32 else "float64"


# ---------------------------------------------------------------------------------------
# The parameterised DAE
# ---------------------------------------------------------------------------------------
def _dae_iv(x: Any, sigma: Any, basis: Any, K: Any, delta: Any) -> tuple[Any, int, float, float]:
    check_array("x", x, ndim=None)
    check_array("basis", basis, ndim=2)
    K = check_int("K", K, low=2)
    if basis.shape[1] % K:
        raise ParameterError(f"basis has shape {tuple(basis.shape)}; valid: (n, K*d) with K={K}")
    if x.ndim == 0 or x.shape[-1] != basis.shape[0]:
        raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (..., n) with n={basis.shape[0]}")
    return basis, K, _scalar_sigma(sigma), check_delta(delta)


def _dae_features(x: Any, basis: Any, K: int, sigma: float, delta: float) -> Any:
    xp = array_namespace(x, basis)
    y = x @ basis
    return kernel.features_from_coordinates(y, xp.asarray(sigma, dtype=y.dtype), K, delta)


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
    ``(..., K d)`` features ``beta_l y_l`` with ``y = U^T x``.

    Examples
    --------
    >>> import numpy as np
    >>> import molrg
    >>> model = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, kind="canonical")
    >>> h = molrg.features(np.array([4.0, 0.0, 0.5]), 0.1, basis=model.basis, K=2, delta=0.5)
    >>> h.shape, np.round(h, 4)
    ((2,), array([3.9604, 0.    ]))
    """
    basis, K, s, delta = _dae_iv(x, sigma, basis, K, delta)
    return _dae_features(x, basis, K, s, delta)


def dae(x: Any, /, sigma: float, *, basis: Any, K: int, delta: float) -> Any:
    """Parameterised DAE ``xhat = U D U^T x`` (``(..., n) -> (..., n)``); see :func:`features`.

    ``basis`` must have orthonormal columns, as for :class:`DAE`: ``max|U^T U - I|`` at most
    ``1e-8`` in float64 (``1e-5`` in float32), else a :class:`~molrg.ParameterError`.

    Examples
    --------
    The DAE with the model's basis is the posterior mean (:func:`posterior_mean`):

    >>> import numpy as np
    >>> import molrg
    >>> model = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, kind="canonical")
    >>> x = np.array([4.0, 0.0, 0.5])
    >>> xhat = molrg.dae(x, 0.1, basis=model.basis, K=2, delta=0.5)
    >>> np.round(xhat, 4)
    array([3.9604, 0.    , 0.    ])
    >>> bool(np.allclose(xhat, molrg.posterior_mean(model, x, 0.1)))
    True
    """
    basis, K, s, delta = _dae_iv(x, sigma, basis, K, delta)
    _check_orthonormal(basis)
    return _dae_unchecked(x, basis, K, s, delta)


def _check_orthonormal(basis: Any) -> None:
    """``max|U^T U - I|`` within the dtype's tolerance (in the basis's own namespace)."""
    xp = array_namespace(basis)
    r = basis.shape[1]
    gram = xp.matrix_transpose(basis) @ basis
    err = float(xp.max(xp.abs(gram - xp.eye(r, dtype=basis.dtype)))) if r else 0.0
    tol = ORTHONORMAL_TOL if basis.dtype == xp.float64 else 1e-5
    if not err <= tol:
        raise ParameterError(f"basis is not orthonormal: max|U^T U - I| = {err:.3g}; valid: "
                             f"<= {tol:g} (orthonormal columns, as for molrg.DAE)")


def _dae_unchecked(x: Any, basis: Any, K: int, sigma: float, delta: float) -> Any:
    xp = array_namespace(x, basis)
    return _dae_features(x, basis, K, sigma, delta) @ xp.matrix_transpose(basis)


@dataclass(frozen=True, eq=False)
class DAE:
    """The paper's parameterised DAE ``xhat = U D U^T x`` with a fixed orthonormal basis.

    Parameters
    ----------
    basis : ``(n, K d)`` array with orthonormal columns (block ``l`` = columns
        ``l d : (l+1) d``); stored as a read-only float64 NumPy array.
    K : number of blocks.
    delta : the detail-noise level used in ``beta`` (the model's, for the paper's DAE).

    With the model's own basis this is the optimal denoiser of the idealised MoLRG.
    """

    basis: Any
    K: int
    delta: float

    def __post_init__(self) -> None:
        K = check_int("K", self.K, low=2)
        shape: tuple[int, ...] = tuple(getattr(self.basis, "shape", ()))
        if len(shape) != 2 or shape[1] % K:
            raise ParameterError(f"basis has shape {tuple(shape)}; valid: (n, K*d) with K={K}")
        basis = _check_basis(self.basis, shape[0], shape[1])
        basis.setflags(write=False)
        object.__setattr__(self, "K", K)
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "delta", check_delta(self.delta))

    @property
    def dae_parameters(self) -> DAEParameters:
        """This DAE's basis, ``K`` and ``delta`` (capability of :class:`Denoiser`)."""
        return DAEParameters(self.basis, self.K, self.delta)

    def optimal_for(self, model: Any) -> bool:
        """False: even with a model's own basis the DAE is treated as a denoiser to be
        simulated (the exact methods are for :class:`OptimalDenoiser` / ``None``)."""
        return False

    def check_model(self, model: Any) -> None:
        """Refuse a model of another ambient dimension ``n``."""
        n = getattr(model, "n", None)
        if n is None or self.basis.shape[0] != n:
            raise ParameterError(f"denoiser basis has n={self.basis.shape[0]}; valid: the "
                                 f"model's n={n} (a model with n and bases)")

    def basis_in(self, xp: Any, dtype: str) -> Any:
        """The basis in namespace ``xp`` and ``dtype`` (cached)."""
        cache = self.__dict__.setdefault("_cache", {})
        key = (xp.__name__, dtype)
        if key not in cache:
            cache[key] = xp.asarray(self.basis, dtype=getattr(xp, dtype))
        return cache[key]

    def __call__(self, x: Any, sigma: float, /) -> Any:
        xp = array_namespace(x)
        basis, K, s, delta = _dae_iv(x, sigma, self.basis_in(xp, _as_dtype_name(x)), self.K,
                                     self.delta)  # orthonormal: checked on construction
        return _dae_unchecked(x, basis, K, s, delta)

    def features(self, x: Any, sigma: float, /) -> Any:
        """``h = D U^T x``, ``(..., n) -> (..., K d)``."""
        xp = array_namespace(x)
        return features(x, sigma, basis=self.basis_in(xp, _as_dtype_name(x)), K=self.K,
                        delta=self.delta)


# ---------------------------------------------------------------------------------------
# The optimal denoiser
# ---------------------------------------------------------------------------------------
def posterior_mean(model: Any, x: Any, sigma: float) -> Any:
    """Exact ``E[x0 | x_t = x]`` of ``model`` at noise level ``sigma``.

    For the idealised :class:`~molrg.MoLRG` (Proposition 1):
    ``sum_k w_k(x) (zeta U_k U_k^T + xi Ut_k Ut_k^T) x``, computed as the DAE with the
    model's basis.  For a :class:`~molrg.LowRankMixture`: the Gaussian-mixture posterior
    with Woodbury on the low-rank covariance factors.  Stable for ``sigma`` in [1e-4, 1e3]
    in float32 and float64.  ``x`` is ``(..., n)`` in any namespace; the result has its
    namespace, shape and dtype.

    Examples
    --------
    With the canonical basis, a point far out on class 0's axis is class 0's with certainty
    and is shrunk by ``zeta = 1 / (1 + sigma^2)`` (``4 / 1.01 = 3.9604``); its part outside
    ``span(U)`` is removed:

    >>> import numpy as np
    >>> import molrg
    >>> model = molrg.MoLRG(K=2, d=1, n=3, delta=0.5, kind="canonical")
    >>> xhat = molrg.posterior_mean(model, np.array([4.0, 0.0, 0.5]), 0.1)
    >>> np.round(xhat, 4)
    array([3.9604, 0.    , 0.    ])
    """
    model = check_model(model, ambient=True)
    params = model.dae_parameters
    if params is None:
        return mixture_posterior_mean(model.to_mixture(), x, sigma)
    check_array("x", x)
    n = params.basis.shape[0]
    if x.ndim == 0 or x.shape[-1] != n:
        raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (..., n) with n={n}")
    s = _scalar_sigma(sigma)
    xp = array_namespace(x)
    basis = model.basis_in(xp, _as_dtype_name(x))  # type: ignore[attr-defined]
    return _dae_features(x, basis, params.K, s, params.delta) @ xp.matrix_transpose(basis)


@dataclass(frozen=True, eq=False)
class OptimalDenoiser:
    """The optimal denoiser ``E[x0 | x_t]`` of ``model`` (the default of :func:`molrg.snr`)."""

    model: Any

    def __post_init__(self) -> None:
        check_model(self.model, ambient=True)

    def __call__(self, x: Any, sigma: float, /) -> Any:
        return posterior_mean(self.model, x, sigma)

    def optimal_for(self, model: Any) -> bool:
        """True for the model it was built for (capability of :class:`Denoiser`)."""
        return model is self.model

    @property
    def dae_parameters(self) -> DAEParameters | None:
        """The model's (Proposition 1's DAE for the idealised MoLRG; else ``None``)."""
        return self.model.dae_parameters  # type: ignore[no-any-return]


def check_output(denoiser: Any, out: Any, x: Any) -> None:
    """A callable denoiser's output for the batch ``x`` (``(m, n)``): the same shape, a
    real floating dtype and finite entries (whose squares are finite too), else a
    :class:`~molrg.ParameterError` naming the denoiser.  Called once per batch by the
    simulators (one reduction, not a copy)."""
    name = getattr(denoiser, "__qualname__", None) or type(denoiser).__name__
    shape = getattr(out, "shape", None)
    if shape is None or tuple(shape) != tuple(x.shape):
        raise ParameterError(
            f"denoiser {name!r} returned shape {None if shape is None else tuple(shape)} for "
            f"input {tuple(x.shape)}; valid: the input's shape (m, n)")
    kind = str(getattr(out, "dtype", type(out).__name__))
    if "float" not in kind or "complex" in kind:
        raise ParameterError(f"denoiser {name!r} returned dtype {kind}; valid: a real floating "
                             "dtype (float32 or float64, as its input)")
    xp = array_namespace(out)
    if not bool(xp.all(xp.isfinite(out))):
        raise ParameterError(f"denoiser {name!r} returned non-finite values (NaN or inf) for "
                             "a batch; valid: finite outputs")
    with np.errstate(over="ignore", invalid="ignore"):
        squares_finite = bool(xp.all(xp.isfinite(xp.sum(out * out, axis=-1))))
    if out.shape[0] and not squares_finite:
        raise ParameterError(f"denoiser {name!r} returned outputs whose squared norm "
                             f"overflows {kind}; valid: outputs of the size of the data")
