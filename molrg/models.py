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
from typing import Any

import numpy as np

from . import _backend
from .validation import (
    ParameterError,
    ParameterTypeError,
    check_choice,
    check_delta,
    check_int,
)

__all__ = ["BASIS_KINDS", "MoLRG", "Setting", "as_setting", "class_scales", "haar_basis", "latent"]

BASIS_KINDS = ("random", "canonical")
ORTHONORMAL_TOL = 1e-8
MAX_BASIS_ENTRIES = 2**27
"""Largest basis accepted, ``n K d`` entries (1 GiB in float64): a larger one is refused
before it is allocated."""


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

    def to_json(self) -> dict[str, Any]:
        return {"K": self.K, "d": self.d, "delta": self.delta}


def as_setting(value: Any, name: str = "setting") -> Setting:
    """``value`` as a :class:`Setting` (a Setting, or a model with a ``setting``)."""
    setting = getattr(value, "setting", None)
    if isinstance(setting, Setting):
        return setting
    raise ParameterTypeError(f"{name}={value!r} must be a molrg.Setting(K, d, delta) or a molrg.MoLRG")


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
        K = check_int("K", self.K, low=2)
        d = check_int("d", self.d, low=1)
        n = check_int("n", self.n, low=1)
        if K * d > n:
            raise ParameterError(f"K*d={K * d} exceeds n={n}; valid: K*d <= n")
        if n * K * d > MAX_BASIS_ENTRIES:
            raise ParameterError(f"n={n} with K*d={K * d} needs an n x K*d basis of more "
                                 f"than {MAX_BASIS_ENTRIES} entries (1 GiB); valid: n*K*d <= "
                                 f"{MAX_BASIS_ENTRIES}")
        delta = check_delta(self.delta)
        kind = check_choice("kind", self.kind, BASIS_KINDS)
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        if self.basis is None:
            basis = _make_basis(n, K * d, kind, self.seed)
        else:
            basis = _check_basis(self.basis, n, K * d)
        basis.setflags(write=False)
        for name, value in (("K", K), ("d", d), ("n", n), ("delta", delta), ("kind", kind)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "basis", basis)

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
    def bases(self) -> tuple[np.ndarray, ...]:
        """The ``K`` class bases ``U_k``, each ``(n, d)``."""
        return tuple(self.basis[:, k * self.d : (k + 1) * self.d] for k in range(self.K))

    def block(self, k: int) -> np.ndarray:
        """``U_k``, the ``(n, d)`` basis of class ``k``."""
        k = check_int("k", k, low=0, high=self.K - 1)
        return self.basis[:, k * self.d : (k + 1) * self.d]

    def basis_in(self, xp: ModuleType, dtype: Any = "float64") -> Any:
        """The basis as an array of namespace ``xp`` and ``dtype`` (cached per model).

        The cache matters on a GPU: the basis is uploaded once, not at every call.
        """
        dt = _backend.resolve_dtype(xp, dtype)
        cache = self.__dict__.setdefault("_basis_cache", {})
        key = (xp.__name__, str(dt))
        if key not in cache:
            cache[key] = xp.asarray(self.basis, dtype=dt)
        return cache[key]

    def replace(self, **changes: Any) -> MoLRG:
        """A new model with some parameters changed (the basis is regenerated unless given)."""
        params: dict[str, Any] = {"K": self.K, "d": self.d, "n": self.n, "delta": self.delta,
                  "kind": self.kind, "seed": self.seed, "basis": None}
        params.update(changes)
        return MoLRG(**params)

    def to_mixture(self) -> Any:
        """The same model as a :class:`~molrg.LowRankMixture` (the general family)."""
        from .mixtures import LowRankMixture

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


def haar_basis(n: int, r: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Haar-random ``(n, r)`` orthonormal columns (QR of a Gaussian matrix, signs fixed).

    Refused (naming ``n``) above :data:`MAX_BASIS_ENTRIES` entries, before allocating."""
    if n * r > MAX_BASIS_ENTRIES:
        raise ParameterError(f"n={n} with rank {r} needs an n x {r} basis of more than "
                             f"{MAX_BASIS_ENTRIES} entries (1 GiB); valid: n*rank <= "
                             f"{MAX_BASIS_ENTRIES}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    q, rr = np.linalg.qr(rng.standard_normal((n, r)))
    return q * np.sign(np.diag(rr))  # Haar: fix the sign ambiguity of QR


def _make_basis(n: int, r: int, kind: str, seed: int) -> np.ndarray:
    return np.eye(n, r) if kind == "canonical" else haar_basis(n, r, seed)


def _check_basis(basis: Any, n: int, r: int) -> np.ndarray:
    try:
        raw = _backend.to_numpy(basis)
    except (TypeError, ValueError):
        raw = None
    if raw is None or basis is None or raw.dtype.kind not in "fiu":
        kind = getattr(raw, "dtype", type(basis).__name__)
        raise ParameterTypeError(f"basis must be a real (n, K*d) array; got {kind}")
    arr = np.array(raw, dtype=np.float64)
    if arr.shape != (n, r):
        raise ParameterError(f"basis has shape {arr.shape}; valid: (n, K*d) = ({n}, {r})")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("basis has non-finite entries; valid: finite orthonormal columns")
    err = float(np.max(np.abs(arr.T @ arr - np.eye(r))))
    if err > ORTHONORMAL_TOL:
        raise ParameterError(
            f"basis is not orthonormal: max|U^T U - I| = {err:.3g}; valid: <= {ORTHONORMAL_TOL:g}"
        )
    return arr
