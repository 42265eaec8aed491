"""Principal angles between a learned basis and a model's true class subspaces (NumPy/SciPy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..validation import ParameterError

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
    from scipy.linalg import subspace_angles

    return float(np.degrees(np.max(subspace_angles(a, b))))


def subspace_recovery(basis: Any, true_bases: Any) -> SubspaceRecovery:
    """Principal angles between learned blocks and true subspaces (:class:`SubspaceRecovery`).

    Parameters
    ----------
    basis : ``(n, K d)`` learned basis, block ``j`` = columns ``j d : (j+1) d``.
    true_bases : sequence of ``K`` arrays ``(n, d_k)`` (e.g. ``model.bases``), or a model
        with ``bases``.

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
    from scipy.optimize import linear_sum_assignment

    truth = [np.asarray(b, dtype=np.float64) for b in getattr(true_bases, "bases", true_bases)]
    V = np.asarray(basis, dtype=np.float64)
    K = len(truth)
    if V.ndim != 2 or V.shape[1] % K or any(t.shape[0] != V.shape[0] for t in truth):
        raise ParameterError(f"basis has shape {V.shape}; valid: (n, K*d) with K={K} and the "
                             "true bases' n")
    d = V.shape[1] // K
    cost = np.array([[_largest_angle(V[:, j * d:(j + 1) * d], t) for t in truth] for j in range(K)])
    rows, cols = linear_sum_assignment(cost)
    angles = cost[rows, cols]
    return SubspaceRecovery(angles, cols, _largest_angle(V, np.concatenate(truth, axis=1)))
