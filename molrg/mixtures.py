"""A general mixture of low-rank Gaussians: overlapping subspaces, unequal ranks, weights, means.

Class ``k`` (probability ``pi_k``) draws

    ``x0 = mu_k + U_k a + delta * sum_{l != k} U_l e_l``,
    ``a ~ N(0, I_{d_k})``, ``e_l ~ N(0, I_{d_l})`` independent,

so ``x0 | k ~ N(mu_k, Sigma_k)`` with

    ``Sigma_k = U_k U_k^T + delta^2 sum_{l != k} U_l U_l^T = B S_k^2 B^T``,

where ``B = [U_1 ... U_K]`` is the ``(n, R)`` stacked basis, ``R = sum_k d_k``, and ``S_k``
is the ``(R, R)`` diagonal matrix with 1 on block ``k`` and ``delta`` on every other block
(:meth:`LowRankMixture.scales`).  The bases are orthonormal one by one but need not be
orthogonal to each other.  For mutually orthogonal, equal-rank bases, zero means and
uniform weights this is the idealised MoLRG of ``science.md`` (Assumption 1);
:func:`from_molrg` builds it.  The forward process is ``x_t = x0 + sigma eps``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import Random, namespace, resolve_dtype
from .arrays import cached_in, to_numpy
from .bases import ORTHONORMAL_TOL, check_orthonormal, haar_basis, ideal_parameters
from .options import MEAN_PLACEMENTS
from .validation import ParameterError, ParameterTypeError, check_int, check_real

__all__ = [
    "MEAN_PLACEMENTS",
    "ORTHONORMAL_TOL",
    "LowRankMixture",
    "from_molrg",
    "separated",
    "two_subspaces",
    "unequal_ranks",
]

_UNSET: Any = object()
"""Marks a deprecated keyword that was not passed."""
WEIGHTS_TOL = 1e-12
"""``|sum(weights) - 1|`` must not exceed ``WEIGHTS_TOL * K``."""


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _as_host(name: str, value: Any) -> np.ndarray:
    try:
        raw = np.asarray(to_numpy(value))
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(f"{name} must be a real array ({exc})") from None
    if raw.dtype.kind not in "iuf":
        raise ParameterTypeError(f"{name} must be a real array (dtype {raw.dtype})")
    return np.array(raw, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LowRankMixture:
    """Validated parameters of a general mixture of low-rank Gaussians.

    Parameters
    ----------
    bases : sequence of ``K >= 2`` arrays (any namespace), ``bases[k]`` of shape
        ``(n, d_k)`` with orthonormal columns (``max|U_k^T U_k - I| <= 1e-8``),
        ``1 <= d_k <= n``.  Different classes may overlap and have different ranks.
    delta : off-subspace scale, ``delta >= 0`` (finite).  ``delta = 0``: class ``k``
        lives on ``mu_k + span(U_k)``.
    weights : ``(K,)`` mixing probabilities ``pi_k > 0`` with ``|sum - 1| <= 1e-12 K``
        (default uniform ``1/K``).
    means : ``(K, n)`` class means ``mu_k`` (default zeros).

    Notes
    -----
    ``x0 | k ~ N(mu_k, Sigma_k)``, ``Sigma_k = B S_k^2 B^T`` (module docstring).  All
    parameters are stored as read-only float64 NumPy arrays on the host; :meth:`basis_in`
    and :meth:`means_in` give cached copies in any array namespace and dtype.
    Equality is identity (``eq=False``), as for ``molrg.MoLRG``.
    """

    bases: Any
    delta: float = 0.0
    weights: Any = None
    means: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        bases = self._check_bases(self.bases)
        K, n = len(bases), bases[0].shape[0]
        delta = check_real("delta", self.delta, low=0.0, open_low=False)
        weights = self._check_weights(self.weights, K)
        means = self._check_means(self.means, K, n)
        object.__setattr__(self, "bases", tuple(bases))
        object.__setattr__(self, "delta", delta)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "means", means)
        ranks = tuple(b.shape[1] for b in bases)
        object.__setattr__(self, "_ranks", ranks)
        object.__setattr__(self, "_basis", _readonly(np.concatenate(bases, axis=1)))
        scales = np.full((K, sum(ranks)), delta)
        offsets = np.concatenate([[0], np.cumsum(ranks)])
        for k in range(K):
            scales[k, offsets[k]:offsets[k + 1]] = 1.0
        object.__setattr__(self, "_scales", _readonly(scales))
        object.__setattr__(self, "_offsets", tuple(int(o) for o in offsets))

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_bases(bases: Any) -> list[np.ndarray]:
        what = "a sequence of K >= 2 arrays of shape (n, d_k)"
        ndim = getattr(bases, "ndim", None)
        if isinstance(bases, (str, bytes)) or (ndim is not None and ndim != 3):
            shape = getattr(bases, "shape", None)
            raise ParameterError(f"bases={type(bases).__name__}{'' if shape is None else tuple(shape)} "
                             f"is not valid; valid: {what}")
        try:
            items = [bases[k, ...] for k in range(bases.shape[0])] if ndim == 3 else list(bases)
        except TypeError:
            raise ParameterError(f"bases={type(bases).__name__} is not valid; valid: {what}") from None
        if len(items) < 2:
            raise ParameterError(f"bases has K={len(items)} entries; valid: K >= 2")
        out: list[np.ndarray] = []
        n = None
        for k, b in enumerate(items):
            name = f"bases[{k}]"
            arr = _as_host(name, b)
            if arr.ndim != 2 or arr.shape[1] < 1 or arr.shape[0] < arr.shape[1]:
                raise ParameterError(f"{name} has shape {arr.shape}; valid: (n, d_k) with 1 <= d_k <= n")
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ParameterError(f"{name} has n={arr.shape[0]} rows; valid: n={n} (as bases[0])")
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{name} has non-finite entries; valid: finite orthonormal columns")
            check_orthonormal(name, arr)
            out.append(_readonly(arr))
        return out

    @staticmethod
    def _check_weights(weights: Any, K: int) -> np.ndarray:
        if weights is None:
            return _readonly(np.full(K, 1.0 / K))
        w = _as_host("weights", weights)
        if w.shape != (K,):
            raise ParameterError(f"weights has shape {w.shape}; valid: (K,) = ({K},)")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            bad = float(w[~(np.isfinite(w) & (w > 0))][0])
            raise ParameterError(f"weights contains {bad!r}; valid: every weight finite and > 0")
        total = float(np.sum(w))
        if abs(total - 1.0) > WEIGHTS_TOL * K:
            raise ParameterError(f"weights sums to {total!r}; valid: 1 within {WEIGHTS_TOL * K:g}")
        return _readonly(w)

    @staticmethod
    def _check_means(means: Any, K: int, n: int) -> np.ndarray:
        if means is None:
            return _readonly(np.zeros((K, n)))
        mu = _as_host("means", means)
        if mu.shape != (K, n):
            raise ParameterError(f"means has shape {mu.shape}; valid: (K, n) = ({K}, {n})")
        if not np.all(np.isfinite(mu)):
            raise ParameterError("means has non-finite entries; valid: finite")
        return _readonly(mu)

    # ------------------------------------------------------------------ properties
    def __repr__(self) -> str:
        w = ", ".join(f"{v:.3g}" for v in self.weights)
        return (f"LowRankMixture(K={self.K}, n={self.n}, ranks={self.ranks}, delta={self.delta:g}, "
                f"weights=({w}), means={'nonzero' if self.has_means else 'zero'})")

    @property
    def K(self) -> int:
        """Number of classes."""
        return len(self.bases)

    @property
    def n(self) -> int:
        """Ambient dimension."""
        return int(self.bases[0].shape[0])

    @property
    def ranks(self) -> tuple[int, ...]:
        """``(d_1, ..., d_K)``."""
        return self._ranks  # type: ignore[attr-defined, no-any-return]

    @property
    def total_rank(self) -> int:
        """``R = sum_k d_k``, the number of columns of the stacked basis."""
        return int(sum(self.ranks))

    @property
    def has_means(self) -> bool:
        """Whether any class mean is non-zero."""
        return bool(np.any(self.means != 0.0))

    @property
    def basis(self) -> np.ndarray:
        """Stacked basis ``B = [U_1 ... U_K]``, read-only float64 ``(n, R)``."""
        return self._basis  # type: ignore[attr-defined, no-any-return]

    def block_slice(self, k: int) -> slice:
        """Columns of ``B`` (and entries of :meth:`scales`) that belong to class ``k``."""
        k = check_int("k", k, low=0, high=self.K - 1)
        return slice(self._offsets[k], self._offsets[k + 1])  # type: ignore[attr-defined]

    def scales(self, k: int | None = None) -> np.ndarray:
        """Diagonal of ``S_k`` (``(R,)``): 1 on block ``k``, ``delta`` elsewhere.

        ``k=None`` gives all of them as a read-only ``(K, R)`` array.
        """
        if k is None:
            return self._scales  # type: ignore[attr-defined, no-any-return]
        k = check_int("k", k, low=0, high=self.K - 1)
        return self._scales[k]  # type: ignore[attr-defined, no-any-return]

    def factor(self, k: int) -> np.ndarray:
        """Low-rank factor ``F_k = B S_k`` (``(n, R)``) with ``Sigma_k = F_k F_k^T``."""
        return self.basis * self.scales(k)[None, :]

    def covariance(self, k: int) -> np.ndarray:
        """Dense ``Sigma_k`` (``(n, n)``).  For tests and small ``n`` only: O(n^2) memory."""
        f = self.factor(k)
        return f @ f.T

    def basis_in(self, xp: str | ModuleType, dtype: Any = "float64") -> Any:
        """``B`` as an array of namespace ``xp`` and ``dtype`` (cached per model)."""
        space = namespace(xp, "xp")
        dt = resolve_dtype(space, dtype)
        return cached_in(self, ("basis", space.__name__, str(dt)),
                         lambda: space.asarray(self.basis, dtype=dt))

    def means_in(self, xp: str | ModuleType, dtype: Any = "float64") -> Any:
        """The ``(K, n)`` means in namespace ``xp`` and ``dtype`` (cached per model)."""
        space = namespace(xp, "xp")
        dt = resolve_dtype(space, dtype)
        return cached_in(self, ("means", space.__name__, str(dt)),
                         lambda: space.asarray(self.means, dtype=dt))

    def _scales_in(self, space: ModuleType, dt: Any) -> Any:
        return cached_in(self, ("scales", space.__name__, str(dt)),
                         lambda: space.asarray(self.scales(), dtype=dt))

    # capabilities (molrg.models.Model): what planners ask instead of testing the class
    @property
    def setting(self) -> None:
        """``None``: not the idealised MoLRG (no exact methods)."""

    @property
    def ambient(self) -> bool:
        """True: the model has ``n`` and bases."""
        return True

    @property
    def dae_parameters(self) -> None:
        """``None``: the optimal denoiser is not of Proposition 1's DAE form."""

    def to_mixture(self) -> LowRankMixture:
        """This model (as :meth:`molrg.MoLRG.to_mixture` gives the general form of the
        idealised one): every model answers ``to_mixture()``, so callers need no
        ``isinstance`` to get a :class:`LowRankMixture`."""
        return self

    def replace(self, **changes: Any) -> LowRankMixture:
        """A new model with some of ``bases, delta, weights, means`` changed."""
        params: dict[str, Any] = {"bases": self.bases, "delta": self.delta,
                                  "weights": self.weights, "means": self.means}
        unknown = set(changes) - set(params)
        if unknown:
            raise ParameterError(f"changes has unknown keys {sorted(unknown)}; valid: {sorted(params)}")
        params.update(changes)
        return LowRankMixture(params.pop("bases"), **params)

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        m: int,
        rng: int | np.random.Generator | Random | None = None,
        *,
        xp: str | ModuleType = "numpy",
        dtype: Any = "float64",
        seed: Any = _UNSET,
    ) -> tuple[Any, Any]:
        """Draw ``m`` clean samples of the mixture (the signature of
        :meth:`molrg.MoLRG.sample`: count, ``rng``, keyword-only ``xp`` and ``dtype``).

        Labels ``c_i ~ Categorical(weights)``; then ``x0_i = mu_{c_i} + B (S_{c_i} z_i)`` with
        ``z_i ~ N(0, I_R)`` (the ``U_k a + delta sum_{l != k} U_l e_l`` of the model).

        Parameters
        ----------
        m : number of samples, ``>= 1``.
        rng : int, :class:`numpy.random.Generator`, a :class:`~molrg._backend.Random` or None.
        xp : backend name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``) or namespace.
        dtype : ``"float32"`` or ``"float64"``.
        seed : deprecated keyword name of ``rng`` (``DeprecationWarning``).

        Returns
        -------
        x0 : ``(m, n)`` array of namespace ``xp`` and ``dtype``.
        labels : ``(m,)`` int64 array of classes in ``0..K-1``.
        """
        if seed is not _UNSET:
            warnings.warn("LowRankMixture.sample(seed=...) is deprecated: pass rng=... (the "
                          "name MoLRG.sample and sample_class use)", DeprecationWarning,
                          stacklevel=2)
            rng = seed
        m = check_int("m", m, low=1)
        space = namespace(xp, "xp")
        dt = resolve_dtype(space, dtype)
        gen = rng if isinstance(rng, Random) else Random(rng, space)
        labels = gen.choice(self.weights, m)
        z = gen.standard_normal((m, self.total_rank), dt)
        z = z * space.take(self._scales_in(space, dt), labels, axis=0)
        x0 = z @ space.matrix_transpose(self.basis_in(space, dt))
        if self.has_means:
            x0 = x0 + space.take(self.means_in(space, dt), labels, axis=0)
        return x0, labels

    def sample_class(
        self,
        k: int,
        m: int,
        rng: int | np.random.Generator | Random | None = None,
        *,
        xp: str | ModuleType = "numpy",
        dtype: Any = "float64",
    ) -> Any:
        """Draw ``m`` clean samples of class ``k``: ``x0 = mu_k + B S_k z``, ``z ~ N(0, I_R)``.

        Returns an ``(m, n)`` array of namespace ``xp`` and ``dtype`` (for class-stratified
        simulation).
        """
        k = check_int("k", k, low=0, high=self.K - 1)
        m = check_int("m", m, low=1)
        space = namespace(xp, "xp")
        dt = resolve_dtype(space, dtype)
        gen = rng if isinstance(rng, Random) else Random(rng, space)
        z = gen.standard_normal((m, self.total_rank), dt)
        scale = self._scales_in(space, dt)[k, :]
        x0 = (z * scale[None, :]) @ space.matrix_transpose(self.basis_in(space, dt))
        if self.has_means:
            x0 = x0 + self.means_in(space, dt)[k, :][None, :]
        return x0

    # constructors (the module functions below, as class methods)
    @classmethod
    def two_subspaces(cls, *args: Any, **kwargs: Any) -> LowRankMixture:
        """See :func:`two_subspaces`."""
        return two_subspaces(*args, **kwargs)
    @classmethod
    def unequal_ranks(cls, *args: Any, **kwargs: Any) -> LowRankMixture:
        """See :func:`unequal_ranks`."""
        return unequal_ranks(*args, **kwargs)
    @classmethod
    def from_molrg(cls, *args: Any, **kwargs: Any) -> LowRankMixture:
        """See :func:`from_molrg`."""
        return from_molrg(*args, **kwargs)
    @classmethod
    def separated(cls, *args: Any, **kwargs: Any) -> LowRankMixture:
        """See :func:`separated`."""
        return separated(*args, **kwargs)


def two_subspaces(
    n: int,
    d: int,
    angle_deg: float,
    *,
    delta: float = 0.0,
    weights: Any = None,
    means: Any = None,
    seed: int | np.random.Generator | None = 0,
    count: int | None = None,
) -> LowRankMixture:
    """Two ``d``-dimensional subspaces, ``count`` of whose principal angles equal ``angle_deg``.

    With ``Q = [Q_1, Q_2]`` Haar-random ``(n, 2d)`` orthonormal columns, ``U_1 = Q_1`` and
    column ``i`` of ``U_2`` is ``cos(theta) q_i + sin(theta) q_{d+i}`` for ``i < count`` and
    ``q_{d+i}`` (angle 90) otherwise, ``theta = angle_deg * pi/180``; so ``U_1^T U_2 =
    diag(cos(theta) 1_count, 0)``.  ``angle_deg = 90``: orthogonal (the idealised binary
    MoLRG); ``angle_deg = 0`` with ``count = d``: the same subspace twice.  The paper's
    "principal angle theta" does not say how many angles; ``count = d`` (all, the default)
    and ``count = 1`` bracket the readings.

    Parameters
    ----------
    n, d : ambient dimension and rank, ``1 <= d``, ``2 d <= n``.
    angle_deg : principal angle in DEGREES, in ``[0, 90]`` (the paper's relaxation: 30).
    delta, weights, means : as in :class:`LowRankMixture`.
    seed : seed of ``Q``.
    count : how many principal angles equal ``angle_deg`` (default ``d``: all).
    """
    d = check_int("d", d, low=1)
    n = check_int("n", n, low=2 * d)
    angle = check_real("angle_deg", angle_deg, low=0.0, high=90.0, open_low=False, open_high=False)
    count = d if count is None else check_int("count", count, low=0, high=d)
    theta = np.deg2rad(angle)
    q = haar_basis(n, 2 * d, seed)
    u1 = q[:, :d]
    u2 = q[:, d:].copy()
    u2[:, :count] = np.cos(theta) * q[:, :count] + np.sin(theta) * q[:, d:d + count]
    return LowRankMixture([u1, u2], delta=delta, weights=weights, means=means)


def unequal_ranks(
    n: int,
    ranks: Sequence[int],
    delta: float = 0.0,
    *,
    weights: Any = None,
    means: Any = None,
    seed: int | np.random.Generator | None = 0,
) -> LowRankMixture:
    """Mutually orthogonal subspaces of ranks ``ranks`` (e.g. ``(10, 2)``).

    The bases are consecutive column blocks of one Haar-random ``(n, sum(ranks))``
    orthonormal matrix; ``sum(ranks) <= n``.
    """
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence) or len(ranks) < 2:
        raise ParameterError(f"ranks={ranks!r}; valid: a sequence of K >= 2 integers >= 1")
    rs = [check_int(f"ranks[{i}]", r, low=1) for i, r in enumerate(ranks)]
    total = sum(rs)
    n = check_int("n", n, low=total)
    q = haar_basis(n, total, seed)
    cuts = np.cumsum([0, *rs])
    return LowRankMixture([q[:, cuts[k]:cuts[k + 1]] for k in range(len(rs))], delta=delta,
                          weights=weights, means=means)


def from_molrg(
    K: int,
    d: int,
    n: int,
    delta: float,
    basis: Any = None,
    *,
    kind: str = "random",
    seed: int = 0,
) -> LowRankMixture:
    """The idealised MoLRG (``science.md`` Assumption 1) as a :class:`LowRankMixture`.

    ``K`` orthogonal rank-``d`` subspaces, uniform weights, zero means.  ``basis``: an
    ``(n, K d)`` array with orthonormal columns (block ``k`` = columns ``k d:(k+1) d``), e.g.
    ``molrg.MoLRG(...).basis``; default: generated exactly as ``molrg.MoLRG`` does
    (``kind="random"``: :func:`haar_basis` from ``seed``; ``"canonical"``: ``eye(n, K d)``),
    so ``from_molrg(K, d, n, delta, seed=s)`` and ``MoLRG(K, d, n, delta, seed=s)`` share the
    basis.  For a model object ``m``: ``from_molrg(m.K, m.d, m.n, m.delta, m.basis)``.
    """
    K, d, _, delta, _, _, full = ideal_parameters(K, d, n, delta, basis, kind, seed)
    return LowRankMixture(tuple(full[:, k * d:(k + 1) * d] for k in range(K)), delta=delta)


def separated(
    K: int,
    d: int,
    n: int,
    mean_scale: float,
    *,
    delta: float = 0.0,
    weights: Any = None,
    placement: str = "orthogonal",
    seed: int | np.random.Generator | None = 0,
) -> LowRankMixture:
    """Well-separated clusters: orthogonal rank-``d`` subspaces plus class means of norm ``mean_scale``.

    Convention (``placement``):

    * ``"orthogonal"`` (default): ``mu_k = mean_scale * v_k`` with ``v_1..v_K`` orthonormal
      and orthogonal to every subspace (columns ``K d .. K d + K - 1`` of one Haar-random
      ``(n, K d + K)`` matrix whose first ``K d`` columns give the bases); needs
      ``K d + K <= n``.  The means then separate the classes on their own:
      ``||mu_k - mu_l|| = sqrt(2) mean_scale``, independently of ``delta``.
    * ``"subspace"``: ``mu_k = mean_scale * (first column of U_k)``, inside the class's
      own subspace; needs ``K d <= n``.

    ``mean_scale = 0`` gives the idealised MoLRG with these bases.
    """
    K = check_int("K", K, low=2)
    d = check_int("d", d, low=1)
    if placement not in MEAN_PLACEMENTS:
        raise ParameterError(f"placement={placement!r} is not valid; valid: {MEAN_PLACEMENTS}")
    extra = K if placement == "orthogonal" else 0
    n = check_int("n", n, low=K * d + extra)
    scale = check_real("mean_scale", mean_scale, low=0.0, open_low=False)
    q = haar_basis(n, K * d + extra, seed)
    bases = [q[:, k * d:(k + 1) * d] for k in range(K)]
    if placement == "orthogonal":
        means = scale * q[:, K * d:].T
    else:
        means = scale * np.stack([b[:, 0] for b in bases])
    return LowRankMixture(bases, delta=delta, weights=weights, means=means)
