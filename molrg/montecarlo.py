"""Monte Carlo simulators of the SNR (unchecked kernels behind :func:`molrg.snr`).

For a sample of true class ``k`` and denoiser output ``xhat``:

* numerator ``N = ||U_k U_k^T xhat||^2``;
* denominator ``D``: ``"others"`` ``sum_{l != k} ||U_l U_l^T xhat||^2`` or ``"complement"``
  ``||(I - U_k U_k^T) xhat||^2``.

Every difference of large numbers is avoided: ``others`` is a masked sum over the other
blocks (never ``total - own``), and ``complement`` adds the squared norm of the part of
``xhat`` outside ``span(U)`` computed from a factor of its Gram matrix (never
``||xhat||^2 - ||U_k^T xhat||^2``).  Both matter in float32 when the SNR is large.

Simulators
----------
``reduced``
    Optimal denoiser of the idealised MoLRG: the SNR depends on ``x`` only through the
    ``K`` block energies, independent scaled chi-squares (``docs/math.md`` section 3).
``ambient``
    The full simulation in ``R^n``, stratified by class.  For the idealised MoLRG with the
    optimal denoiser or a DAE the denoiser runs in the ``K d`` coordinates of its basis
    (one ``n x K d`` projection of the noise per batch serves the whole sigma grid).  For a
    :class:`~molrg.LowRankMixture` with its optimal denoiser the same holds in an
    orthonormal basis of the span of its bases and means.  Any other denoiser is called
    on ``x_t`` in ``R^n``, once per noise level.

Batches.  Draws follow a fixed rule (so a seed gives the same numbers as before the
vectorisation): the reduced simulator draws ``memory / (64 K)`` samples per batch, the
ambient one ``memory / (itemsize (n + 8 K d))`` rows (at least ``MIN_ROWS``, with the
noise drawn in column blocks when a full row block would exceed the budget, so the cost
stays linear in ``n``).  Each batch is then evaluated for all noise levels at once, in
chunks of sigma (and samples) sized so that everything alive stays within ``memory``.
Statistics (sums, co-moments) stay on the device in float64 until the end of the call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend, kernel
from . import _generated as gen
from .models import MoLRG, latent

__all__ = ["MIN_ROWS", "Moments", "simulate_ambient_molrg", "simulate_reduced"]

MIN_ROWS = 512
"""Fewest rows of an ambient noise block (keeps the ``n x K d`` GEMM efficient)."""
MAX_DRAW = 2**30
"""Most random numbers drawn by one generator call.  Only a GPU-sized budget (a sixteenth
of the device memory, :func:`molrg._backend.memory_budget`) reaches it; it keeps
every draw well inside 32-bit element indexing (CuPy's distribution kernels index their
output with a 32-bit ``int`` in the sources we read) and each draw a few GiB at most."""

Progress = Callable[[int, int], None] | None

GROUPS: ContextVar[int] = ContextVar("molrg_moment_groups", default=0)
"""Opt-in replicate groups for :class:`Moments` (0: none); set by ``molrg.snr(...,
replicates=R)`` around one simulation."""


# ---------------------------------------------------------------------------------------
# Running statistics, on the device, float64
# ---------------------------------------------------------------------------------------
class Moments:
    """Mergeable means and co-moments of ``(N, D)`` or of ``N/D`` per (sigma, class).

    Arrays are ``(S, C)`` in the namespace of the simulation, float64; merged across
    batches with Chan et al.'s pairwise update.
    """

    def __init__(self, xp: ModuleType, ratios: bool) -> None:
        self.xp = xp
        self.ratios = ratios
        self.count = 0
        self.mean: list[Any] = []
        self.m2: list[Any] = []
        self.peak: list[Any] = []  # largest term of each averaged quantity (tail diagnostic)
        # opt-in (GROUPS, set by molrg.snr(..., replicates=R)): per-group sums, the
        # i-th sample of the stream in group i mod R
        self.groups = GROUPS.get()
        self.group_sums: list[Any] = []
        self.group_counts: Any = None

    def add(self, num: Any, den: Any) -> None:
        """Merge a batch: ``num``, ``den`` of shape ``(S, C, m)`` (any float dtype)."""
        xp = self.xp
        n = xp.astype(num, xp.float64)
        dd = xp.astype(den, xp.float64)
        arrays = [n / dd] if self.ratios else [n, dd]
        m = num.shape[-1]
        if self.groups:
            idx = (xp.arange(m) + self.count) % self.groups
            onehot = xp.astype(idx[:, None] == xp.arange(self.groups)[None, :], xp.float64)
            sums = [a @ onehot for a in arrays]  # (S, C, R)
            counts = xp.sum(onehot, axis=0)
            if self.group_counts is None:
                self.group_sums, self.group_counts = sums, counts
            else:
                self.group_sums = [a + b for a, b in zip(self.group_sums, sums, strict=True)]
                self.group_counts = self.group_counts + counts
        means = [xp.mean(a, axis=-1) for a in arrays]
        centred = [a - mu[..., None] for a, mu in zip(arrays, means, strict=True)]
        pairs = ((0, 0),) if self.ratios else ((0, 0), (1, 1), (0, 1))
        m2 = [xp.sum(centred[i] * centred[j], axis=-1) for i, j in pairs]
        peak = [xp.max(xp.abs(a), axis=-1) for a in arrays]
        if self.count == 0:
            self.count, self.mean, self.m2, self.peak = m, means, m2, peak
            return
        self.peak = [xp.maximum(a, b) for a, b in zip(self.peak, peak, strict=True)]
        total = self.count + m
        diff = [b - a for a, b in zip(self.mean, means, strict=True)]
        f = self.count * m / total
        cross = [diff[i] * diff[j] for i, j in pairs]
        self.m2 = [a + b + f * c for a, b, c in zip(self.m2, m2, cross, strict=True)]
        self.mean = [a + d * (m / total) for a, d in zip(self.mean, diff, strict=True)]
        self.count = total

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-(sigma, class) estimates and their standard errors, as NumPy ``(S, C)`` arrays.

        Ratio of means ``R = mean_N / mean_D``: the delta-method error
        ``|R| sqrt((c_NN / mean_N^2 - 2 c_ND / (mean_N mean_D) + c_DD / mean_D^2) / m)``,
        formed from relative (co)variances so that nothing overflows for any finite
        ``R``; mean of ratios: the sample mean and ``sqrt(var / m)``.  Whether these errors
        can be trusted is :meth:`tail_share`'s question.
        """
        m = self.count
        mean = [_backend.to_numpy(a) for a in self.mean]
        cov = [_backend.to_numpy(a) / (m - 1) for a in self.m2]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.ratios:
                return mean[0], np.sqrt(np.maximum(cov[0], 0.0) / m)
            mn, md = mean
            ratio = mn / md
            rel = (np.where(mn != 0, cov[0] / (mn * mn), 0.0)
                   - 2 * np.where(mn != 0, cov[2] / mn, 0.0) / md + cov[1] / (md * md))
            se = np.abs(ratio) * np.sqrt(np.maximum(rel, 0.0) / m)
            se = np.where((mn == 0) & (md != 0), np.sqrt(np.maximum(cov[0], 0.0) / m) / md, se)
        return ratio, se

    def tail_share(self) -> np.ndarray:
        """Largest share of a sum that one sample carries, or could carry, per (sigma,
        class) (NumPy ``(S, C)``).

        Observed: the largest term's share of the sum of ``N``, of ``D`` (ratio of means)
        or of ``|N/D|`` (mean of ratios); at least ``1/m``.  Ratio of means also takes the
        share of ``D``'s sum that *one unseen* sample would carry if its whole output energy
        fell into the denominator (a misclassified sample: ``D ~ N + D``),
        ``(mean_N + mean_D) / (m mean_D) = (1 + R) / m``.  The rare events that carry the
        denominator's mean when the SNR ``R`` is large (small ``delta``) are often absent
        from the sample altogether (then no observed term is large, yet the estimate is
        many standard errors off: tests/test_coverage.py); this term flags them.  Near or
        above 1: the standard error is not to be trusted.  0 where a sum is 0.
        """
        m = self.count
        mean = [_backend.to_numpy(a) for a in self.mean]
        shares = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for mu, top in zip(mean, self.peak, strict=True):
                total = np.abs(mu) * m
                top = _backend.to_numpy(top)
                shares.append(np.where(total > 0, top / total, np.where(top > 0, 1.0, 0.0)))
            if not self.ratios:
                mn, md = mean
                unseen = np.where(md > 0, (mn / md + 1.0) / m, np.where(mn > 0, 1.0, 0.0))
                shares.append(unseen)
        return np.nan_to_num(np.maximum.reduce(shares), nan=1.0, posinf=1.0)


@dataclass(frozen=True)
class Simulation:
    """What a simulator returns: per-class moments for each sigma chunk, in grid order."""

    chunks: list[Moments]
    samples: int
    batch: int

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-(sigma, class) estimates and standard errors, ``(S, C)``."""
        parts = [c.per_class() for c in self.chunks]
        return (np.concatenate([p[0] for p in parts], axis=0),
                np.concatenate([p[1] for p in parts], axis=0))

    def tail_share(self) -> np.ndarray:
        """:meth:`Moments.tail_share` for the whole grid, ``(S, C)``."""
        return np.concatenate([c.tail_share() for c in self.chunks], axis=0)


def _itemsize(dtype: str) -> int:
    return 4 if dtype == "float32" else 8


def _chunks(total: int, size: int) -> list[slice]:
    size = max(1, size)
    return [slice(i, min(i + size, total)) for i in range(0, total, size)]


def _progress(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


FLOAT32_SIGMA_MAX = 1e15
"""Largest noise level simulated in float32: noisy block energies ``~ sigma^2 n`` overflow
float32 (3.4e38) near ``sigma = 1e18``; measured in tests/test_robustness.py.  Beyond it a
float32 simulation is refused before any work (float64 holds up to ``SIGMA_MAX``)."""


def _check_float32_range(sigma: np.ndarray, dtype: str) -> None:
    if dtype == "float32" and float(np.max(sigma)) > FLOAT32_SIGMA_MAX:
        from .validation import ParameterError

        raise ParameterError(
            f"sigma={float(np.max(sigma)):g} is out of range for dtype='float32' (its energies "
            f"overflow); valid: sigma <= {FLOAT32_SIGMA_MAX:g} in float32, or dtype='float64'")


def _beta_coefficients(xp: ModuleType, sigma: np.ndarray, delta: float, dt: Any) -> Any:
    """Proposition 1's coefficients for the simulators, computed in float64, cast to ``dt``.

    In float32 ``xi`` and ``zeta - xi`` are divided by ``zeta`` (a per-sigma constant, so
    every SNR estimand is unchanged: ``N`` and ``D`` both scale by its square): ``beta``
    then stays in ``[delta^2, 1]`` instead of ``~ 1/sigma^2``, whose square underflows
    float32 for ``sigma > 1e12`` (clean input: every energy became 0 and the SNR NaN).
    """
    c = kernel.coefficients(xp.asarray(sigma, dtype=xp.float64), delta)
    xi, zmx = c.xi, c.zeta_minus_xi
    if dt != xp.float64:
        xi, zmx = xi / c.zeta, zmx / c.zeta
    return kernel.Coefficients(*(xp.astype(v, dt) for v in (c.zeta, xi, zmx, c.kappa)))


# ---------------------------------------------------------------------------------------
# Reduced simulator: K scaled chi-square block energies per sample
# ---------------------------------------------------------------------------------------
def simulate_reduced(K: int, d: int, delta: float, sigma: np.ndarray, *, input: str,
                     ratios: bool, samples: int, gen_: _backend.Random, dtype: str,
                     memory: int, batch: int | None, progress: Progress) -> Simulation:
    """Reduced simulation: block energies ``r_0 ~ v_own chi2_d`` (the true class, row 0)
    and ``r_l ~ v_other chi2_d``; ``N = beta_0^2 r_0``, ``D = sum_{l>=1} beta_l^2 r_l``.

    Classes are exchangeable, so one representative class carries the estimate (``C = 1``).
    ``sigma`` is ``(S,)``; the returned moments are ``(S, 1)``.
    """
    xp = gen_.xp
    dt = getattr(xp, dtype)
    item = _itemsize(dtype)
    draw = batch or max(1, min(memory // (item * 8 * K), MAX_DRAW // K))
    per_pair = K * item * 6 + 48  # working bytes per (sigma, sample) pair
    _check_float32_range(sigma, dtype)
    coef = _beta_coefficients(xp, sigma, delta, dt)
    s64, dl = xp.asarray(sigma, dtype=xp.float64), xp.asarray(delta, dtype=xp.float64)
    v_own = xp.astype(gen.call(f"{input}_variance_own", xp, sigma=s64, delta=dl)
                      + xp.zeros_like(s64), dt)
    v_other = xp.astype(gen.call(f"{input}_variance_other", xp, sigma=s64, delta=dl)
                        + xp.zeros_like(s64), dt)
    true_row = xp.reshape(xp.arange(K) == 0, (1, K, 1))
    scales = xp.where(true_row, xp.reshape(v_own, (-1, 1, 1)), xp.reshape(v_other, (-1, 1, 1)))
    col = (-1, 1, 1)
    xi, zmx, kap = (xp.reshape(c, col) for c in (coef.xi, coef.zeta_minus_xi, coef.kappa))

    S = sigma.size
    # sized by the samples actually drawn (not the budget's batch), so that a GPU-sized
    # budget evaluates many sigma values per kernel instead of looping over them
    sub = min(draw, samples, max(1, (memory // 2) // per_pair))
    s_chunk = max(1, min(S, (memory // 2) // (per_pair * sub)))
    chunks = _chunks(S, s_chunk)
    moments = [Moments(xp, ratios) for _ in chunks]
    # NumPy: one set of work buffers for every batch, part and sigma chunk (fresh
    # temporaries of a few MB each were most of the call's time: page faults)
    work = _ReducedBuffers(min(s_chunk, S), K, min(sub, samples), dt) if _reuses_buffers(xp) \
        else None
    done = 0
    while done < samples:
        m = min(draw, samples - done)
        chi = gen_.chisquare(float(d), (K, m), dt)  # row 0: the true class
        for part in _chunks(m, sub):
            c = chi[None, :, part]
            for acc, sl in zip(moments, chunks, strict=True):
                if work is not None:
                    num, den = work.energies(c, scales[sl, ...], xi[sl, ...], zmx[sl, ...],
                                             kap[sl, ...])
                else:
                    r = c * scales[sl, ...]
                    beta = kernel.block_betas(r, xi[sl, ...], zmx[sl, ...], kap[sl, ...], axis=1)
                    energy = beta * beta * r
                    num = energy[:, :1, :]
                    den = xp.sum(energy[:, 1:, :], axis=1, keepdims=True)
                acc.add(num, den)
        done += m
        _progress(progress, done, samples)
    return Simulation(moments, samples, draw)


def _reuses_buffers(xp: ModuleType) -> bool:
    """Whether the simulators write into preallocated work buffers (``out=``) for ``xp``.

    NumPy only: ``out=`` is not in the array-API standard (``array_api_strict`` has none),
    and CuPy's memory pool already reuses device memory, so the generic path, which
    allocates fresh temporaries, costs nothing there.  Both paths perform the same
    floating-point operations in the same order: results are bit-identical
    (tests/test_buffers.py).
    """
    return xp is np


class _ReducedBuffers:
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


# ---------------------------------------------------------------------------------------
# Ambient simulator for the idealised MoLRG: the optimal denoiser or a DAE, in coordinates
# ---------------------------------------------------------------------------------------
def simulate_ambient_molrg(model: MoLRG, sigma: np.ndarray, *, dae_basis: np.ndarray | None,
                           dae_delta: float, input: str, ratios: bool, complement: bool,
                           samples: int, gen_: _backend.Random, dtype: str, memory: int,
                           batch: int | None, progress: Progress) -> Simulation:
    """Full simulation in ``R^n`` for the DAE ``V D V^T x`` (``V = U`` when ``dae_basis`` is
    None: the optimal denoiser), stratified by class (``samples // K`` per class).

    ``x0 = U z`` with ``z`` the latent of :func:`molrg.models.latent`; the denoiser sees
    ``y = V^T x`` (``= A^T z + sigma V^T eps``, ``A = U^T V``) and outputs ``xhat = V c``,
    ``c = D y``.  Block energies of ``U^T xhat = A c`` give ``N`` and ``others``;
    ``complement`` adds ``||P_perp V c||^2 = ||L^T c||^2`` with ``L L^T = I - A^T A``
    (computed once on the host in float64).  Moments are ``(S, K)``: one column per class.
    """
    xp = gen_.xp
    dt = getattr(xp, dtype)
    item = _itemsize(dtype)
    K, d, n, delta = model.K, model.d, model.n, model.delta
    r = K * d
    per_class = samples // K
    rows = batch or max(K, memory // (item * (n + 8 * r)), min(MIN_ROWS, per_class * K))
    m_batch = max(1, rows // K)
    rows = m_batch * K

    true_basis = model.basis_in(xp, dtype)
    if dae_basis is None:
        V, cross, perp = true_basis, None, None
    else:
        V = xp.asarray(dae_basis, dtype=dt)
        a64 = model.basis.T @ dae_basis
        cross = xp.asarray(a64, dtype=dt)  # A = U^T V
        if complement:
            gram = np.eye(r) - a64.T @ a64  # Gram of P_perp V
            w, vecs = np.linalg.eigh((gram + gram.T) / 2)
            perp = xp.asarray(vecs * np.sqrt(np.clip(w, 0.0, None)), dtype=dt)  # L
        else:
            perp = None
    own = xp.reshape(xp.eye(K, dtype=dt), (K, 1, K))  # class c, sample, block
    others = 1.0 - own
    _check_float32_range(sigma, dtype)
    s = xp.asarray(sigma, dtype=dt)
    coef = _beta_coefficients(xp, sigma, dae_delta, dt)
    col = (-1, 1, 1)
    xi, zmx, kap = (xp.reshape(c, col) for c in (coef.xi, coef.zeta_minus_xi, coef.kappa))
    noisy = input == "noisy"

    S = sigma.size
    per_pair = item * (4 * r + 8 * K) + 64
    live = K * min(m_batch, per_class)  # rows of a batch actually drawn
    s_chunk = max(1, min(S, (memory // 2) // (per_pair * live)))
    chunks = _chunks(S, s_chunk)
    moments = [Moments(xp, ratios) for _ in chunks]
    # NumPy, optimal denoiser: one set of work buffers for every batch and sigma chunk
    work = _AmbientBuffers(min(s_chunk, S), live, r, K, dt) \
        if cross is None and _reuses_buffers(xp) else None
    done = 0
    while done < per_class:
        m = min(m_batch, per_class - done)
        onehot = xp.reshape(xp.broadcast_to(own, (K, m, K)), (K * m, K))
        z = latent(xp, gen_, onehot, d, delta, dt)  # U^T x0, (K m, K d)
        y0 = z if cross is None else z @ cross  # V^T x0
        # the noise in column blocks only when a full row block exceeds the budget
        cols = max(1, min(memory // (K * m * item), MAX_DRAW // (K * m)))
        eps_v = _projected_noise(gen_, K * m, n, V, dt, cols) if noisy else None
        for acc, sl in zip(moments, chunks, strict=True):
            if work is not None:
                acc.add(*work.energies(y0, eps_v, s[sl], xi[sl, ...], zmx[sl, ...],
                                       kap[sl, ...], own, others))
                continue
            y = y0[None, ...] if eps_v is None else \
                y0[None, ...] + xp.reshape(s[sl], (-1, 1, 1)) * eps_v[None, ...]
            beta = kernel.block_betas(kernel.block_energies(y, K), xi[sl, ...], zmx[sl, ...],
                                      kap[sl, ...])
            if cross is None:  # xhat = U c: block energies are beta^2 r
                c = None
                energy = beta * beta * kernel.block_energies(y, K)
            else:  # U^T xhat = A c
                c = kernel.scale_blocks(y, beta, K)
                energy = kernel.block_energies(c @ xp.matrix_transpose(cross), K)
            energy = xp.reshape(energy, (energy.shape[0], K, m, K))
            num = xp.sum(energy * own, axis=-1)  # (S, K, m)
            den = xp.sum(energy * others, axis=-1)
            if complement and c is not None and perp is not None:
                outside = c @ perp
                den = den + xp.reshape(xp.sum(outside * outside, axis=-1), (-1, K, m))
            acc.add(num, den)
        done += m
        _progress(progress, done * K, per_class * K)
    return Simulation(moments, per_class * K, rows)


class _AmbientBuffers:
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


def _projected_noise(gen_: _backend.Random, rows: int, n: int, V: Any, dt: Any,
                     cols: int) -> Any:
    """``eps @ V`` for ``eps ~ N(0, I_n)`` of ``rows`` rows, drawn in column blocks of
    ``cols`` (one block, the same stream as a full draw, when ``cols >= n``)."""
    if cols >= n:
        return gen_.standard_normal((rows, n), dt) @ V
    out = None
    for part in _chunks(n, cols):
        block = gen_.standard_normal((rows, part.stop - part.start), dt) @ V[part, ...]
        out = block if out is None else out + block
    return out


# ---------------------------------------------------------------------------------------
# Ambient simulator for general mixtures and any denoiser
# ---------------------------------------------------------------------------------------
def _span_basis(model: Any) -> np.ndarray:
    """Orthonormal ``Q`` spanning the model's bases and means (host float64, cached)."""
    cache = model.__dict__.setdefault("_span_cache", {})
    if "Q" not in cache:
        cols = model.basis if not model.has_means else np.concatenate(
            [model.basis, model.means.T], axis=1)
        u, sv, _ = np.linalg.svd(cols, full_matrices=False)
        rank = int(np.sum(sv > sv[0] * max(cols.shape) * np.finfo(float).eps))
        cache["Q"] = u[:, :rank]
    return cache["Q"]  # type: ignore[no-any-return]


def _projected(model: Any, Q: np.ndarray) -> Any:
    """The model in the coordinates of ``Q`` (``x0 = Q y0`` exactly): same law of ``Q^T x``."""
    from .mixtures import LowRankMixture

    cache = model.__dict__.setdefault("_span_cache", {})
    if "projected" not in cache:
        cache["projected"] = LowRankMixture([Q.T @ b for b in model.bases], delta=model.delta,
                                            weights=model.weights,
                                            means=model.means @ Q if model.has_means else None)
    return cache["projected"]


def simulate_ambient_general(model: Any, sigma: np.ndarray, *, denoiser: Any, input: str,
                             ratios: bool, complement: bool, samples: int,
                             gen_: _backend.Random, dtype: str, memory: int,
                             batch: int | None, progress: Progress) -> Simulation:
    """Full simulation in ``R^n`` for any model with bases and any denoiser, by class.

    Class ``k`` (``samples // K`` samples): ``x0`` drawn from the class, ``x_t = x0 +
    sigma eps`` with ``eps ~ N(0, I_n)`` (one draw per batch, common to every sigma),
    ``xhat = denoiser(x_t, sigma)`` (or of ``x0`` for clean input), then the projections
    ``U_l^T xhat`` give ``N = ||U_k^T xhat||^2``, ``others = sum_{l != k} ||U_l^T xhat||^2``
    and ``complement = ||xhat - U_k U_k^T xhat||^2`` (formed as a vector, not as a
    difference of squared norms).

    For a :class:`~molrg.LowRankMixture` with its optimal denoiser (``denoiser=None``) the
    computation runs in an orthonormal basis ``Q`` of the span of its bases and means:
    ``x0 = Q y0``, the denoiser sees ``Q^T x_t = y0 + sigma Q^T eps`` (the ``n x r``
    projection of the ambient noise is the only ``n``-sized work), and its output is
    ``Q c`` with ``c`` the posterior mean of the projected model.
    """
    from .mixtures import LowRankMixture
    from .posterior import posterior_mean as mixture_posterior_mean

    _check_float32_range(sigma, dtype)
    xp = gen_.xp
    dt = getattr(xp, dtype)
    item = _itemsize(dtype)
    mixture = model if isinstance(model, LowRankMixture) else model.to_mixture()
    K, n = mixture.K, mixture.n
    per_class = samples // K
    coordinates = denoiser is None
    if coordinates:
        Q = _span_basis(mixture)
        space = _projected(mixture, Q)
        width = Q.shape[1]
        A = xp.asarray(space.basis, dtype=dt)  # Q^T B: the bases in Q-coordinates
        Qx = xp.asarray(Q, dtype=dt)
    else:
        space, width = mixture, n
        A = mixture.basis_in(xp, dtype)
    offsets = np.cumsum([0, *mixture.ranks])
    per_row = item * (3 * n + 8 * width + 4 * mixture.total_rank) + 64
    rows = batch or max(64, min(memory // per_row, 1 << 16, MAX_DRAW // n))
    m_batch = max(1, min(rows, per_class))
    noise_cols = max(1, min(memory // (m_batch * item), MAX_DRAW // m_batch))
    S = sigma.size
    noisy = input == "noisy"
    # clean input in float32: xhat ~ x0 / sigma^2, whose squared norms underflow for
    # sigma > 1e10 (NaN SNR); scaled by 1 + sigma^2 they stay O(|x0|^2)
    rescale = dtype == "float32" and not noisy
    columns: list[list[Moments]] = [[] for _ in range(S)]  # [sigma][class]
    for k in range(K):
        own = slice(int(offsets[k]), int(offsets[k + 1]))
        mask = np.ones(mixture.total_rank)
        mask[own] = 0.0
        others_mask = xp.asarray(mask, dtype=dt)
        done = 0
        per_k: list[Moments] = [Moments(xp, ratios) for _ in range(S)]
        while done < per_class:
            m = min(m_batch, per_class - done)
            if coordinates:
                y0 = space.sample_class(k, m, gen_, xp=xp, dtype=dtype)  # Q^T x0
                eps = _projected_noise(gen_, m, n, Qx, dt, noise_cols) if noisy else None
            else:
                y0 = space.sample_class(k, m, gen_, xp=xp, dtype=dtype)  # x0 in R^n
                eps = gen_.standard_normal((m, n), dt) if noisy else None
            for i in range(S):
                s = float(sigma[i])
                x = y0 + s * eps if eps is not None else y0
                if coordinates:
                    # the simulation's budget (a GPU-sized one on CuPy), not the
                    # posterior's 64 MiB default: fewer, larger kernels per batch
                    out = mixture_posterior_mean(space, x, s, memory_budget=memory)
                else:
                    out = denoiser(x, s)
                    _check_output(denoiser, out, x)  # shape, real dtype, finite
                if rescale:  # a per-sigma constant: every SNR estimand is unchanged
                    out = out * (1.0 + s * s)
                proj = out @ A  # (m, R): U_l^T xhat
                sq = proj * proj
                num = xp.sum(sq[:, own], axis=1)
                if complement:
                    own_part = proj[:, own] @ xp.matrix_transpose(A[:, own])
                    resid = out - own_part
                    den = xp.sum(resid * resid, axis=1)
                else:
                    den = xp.sum(sq * others_mask, axis=1)
                per_k[i].add(xp.reshape(num, (1, 1, m)), xp.reshape(den, (1, 1, m)))
            done += m
            _progress(progress, k * per_class + done, K * per_class)
        for i in range(S):
            columns[i].append(per_k[i])
    return Simulation([_ClassColumns(col) for col in columns], per_class * K, m_batch)


def _check_output(denoiser: Any, out: Any, x: Any) -> None:
    from .denoisers import check_output

    check_output(denoiser, out, x)


class _ClassColumns(Moments):
    """One sigma's per-class moments, presented as a ``(1, K)`` :class:`Moments`."""

    def __init__(self, per_class: list[Moments]) -> None:
        self.parts = per_class

    def per_class(self) -> tuple[np.ndarray, np.ndarray]:
        est, se = zip(*(p.per_class() for p in self.parts), strict=True)
        return np.concatenate(est, axis=1), np.concatenate(se, axis=1)

    def tail_share(self) -> np.ndarray:
        return np.concatenate([p.tail_share() for p in self.parts], axis=1)
