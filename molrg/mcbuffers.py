"""Work buffers of the Monte Carlo simulators (NumPy): the same floating-point operations
as the generic array-API path, in the same order, written into preallocated arrays
(bit-identical results, tests/test_buffers.py)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["AmbientBuffers", "ReducedBuffers", "reuses_buffers"]


def reuses_buffers(xp: ModuleType) -> bool:
    """Whether the simulators write into preallocated work buffers (``out=``) for ``xp``.

    NumPy only: ``out=`` is not in the array-API standard (``array_api_strict`` has none),
    and CuPy's memory pool already reuses device memory, so the generic path, which
    allocates fresh temporaries, costs nothing there.  Both paths perform the same
    floating-point operations in the same order: results are bit-identical
    (tests/test_buffers.py).
    """
    return xp is np


class ReducedBuffers:
    """Work buffers of the reduced simulator's kernel, ``(S_chunk, K, sub)`` and
    ``(S_chunk, 1, sub)``, reused for every batch, part and sigma chunk (NumPy).

    :meth:`energies` computes exactly what the generic path does -- ``r = chi scale``,
    ``beta = xi + (zeta - xi) softmax(kappa r)`` along the class axis, ``energy =
    beta^2 r`` -- operation for operation, in place.
    """

    def __init__(self, s_chunk: int, K: int, sub: int, dt: Any) -> None:
        self.r = np.empty((s_chunk, K, sub), dtype=dt)
        self.t = np.empty((s_chunk, K, sub), dtype=dt)
        self.row = np.empty((s_chunk, 1, sub), dtype=dt)
        self.den = np.empty((s_chunk, 1, sub), dtype=dt)

    def energies(self, c: np.ndarray, scale: np.ndarray, xi: np.ndarray, zmx: np.ndarray,
                 kap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(num, den)`` of shape ``(S_c, 1, m)``: views of the buffers, valid until the
        next call."""
        s, m = scale.shape[0], c.shape[-1]
        r, t = self.r[:s, :, :m], self.t[:s, :, :m]
        row, den = self.row[:s, :, :m], self.den[:s, :, :m]
        np.multiply(c, scale, out=r)  # r = chi * scale
        np.multiply(kap, r, out=t)  # logits kappa r
        np.max(t, axis=1, keepdims=True, out=row)  # softmax, max-shifted (kernel.py)
        np.subtract(t, row, out=t)
        np.exp(t, out=t)
        np.sum(t, axis=1, keepdims=True, out=row)
        np.divide(t, row, out=t)  # w
        np.multiply(zmx, t, out=t)
        np.add(xi, t, out=t)  # beta = xi + (zeta - xi) w
        np.multiply(t, t, out=t)
        np.multiply(t, r, out=t)  # energy = beta^2 r
        np.sum(t[:, 1:, :], axis=1, keepdims=True, out=den)
        return t[:, :1, :], den


class AmbientBuffers:
    """Work buffers of the ambient simulator for the optimal denoiser (NumPy), reused for
    every batch and sigma chunk: flat arrays viewed at each call's exact shapes.

    :meth:`energies` computes what the generic path does, operation for operation:
    ``y = y0 + sigma eps_V``, the block energies ``r``, ``beta = xi + (zeta - xi)
    softmax(kappa r)``, ``energy = beta^2 r`` and its own / other sums per class.
    """

    def __init__(self, s_chunk: int, rows: int, width: int, K: int, dt: Any) -> None:
        self.y = np.empty(s_chunk * rows * width, dtype=dt)
        self.r = np.empty(s_chunk * rows * K, dtype=dt)
        self.t = np.empty(s_chunk * rows * K, dtype=dt)
        self.u = np.empty(s_chunk * rows * K, dtype=dt)
        self.row = np.empty(s_chunk * rows, dtype=dt)
        self.num = np.empty(s_chunk * rows, dtype=dt)
        self.den = np.empty(s_chunk * rows, dtype=dt)

    @staticmethod
    def _view(buf: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return buf[:int(np.prod(shape))].reshape(shape)

    def energies(self, y0: np.ndarray, eps_v: np.ndarray | None, s: np.ndarray,
                 xi: np.ndarray, zmx: np.ndarray, kap: np.ndarray, own: np.ndarray,
                 others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(num, den)`` of shape ``(S_c, K, m)``: views of the buffers, valid until the
        next call.  ``y0``, ``eps_v``: ``(K m, K d)``; ``s``: ``(S_c,)``."""
        rows, width = y0.shape
        K = own.shape[0]
        m = rows // K
        sc = xi.shape[0]
        d = width // K
        if eps_v is None:  # clean input: one y for the whole chunk
            lead = 1
            blocks = np.reshape(y0, (1, rows, K, d))
            sq = self._view(self.y, (1, rows, K, d))
            np.multiply(blocks, blocks, out=sq)
        else:
            lead = sc
            y = self._view(self.y, (sc, rows, width))
            np.multiply(np.reshape(s, (-1, 1, 1)), eps_v[None, ...], out=y)
            np.add(y0[None, ...], y, out=y)  # y = y0 + sigma eps_V
            sq = np.reshape(y, (sc, rows, K, d))
            np.multiply(sq, sq, out=sq)  # y is not needed after its block energies
        r = self._view(self.r, (lead, rows, K))
        np.sum(sq, axis=-1, out=r)  # block energies
        t = self._view(self.t, (sc, rows, K))
        row = self._view(self.row, (sc, rows, 1))
        np.multiply(kap, r, out=t)  # logits kappa r
        np.max(t, axis=-1, keepdims=True, out=row)  # softmax, max-shifted (kernel.py)
        np.subtract(t, row, out=t)
        np.exp(t, out=t)
        np.sum(t, axis=-1, keepdims=True, out=row)
        np.divide(t, row, out=t)  # w
        np.multiply(zmx, t, out=t)
        np.add(xi, t, out=t)  # beta = xi + (zeta - xi) w
        np.multiply(t, t, out=t)
        np.multiply(t, r, out=t)  # energy = beta^2 r
        energy = np.reshape(t, (sc, K, m, K))
        u = self._view(self.u, (sc, K, m, K))
        num = self._view(self.num, (sc, K, m))
        den = self._view(self.den, (sc, K, m))
        np.multiply(energy, own, out=u)
        np.sum(u, axis=-1, out=num)
        np.multiply(energy, others, out=u)
        np.sum(u, axis=-1, out=den)
        return num, den
