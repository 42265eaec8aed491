"""Orthonormal bases: the one Haar sampler, the one orthonormality check and tolerance, and
the validation of the idealised MoLRG's parameters (shared by :class:`molrg.MoLRG` and
:func:`molrg.mixtures.from_molrg`, so the two cannot drift apart)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import to_numpy
from .validation import ParameterError, ParameterTypeError, check_choice, check_delta, check_int

__all__ = [
    "BASIS_KINDS",
    "MAX_BASIS_ENTRIES",
    "ORTHONORMAL_TOL",
    "DAEParameters",
    "check_basis",
    "check_orthonormal",
    "haar_basis",
    "ideal_parameters",
]

BASIS_KINDS = ("random", "canonical")
ORTHONORMAL_TOL = 1e-8
"""Largest ``max|U^T U - I|`` accepted for a basis (the whole MoLRG basis, or one class
basis of a mixture)."""
MAX_BASIS_ENTRIES = 2**27
"""Largest basis accepted, ``n K d`` entries (1 GiB in float64): a larger one is refused
before it is allocated."""


@dataclass(frozen=True, eq=False)
class DAEParameters:
    """The parameters of a DAE ``xhat = U D(x) U^T x`` (Proposition 1's form): the
    orthonormal ``(n, K d)`` ``basis`` (block ``l`` = columns ``l d : (l+1) d``), ``K``
    and the ``delta`` used in its coefficients.

    A capability, not a model: a model whose optimal denoiser has this form (the idealised
    :class:`~molrg.MoLRG`) and a denoiser of this form (:class:`~molrg.DAE`) answer
    ``dae_parameters`` with one; the fast ambient simulator runs any pair that does."""

    basis: np.ndarray
    K: int
    delta: float

    @property
    def rank(self) -> int:
        """``K d``, the number of columns of :attr:`basis`."""
        return int(self.basis.shape[1])


def check_orthonormal(name: str, arr: np.ndarray) -> None:
    """Raise unless ``max|arr^T arr - I| <= ORTHONORMAL_TOL`` (``arr``: finite float64)."""
    err = float(np.max(np.abs(arr.T @ arr - np.eye(arr.shape[1]))))
    if err > ORTHONORMAL_TOL:
        raise ParameterError(f"{name} is not orthonormal: max|U^T U - I| = {err:.3g}; "
                             f"valid: <= {ORTHONORMAL_TOL:g}")


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


def check_basis(basis: Any, n: int, r: int) -> np.ndarray:
    """``basis`` as a finite, orthonormal float64 ``(n, r)`` host array (or an error
    naming it)."""
    try:
        raw = to_numpy(basis)
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
    check_orthonormal("basis", arr)
    return arr


def ideal_parameters(K: Any, d: Any, n: Any, delta: Any, basis: Any, kind: Any, seed: Any
                     ) -> tuple[int, int, int, float, str, int, np.ndarray]:
    """Validated ``(K, d, n, delta, kind, seed, basis)`` of the idealised MoLRG; the basis
    is read-only float64 ``(n, K d)``: ``basis`` checked, or made from ``kind`` and
    ``seed`` (``"random"``: :func:`haar_basis`; ``"canonical"``: ``eye(n, K d)``)."""
    K = check_int("K", K, low=2)
    d = check_int("d", d, low=1)
    n = check_int("n", n, low=1)
    if K * d > n:
        raise ParameterError(f"K*d={K * d} exceeds n={n}; valid: K*d <= n")
    if n * K * d > MAX_BASIS_ENTRIES:
        raise ParameterError(f"n={n} with K*d={K * d} needs an n x K*d basis of more "
                             f"than {MAX_BASIS_ENTRIES} entries (1 GiB); valid: n*K*d <= "
                             f"{MAX_BASIS_ENTRIES}")
    delta = check_delta(delta)
    kind = check_choice("kind", kind, BASIS_KINDS)
    seed = check_int("seed", seed, low=0)
    if basis is None:
        arr = np.eye(n, K * d) if kind == "canonical" else haar_basis(n, K * d, seed)
    else:
        arr = check_basis(basis, n, K * d)
    arr.setflags(write=False)
    return K, d, n, delta, kind, seed, arr
