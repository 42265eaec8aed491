"""The memorising ("empirical") optimal denoiser of a finite point set.

For the empirical distribution ``(1/N) sum_i delta_{p_i}`` of ``N`` points and
``x_t = x0 + sigma eps``, the posterior mean is

    ``xhat(x) = sum_i s_i(x) p_i``,  ``s = softmax_i(-||x - p_i||^2 / (2 sigma^2))``.

Because ``-||x - p_i||^2 / 2 = -||x||^2 / 2 + x . p_i - ||p_i||^2 / 2`` and the first term
is the same for every ``i``, the logits are evaluated in GEMM form
``l_i = (x . p_i - h_i) / sigma^2`` with ``h_i = ||p_i||^2 / 2`` precomputed.  The softmax
is streamed over chunks of points with an online log-sum-exp (running max ``M``, running
sum ``S``, running weighted sum ``A``):

    ``M' = max(M, max_i l_i)``, ``S' = S e^{M - M'} + sum_i e^{l_i - M'}``,
    ``A' = A e^{M - M'} + sum_i e^{l_i - M'} p_i``,  ``xhat = A / S``,

and over chunks of samples, so that the working set stays below ``memory_budget``.
Each (sample chunk, point chunk) pair costs two GEMMs, ``X P_c^T`` and ``e^{L} P_c``;
everything else is O(m N) elementwise work, plus O(m n) per point chunk for the rescaling.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import MiB, array_namespace, device_budget, float_dtype_of, to_numpy
from .validation import ParameterError, ParameterTypeError, check_int, check_sigma_scalar

__all__ = ["DEFAULT_CHUNK_POINTS", "DEFAULT_MEMORY_BUDGET", "EmpiricalDenoiser"]

DEFAULT_MEMORY_BUDGET = 128 * MiB
"""Default bound (bytes) on the working set of one call on the host, input, output and
points excluded; on a GPU the default is a sixteenth of the device memory (at least this)."""
DEFAULT_CHUNK_POINTS = 4096
"""Default number of points per chunk (capped so that the budget holds at least 16 samples)."""
MIN_SAMPLE_CHUNK = 16
MIN_CHUNK_POINTS = 64
"""Fewest points per chunk chosen by default (whatever the budget)."""
MIN_MEMORY_BUDGET = 1024
"""Smallest accepted ``memory_budget`` (bytes); tiny budgets exist to test the chunking."""
MAX_POINTS = 10**7
"""Most memorised points accepted (a call costs ``N n`` operations per sample, and the
points themselves ``8 N n`` bytes); more are refused before any work."""


class EmpiricalDenoiser:
    """Exact optimal denoiser of the empirical distribution of ``points``.

    Parameters
    ----------
    points : ``(N, n)`` float32/float64 array of any array-API namespace, ``N >= 1``.  Not
        copied when a call uses its own namespace and dtype (do not mutate it afterwards);
        a call in another namespace or dtype makes one converted copy, cached.
    memory_budget : bytes for the working set of one call.  Default (``None``): 128 MiB on
        the host, a sixteenth of the device's total memory on a CuPy device (at least
        128 MiB; ~8.7 GB on an H200), so that GPU calls run in few, large chunks.  The
        intermediates of one (sample chunk ``mb``, point chunk ``nb``) step are two
        ``(mb, nb)`` logit/exponential blocks and four ``(mb, n)`` blocks (scaled input,
        running sum, chunk product, rescaled sum), so ``mb`` is chosen as
        ``budget // (itemsize (2 nb + 4 n + 8))``.  Not counted: ``x``, the ``(m, n)``
        output, ``points`` (and any converted copy), the cached ``(N,)`` half squared
        norms and their ``(N,)`` per-call scaled copy.
    chunk_points : points per chunk ``nb`` (default ``min(N, 4096)``, reduced if the budget
        would otherwise leave fewer than 16 samples per chunk, but never below
        ``min(N, MIN_CHUNK_POINTS)``: a one-point chunk makes every call a loop over points).
    basis : optional ``(n, r)`` orthonormal columns whose span contains every point (e.g. a
        model's stacked basis).  Then ``||x - p_i||^2 = ||Q^T x - Q^T p_i||^2 + ||(I - Q Q^T)
        x||^2`` and the last term is the same for every ``i``: the denoiser runs on the
        coordinates ``Q^T x`` and returns ``Q`` times the result -- exact, and ``n / r`` times
        cheaper.  Points outside the span raise ``ParameterError``.

    Notes
    -----
    ``denoiser(x, sigma)`` returns ``sum_i softmax_i(-||x - p_i||^2 / (2 sigma^2)) p_i`` for
    ``x`` of shape ``(..., n)`` (module docstring for the streaming).  Limits: as
    ``sigma -> 0`` the nearest point, as ``sigma -> inf`` the mean of the points.  The
    GEMM form drops ``||x||^2`` exactly, but rounds the logits with absolute error about
    ``eps ||x|| ||p|| / sigma^2``; at tiny ``sigma`` two points almost equidistant from
    ``x`` (relative gap below ``eps ||x|| ||p|| / dist^2``) may be resolved wrongly,
    which matters in float32 only.
    """

    def __init__(self, points: Any, *, memory_budget: int | None = None,
                 chunk_points: int | None = None, basis: Any = None) -> None:
        try:
            xp = array_namespace(points)
        except TypeError:
            raise ParameterError(f"points is a {type(points).__name__}; valid: an (N, n) array") from None
        if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] < 1:
            raise ParameterError(f"points has shape {tuple(points.shape)}; valid: (N, n) with N, n >= 1")
        if points.shape[0] > MAX_POINTS:
            raise ParameterError(
                f"points has N={int(points.shape[0])} rows; valid: N <= {MAX_POINTS:.0e} (every "
                "call costs N*n per sample: a larger memorised set would run for days)")
        self._dtype = float_dtype_of(xp, points, "points")
        self._xp = xp
        self._points = points
        self.N, self.n = int(points.shape[0]), int(points.shape[1])
        self.memory_budget = (None if memory_budget is None else
                              check_int("memory_budget", memory_budget, low=MIN_MEMORY_BUDGET))
        host_budget = DEFAULT_MEMORY_BUDGET if self.memory_budget is None else self.memory_budget
        if chunk_points is None:
            chunk_points = DEFAULT_CHUNK_POINTS
        nb = min(check_int("chunk_points", chunk_points, low=1), self.N)
        # keep at least MIN_SAMPLE_CHUNK samples per chunk inside the budget (float64 sizing)
        fit = (host_budget // (8 * MIN_SAMPLE_CHUNK) - 4 * self.n - 8) // 2
        floor = nb if chunk_points != DEFAULT_CHUNK_POINTS else min(nb, MIN_CHUNK_POINTS)
        self.chunk_points = max(1, floor, min(nb, fit))
        self._cache: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._basis_cache: dict[tuple[str, str], Any] = {}
        self._inner: EmpiricalDenoiser | None = None
        self._basis: np.ndarray | None = None
        if basis is not None:
            self._basis = _span_basis(basis, to_numpy(points), self.n)
            coords = xp.asarray(to_numpy(points) @ self._basis, dtype=getattr(xp, self._dtype))
            self._inner = EmpiricalDenoiser(coords, memory_budget=memory_budget,
                                            chunk_points=chunk_points)
            return
        # Validates the points (finite, ||p||^2 representable) chunk by chunk: no (N, n) temporary.
        self._prepared(xp, self._dtype)

    def __repr__(self) -> str:
        return (f"EmpiricalDenoiser(N={self.N}, n={self.n}, dtype={self._dtype}, "
                f"memory_budget={self.memory_budget}, chunk_points={self.chunk_points})")

    @property
    def points(self) -> Any:
        """The ``(N, n)`` points as given."""
        return self._points

    def _prepared(self, xp: ModuleType, dtype_name: str) -> tuple[Any, Any]:
        """Points in ``(xp, dtype)`` and their half squared norms ``h_i = ||p_i||^2 / 2``."""
        key = (xp.__name__, dtype_name)
        if key not in self._cache:
            dt = getattr(xp, dtype_name)
            if xp is self._xp and dtype_name == self._dtype:
                pts = self._points
            elif xp is self._xp:
                pts = xp.astype(self._points, dt)
            else:
                pts = xp.asarray(to_numpy(self._points), dtype=dt)
            step = self.chunk_points
            limit = math.sqrt(float(np.finfo(dtype_name).max) / (4.0 * self.n))
            halves = []
            for j in range(0, self.N, step):
                pc = pts[j:min(j + step, self.N), :]
                biggest = float(xp.max(xp.abs(pc)))
                if not biggest <= limit:  # also catches NaN
                    raise ParameterError(f"points has non-finite entries or entries too large for "
                                     f"{dtype_name} (max|p| = {biggest:.3g}); valid: finite, "
                                     f"max|p| <= {limit:.3g} so that ||p||^2 does not overflow")
                halves.append(0.5 * xp.sum(pc * pc, axis=1))
            half = halves[0] if len(halves) == 1 else xp.concat(halves)
            self._cache[key] = (pts, half)
        return self._cache[key]

    def _basis_in(self, xp: ModuleType, dtype_name: str) -> Any:
        """The ``(n, r)`` basis in ``(xp, dtype)``, converted once (on a GPU: uploaded once,
        not at every call)."""
        key = (xp.__name__, dtype_name)
        if key not in self._basis_cache:
            self._basis_cache[key] = xp.asarray(self._basis, dtype=getattr(xp, dtype_name))
        return self._basis_cache[key]

    def budget(self, xp: ModuleType | None = None) -> int:
        """The working-set budget in bytes for calls in namespace ``xp`` (default: the
        points' namespace): ``memory_budget`` if given, else the host or device default."""
        if self.memory_budget is not None:
            return self.memory_budget
        return device_budget(self._xp if xp is None else xp, DEFAULT_MEMORY_BUDGET)

    def sample_chunk(self, dtype_name: str, xp: ModuleType | None = None) -> int:
        """Samples per chunk ``mb`` for the memory budget in namespace ``xp`` (default: the
        points' namespace; see the class docstring)."""
        itemsize = 4 if dtype_name == "float32" else 8
        per_row = itemsize * (2 * self.chunk_points + 4 * self.n + 8)
        return max(1, self.budget(xp) // per_row)

    def __call__(self, x: Any, sigma: float) -> Any:
        """``xhat = sum_i softmax_i(-||x - p_i||^2 / (2 sigma^2)) p_i``.

        Parameters
        ----------
        x : ``(..., n)`` float32/float64 array of any array-API namespace.
        sigma : scalar noise level ``> 0``.

        Returns
        -------
        ``(..., n)`` array of the namespace and dtype of ``x``.
        """
        xp = array_namespace(x)
        dtype_name = float_dtype_of(xp, x)
        if x.ndim < 1 or x.shape[-1] != self.n:
            raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (..., n) with n={self.n}")
        if self._inner is not None and self._basis is not None:
            q = self._basis_in(xp, dtype_name)
            return self._inner(x @ q, sigma) @ xp.matrix_transpose(q)
        s = check_sigma_scalar(sigma)
        inv_s2 = 1.0 / (s * s)
        if not math.isfinite(inv_s2) or inv_s2 > float(np.finfo(dtype_name).max) * 1e-12:
            raise ParameterError(f"sigma={sigma!r} is out of range for {dtype_name}; valid: 1/sigma^2 "
                             f"well inside the {dtype_name} range")
        pts, half = self._prepared(xp, dtype_name)
        lead = tuple(x.shape[:-1])
        m = math.prod(lead)
        if m == 0:
            return xp.zeros((*lead, self.n), dtype=x.dtype)
        x2 = xp.reshape(x, (m, self.n))
        half_s = half * inv_s2  # (N,)
        mb = self.sample_chunk(dtype_name, xp)
        if mb >= m:
            xhat = self._block(x2, pts, half_s, inv_s2, xp)
        else:
            xhat = xp.empty((m, self.n), dtype=x.dtype)
            for i in range(0, m, mb):
                j = min(i + mb, m)  # array_api_strict rejects out-of-bounds slice stops
                xhat[i:j, :] = self._block(x2[i:j, :], pts, half_s, inv_s2, xp)
        return xp.reshape(xhat, (*lead, self.n))

    def _block(self, xc: Any, pts: Any, half_s: Any, inv_s2: float, xp: ModuleType) -> Any:
        """Streaming softmax over point chunks for one ``(mb, n)`` sample chunk."""
        xs = xc * inv_s2  # logits = xs @ p^T - h / sigma^2
        run_max: Any = None
        run_sum: Any = None
        acc: Any = None
        step = self.chunk_points
        for j in range(0, self.N, step):
            stop = min(j + step, self.N)  # array_api_strict rejects out-of-bounds stops
            pc = pts[j:stop, :]
            logits = xs @ xp.matrix_transpose(pc)
            logits -= half_s[None, j:stop]
            cmax = xp.max(logits, axis=1)
            new_max = cmax if run_max is None else xp.maximum(run_max, cmax)
            logits -= new_max[:, None]
            e = xp.exp(logits)
            del logits
            csum = xp.sum(e, axis=1)
            contrib = e @ pc
            del e
            if run_max is None:
                run_sum, acc = csum, contrib
            else:
                scale = xp.exp(run_max - new_max)
                run_sum = run_sum * scale + csum
                acc *= scale[:, None]
                acc += contrib
            run_max = new_max
        return acc / run_sum[:, None]


def _span_basis(basis: Any, points: np.ndarray, n: int) -> np.ndarray:
    """``basis`` as host float64 orthonormal ``(n, r)`` columns spanning every point."""
    try:
        raw = np.asarray(to_numpy(basis) if hasattr(basis, "__array_namespace__") else basis)
    except (TypeError, ValueError):
        raise ParameterTypeError("basis must be an (n, r) array of real numbers") from None
    if raw.dtype.kind not in "iuf":
        raise ParameterTypeError(f"basis has dtype {raw.dtype}; valid: real numbers")
    q = raw.astype(np.float64)
    if q.ndim != 2 or q.shape[0] != n or not 1 <= q.shape[1] <= n:
        raise ParameterError(f"basis has shape {q.shape}; valid: (n, r) with n={n}, 1 <= r <= n")
    if not np.all(np.isfinite(q)):
        raise ParameterError("basis has non-finite entries; valid: finite orthonormal columns")
    err = float(np.max(np.abs(q.T @ q - np.eye(q.shape[1]))))
    if err > 1e-8:
        raise ParameterError(f"basis is not orthonormal: max|Q^T Q - I| = {err:.3g}; "
                             "valid: <= 1e-08")
    pts = np.asarray(points, dtype=np.float64)
    resid = float(np.max(np.abs(pts - (pts @ q) @ q.T)))
    scale = max(float(np.max(np.abs(pts))), 1.0)
    if resid > 1e-10 * scale * np.sqrt(n):
        raise ParameterError(f"points are not in span(basis) (residual {resid:.3g}); valid: "
                             "points whose components outside the basis vanish")
    return q
