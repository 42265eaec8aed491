"""Models: the idealised MoLRG (Assumption 1 of ``science.md``) and its parameters.

:class:`Setting` holds ``(K, d, delta)``, all that the theory and the exact SNR of the
optimal denoiser depend on.  :class:`MoLRG` adds the ambient dimension ``n`` and a basis:
``K`` classes with equal weights ``1/K``; class ``k`` draws
``x0 = U_k a + delta Ut_k e`` with ``a ~ N(0, I_d)``, ``e ~ N(0, I_{(K-1) d})``,
``Ut_k = [U_l, l != k]``.  The forward process is variance exploding:
``x_t = x0 + sigma eps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import _backend
from .arrays import cached_in
from .bases import (
    BASIS_KINDS,
    MAX_BASIS_ENTRIES,
    ORTHONORMAL_TOL,
    DAEParameters,
    check_basis,
    haar_basis,
    ideal_parameters,
)
from .mixtures import LowRankMixture
from .validation import ParameterError, ParameterTypeError, check_delta, check_int

__all__ = [
    "BASIS_KINDS",
    "MAX_BASIS_ENTRIES",
    "ORTHONORMAL_TOL",
    "MoLRG",
    "Model",
    "Setting",
    "as_setting",
    "check_model",
    "class_scales",
    "haar_basis",
    "latent",
]

_check_basis = check_basis
"""Former home of :func:`molrg.bases.check_basis` (``molrg.denoisers`` imports it here)."""


@dataclass(frozen=True)
class Setting:
    """The parameters the theory depends on: ``K`` classes of dimension ``d``, detail noise ``delta``.

    Parameters
    ----------
    K : number of classes, ``K >= 2``.
    d : dimension of every class subspace, ``d >= 1``.
    delta : intrinsic detail-noise level, ``0 < delta < 1``.

    Every function of :mod:`molrg.theory` takes one (a :class:`MoLRG` works too: it has
    a ``setting``), and :func:`molrg.snr` accepts one for the methods that need no ``n``.
    """

    K: int
    d: int
    delta: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "K", check_int("K", self.K, low=2))
        object.__setattr__(self, "d", check_int("d", self.d, low=1))
        object.__setattr__(self, "delta", check_delta(self.delta))

    @property
    def setting(self) -> Setting:
        return self

    @property
    def weights(self) -> np.ndarray:
        """Class probabilities: ``1/K`` each (read-only; as ``LowRankMixture.weights``)."""
        return uniform_weights(self.K)

    @property
    def total_rank(self) -> int:
        """``K d``."""
        return self.K * self.d

    @property
    def ambient(self) -> bool:
        """False: a Setting has no ambient dimension or bases (it cannot be sampled)."""
        return False

    @property
    def dae_parameters(self) -> None:
        """``None``: without a basis there is no DAE to run."""
        return None

    def to_mixture(self) -> LowRankMixture:
        """Refused: a Setting has no ``n`` or bases (use :class:`MoLRG`)."""
        raise ParameterError(f"model={self!r} has no ambient dimension or bases; valid: a "
                             "molrg.MoLRG(K, d, n, delta) or a molrg.LowRankMixture")

    def to_json(self) -> dict[str, Any]:
        return {"K": self.K, "d": self.d, "delta": self.delta}


def as_setting(value: Any, name: str = "setting") -> Setting:
    """``value`` as a :class:`Setting` (a Setting, or a model with a ``setting``)."""
    setting = getattr(value, "setting", None)
    if isinstance(setting, Setting):
        return setting
    raise ParameterTypeError(f"{name}={value!r} must be a molrg.Setting(K, d, delta) or a molrg.MoLRG")


@runtime_checkable
class Model(Protocol):
    """What every model answers (its capabilities), so that planners ask, not test classes.

    :class:`Setting`, :class:`MoLRG` and :class:`~molrg.LowRankMixture` implement it; a new
    model family that implements it (and ``sample``, ``n``, ``basis_in`` where ``ambient``)
    is accepted by :func:`molrg.snr`, :func:`molrg.probe_accuracy` and the rest unchanged.

    Attributes
    ----------
    K : number of classes.
    weights : ``(K,)`` class probabilities.
    total_rank : columns of the stacked basis (``K d`` for the idealised model).
    setting : the :class:`Setting` ``(K, d, delta)`` when the model is the idealised MoLRG
        (the exact methods apply: quadrature, the reduced simulator), else ``None``.
    ambient : whether the model has ``n`` and bases (can be sampled; ambient simulation).
    dae_parameters : :class:`~molrg.bases.DAEParameters` when the optimal denoiser is a DAE
        of Proposition 1's form (the fast ambient simulator), else ``None``.
    to_mixture() : the model as a :class:`~molrg.LowRankMixture` (the general family every
        sampled path understands); refused when not ``ambient``.
    """

    @property
    def K(self) -> int: ...
    @property
    def weights(self) -> np.ndarray: ...
    @property
    def total_rank(self) -> int: ...
    @property
    def setting(self) -> Setting | None: ...
    @property
    def ambient(self) -> bool: ...
    @property
    def dae_parameters(self) -> DAEParameters | None: ...
    def to_mixture(self) -> LowRankMixture: ...


def check_model(model: Any, name: str = "model", *, ambient: bool = False) -> Model:
    """``model`` if it is a model (:class:`Model`'s capabilities), and has ``n`` and bases
    when ``ambient`` is asked for; else a :class:`~molrg.ParameterTypeError` (a
    :class:`~molrg.ParameterError`) naming it and what is valid."""
    if not isinstance(model, Model):
        raise ParameterTypeError(f"{name}={model!r} must be a molrg.Setting, molrg.MoLRG or "
                                 "molrg.LowRankMixture (or a model with molrg.models.Model's "
                                 "capabilities)")
    if ambient and not model.ambient:
        raise ParameterTypeError(f"{name}={model!r} has no ambient dimension or bases; valid: a "
                             "molrg.MoLRG(K, d, n, delta) or a molrg.LowRankMixture")
    return model


@dataclass(frozen=True, eq=False)
class MoLRG:
    """Validated MoLRG parameters and the orthonormal basis ``U = [U_1 ... U_K]``.

    Parameters
    ----------
    K : number of classes, ``K >= 2``.
    d : dimension of every class subspace, ``d >= 1``.
    n : ambient dimension, ``n >= K d``.
    delta : intrinsic detail-noise level, ``0 < delta < 1``.
    basis : optional ``(n, K d)`` array with orthonormal columns (block ``k`` is columns
        ``k d : (k+1) d``).  Default: generated according to ``kind``.
    kind : ``"random"`` (Haar-random orthonormal columns from ``seed``) or
        ``"canonical"`` (the first ``K d`` coordinate vectors).  Ignored when ``basis``
        is supplied.
    seed : seed of the random basis.

    Notes
    -----
    The basis is stored as a read-only float64 NumPy array; :meth:`basis_in` converts
    it to any array namespace and dtype.
    """

    K: int
    d: int
    n: int
    delta: float
    basis: Any = field(default=None, repr=False)
    kind: str = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        values = ideal_parameters(self.K, self.d, self.n, self.delta, self.basis, self.kind,
                                  self.seed)
        for name, value in zip(("K", "d", "n", "delta", "kind", "seed", "basis"), values,
                               strict=True):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (
            f"MoLRG(K={self.K}, d={self.d}, n={self.n}, delta={self.delta:g}, "
            f"kind={self.kind!r}, seed={self.seed})"
        )

    @property
    def rank(self) -> int:
        """``K d``, the dimension of ``span(U)``."""
        return self.K * self.d

    @property
    def setting(self) -> Setting:
        """The model's :class:`Setting` ``(K, d, delta)``."""
        return Setting(self.K, self.d, self.delta)

    @property
    def total_rank(self) -> int:
        """``K d`` (as :attr:`molrg.LowRankMixture.total_rank`)."""
        return self.rank

    @property
    def ambient(self) -> bool:
        """True: the model has ``n`` and a basis (it can be sampled)."""
        return True

    @property
    def dae_parameters(self) -> DAEParameters:
        """The optimal denoiser is the DAE with the model's basis, ``K`` and ``delta``
        (Proposition 1)."""
        return DAEParameters(self.basis, self.K, self.delta)

    @property
    def weights(self) -> np.ndarray:
        """Class probabilities: ``1/K`` each (read-only; as ``LowRankMixture.weights``)."""
        return uniform_weights(self.K)

    @property
    def bases(self) -> tuple[np.ndarray, ...]:
        """The ``K`` class bases ``U_k``, each ``(n, d)``."""
        return tuple(self.basis[:, k * self.d : (k + 1) * self.d] for k in range(self.K))

    def block(self, k: int) -> np.ndarray:
        """``U_k``, the ``(n, d)`` basis of class ``k``."""
        k = check_int("k", k, low=0, high=self.K - 1)
        return self.basis[:, k * self.d : (k + 1) * self.d]

    def basis_in(self, xp: ModuleType, dtype: Any = "float64") -> Any:
        """The basis as an array of namespace ``xp`` and ``dtype`` (cached per model).

        The cache matters on a GPU: the basis is uploaded once, not at every call (the
        same cache as :meth:`molrg.LowRankMixture.basis_in`).
        """
        dt = _backend.resolve_dtype(xp, dtype)
        return cached_in(self, ("basis", xp.__name__, str(dt)),
                         lambda: xp.asarray(self.basis, dtype=dt))

    def replace(self, **changes: Any) -> MoLRG:
        """A new model with some parameters changed (the basis is regenerated unless given)."""
        params: dict[str, Any] = {"K": self.K, "d": self.d, "n": self.n, "delta": self.delta,
                  "kind": self.kind, "seed": self.seed, "basis": None}
        params.update(changes)
        return MoLRG(**params)

    def to_mixture(self) -> LowRankMixture:
        """The same model as a :class:`~molrg.LowRankMixture` (the general family)."""
        return LowRankMixture(self.bases, delta=self.delta)

    def embedded(self, n: int) -> MoLRG:
        """The same model in a larger ambient space: ``n - self.n`` empty directions added."""
        n = check_int("n", n, low=self.n)
        basis = np.zeros((n, self.rank))
        basis[: self.n] = self.basis
        return MoLRG(self.K, self.d, n, self.delta, basis=basis, seed=self.seed)

    def rotated(self, rotation: np.ndarray) -> MoLRG:
        """The model with every basis rotated by one orthogonal ``(n, n)`` matrix."""
        return MoLRG(self.K, self.d, self.n, self.delta, basis=np.asarray(rotation) @ self.basis,
                     seed=self.seed)

    def sample(
        self,
        num: int,
        rng: int | np.random.Generator | _backend.Random | None = None,
        *,
        xp: str | ModuleType = "numpy",
        dtype: Any = "float64",
    ) -> tuple[Any, Any]:
        """Draw ``num`` clean samples.

        Returns
        -------
        x0 : ``(num, n)`` array of namespace ``xp`` and ``dtype``.
        labels : ``(num,)`` integer array of classes, uniform on ``0..K-1``.
        """
        num = check_int("num", num, low=1)
        space = _backend.namespace(xp)
        _backend.check_seed(rng)
        gen = rng if isinstance(rng, _backend.Random) else _backend.Random(rng, space)
        dt = _backend.resolve_dtype(space, dtype)
        labels = gen.integers(self.K, (num,))
        onehot = space.astype(labels[:, None] == space.arange(self.K)[None, :], dt)
        z = latent(space, gen, onehot, self.d, self.delta, dt)
        x0 = z @ space.matrix_transpose(self.basis_in(space, dtype))
        return x0, labels


def uniform_weights(K: int) -> np.ndarray:
    """``(K,)`` read-only float64 array of ``1/K``: the idealised model's class weights."""
    w = np.full(K, 1.0 / K)
    w.setflags(write=False)
    return w


def class_scales(onehot: Any, delta: float) -> Any:
    """Per-sample, per-block standard deviation of the latent: 1 on the own block, delta elsewhere.

    ``onehot`` is ``(num, K)``; returns ``(num, K)``.
    """
    return onehot * (1.0 - delta) + delta


def latent(xp: ModuleType, gen: _backend.Random, onehot: Any, d: int, delta: float, dtype: Any) -> Any:
    """Coordinates ``z = U^T x0`` of clean samples whose classes are ``onehot`` (num, K).

    Block ``k`` of a class-``k`` sample is ``a ~ N(0, I_d)``; every other block is
    ``delta e_l``.  Returns ``(num, K d)``.
    """
    num, K = onehot.shape
    g = gen.standard_normal((num, K, d), dtype)
    z = g * class_scales(onehot, delta)[:, :, None]
    return xp.reshape(z, (num, K * d))
