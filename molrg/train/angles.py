"""Principal angles between a learned basis and a model's true class subspaces (NumPy/SciPy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import subspace_angles
from scipy.optimize import linear_sum_assignment

from ..validation import ParameterError, ParameterTypeError

__all__ = ["SubspaceRecovery", "subspace_recovery"]


@dataclass(frozen=True)
class SubspaceRecovery:
    """How well a learned ``(n, K d)`` basis recovers ``K`` true class subspaces.

    Attributes
    ----------
    block_angles : ``(K,)`` largest principal angle (degrees) between learned block ``j`` and
        the true subspace it is matched to (blocks are matched by the assignment minimising
        the sum of these angles: the DAE is invariant to permuting blocks and to rotations
        within a block).
    assignment : ``(K,)`` the true class matched to each learned block.
    span_angle : largest principal angle (degrees) between the whole learned span and the
        span of all true bases.
    largest : ``max(block_angles)``.
    """

    block_angles: np.ndarray
    assignment: np.ndarray
    span_angle: float

    @property
    def largest(self) -> float:
        return float(np.max(self.block_angles))

    def to_json(self) -> dict[str, Any]:
        return {"block_angles_deg": self.block_angles.tolist(),
                "assignment": self.assignment.tolist(), "span_angle_deg": self.span_angle,
                "largest_deg": self.largest}


def _largest_angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.max(subspace_angles(a, b))))


def subspace_recovery(basis: Any, model: Any) -> SubspaceRecovery:
    """Principal angles between learned blocks and true subspaces (:class:`SubspaceRecovery`).

    Parameters
    ----------
    basis : ``(n, K d)`` learned basis, block ``j`` = columns ``j d : (j+1) d``.
    model : a :class:`~molrg.MoLRG` or :class:`~molrg.LowRankMixture` (its ``bases``), or a
        sequence of ``K >= 1`` arrays ``(n, d_k)``.

    Examples
    --------
    Learned blocks that span the true subspaces in another order are recovered exactly:

    >>> import numpy as np
    >>> import molrg
    >>> e = np.eye(4)
    >>> r = molrg.subspace_recovery(e[:, [1, 0]], [e[:, :1], e[:, 1:2]])
    >>> r.assignment.tolist(), r.block_angles.tolist(), float(r.span_angle)
    ([1, 0], [0.0, 0.0], 0.0)
    """
    raw = getattr(model, "bases", model)
    try:
        if any(np.iscomplexobj(b) for b in raw):
            raise TypeError
        truth = [np.asarray(b, dtype=np.float64) for b in raw]
    except (TypeError, ValueError):
        raise ParameterTypeError("model must be a molrg.MoLRG, a molrg.LowRankMixture or a "
                                 "sequence of (n, d_k) bases") from None
    if not truth or any(t.ndim != 2 or t.shape[1] < 1 or not np.all(np.isfinite(t))
                        for t in truth):
        raise ParameterError("model has no bases, or bases that are not finite (n, d_k) "
                             "arrays; valid: a model or a sequence of (n, d_k) bases")
    try:
        if np.iscomplexobj(basis):
            raise TypeError
        V = np.asarray(basis, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterTypeError("basis must be an (n, K*d) array of real numbers") from None
    K = len(truth)
    if V.ndim != 2 or V.shape[1] == 0 or V.shape[1] % K or not np.all(np.isfinite(V)) \
            or any(t.shape[0] != V.shape[0] for t in truth):
        raise ParameterError(f"basis has shape {V.shape}; valid: finite (n, K*d) with K={K} "
                             f"and the model's n")
    d = V.shape[1] // K
    cost = np.array([[_largest_angle(V[:, j * d:(j + 1) * d], t) for t in truth] for j in range(K)])
    rows, cols = linear_sum_assignment(cost)
    angles = cost[rows, cols]
    return SubspaceRecovery(angles, cols, _largest_angle(V, np.concatenate(truth, axis=1)))
