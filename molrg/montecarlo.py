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
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import _backend, kernel
from ._generated import FORMULAS
from .denoisers import check_output
from .mcbuffers import AmbientBuffers as _AmbientBuffers
from .mcbuffers import ReducedBuffers as _ReducedBuffers
from .mcbuffers import reuses_buffers as _reuses_buffers
from .mcstats import GROUPS, Moments, Simulation, _ClassColumns
from .models import latent
from .posterior import posterior_mean as mixture_posterior_mean
from .validation import ParameterError

__all__ = ["GROUPS", "MIN_ROWS", "Moments", "Run", "Simulation", "simulate_ambient_general",
           "simulate_ambient_molrg", "simulate_reduced"]

MIN_ROWS = 512
"""Fewest rows of an ambient noise block (keeps the ``n x K d`` GEMM efficient)."""
MAX_DRAW = 2**30
"""Most random numbers drawn by one generator call.  Only a GPU-sized budget (a sixteenth
of the device memory, :func:`molrg._backend.memory_budget`) reaches it; it keeps
every draw well inside 32-bit element indexing (CuPy's distribution kernels index their
output with a 32-bit ``int`` in the sources we read) and each draw a few GiB at most."""

Progress = Callable[[int, int], None] | None

@dataclass(frozen=True)
class Run:
    """One simulation's configuration (built from a :class:`~molrg.MonteCarlo` and the
    estimate by :func:`molrg.snr`): what every simulator takes besides the model.

    Attributes
    ----------
    sigma : ``(S,)`` float64 noise levels (common random numbers across them).
    input : ``"noisy"`` or ``"clean"``.
    ratios : mean of ratios (else ratio of means).
    complement : the ``"complement"`` denominator (else ``"others"``).
    samples : samples per sigma, all classes together.
    random : the :class:`molrg._backend.Random` drawing them (its namespace ``xp`` is the
        simulation's).
    dtype : ``"float64"`` or ``"float32"``.
    memory : the working-memory budget in bytes (:data:`molrg.options.DEFAULT_MEMORY_BYTES`
        scaled to the device); batch and chunk sizes follow from it
        (:func:`molrg.options.rows_within`).
    batch : samples (reduced) or rows (ambient) per batch; ``None``: from ``memory``.
    progress : ``progress(done, total)`` after each batch, or ``None``.
    """

    sigma: np.ndarray
    input: str
    ratios: bool
    complement: bool
    samples: int
    random: _backend.Random
    dtype: str
    memory: int
    batch: int | None = None
    progress: Progress = None

    @property
    def xp(self) -> ModuleType:
        return self.random.xp

    @property
    def item(self) -> int:
        """Bytes per simulated number."""
        return 4 if self.dtype == "float32" else 8

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


def _chunks(total: int, size: int) -> list[slice]:
    size = max(1, size)
    return [slice(i, min(i + size, total)) for i in range(0, total, size)]


FLOAT32_SIGMA_MAX = 1e15
"""Largest noise level simulated in float32: noisy block energies ``~ sigma^2 n`` overflow
float32 (3.4e38) near ``sigma = 1e18``; measured in tests/test_robustness.py.  Beyond it a
float32 simulation is refused before any work (float64 holds up to ``SIGMA_MAX``)."""


def _check_float32_range(sigma: np.ndarray, dtype: str) -> None:
    if dtype == "float32" and float(np.max(sigma)) > FLOAT32_SIGMA_MAX:
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
def _block_scales(run: Run, K: int, delta: float, dt: Any) -> Any:
    """``(S, K, 1)`` variances of the block energies: ``v_own`` on row 0 (the true class),
    ``v_other`` elsewhere (the generated formulas of the run's input)."""
    xp, sigma = run.xp, run.sigma
    formulas = FORMULAS[run.input]
    s64, dl = xp.asarray(sigma, dtype=xp.float64), xp.asarray(delta, dtype=xp.float64)
    v_own = xp.astype(formulas.variance_own(xp, sigma=s64, delta=dl) + xp.zeros_like(s64), dt)
    v_other = xp.astype(formulas.variance_other(xp, sigma=s64, delta=dl)
                        + xp.zeros_like(s64), dt)
    true_row = xp.reshape(xp.arange(K) == 0, (1, K, 1))
    return xp.where(true_row, xp.reshape(v_own, (-1, 1, 1)), xp.reshape(v_other, (-1, 1, 1)))


def simulate_reduced(setting: Any, run: Run) -> Simulation:
    """Reduced simulation: block energies ``r_0 ~ v_own chi2_d`` (the true class, row 0)
    and ``r_l ~ v_other chi2_d``; ``N = beta_0^2 r_0``, ``D = sum_{l>=1} beta_l^2 r_l``.

    ``setting``: anything with ``K``, ``d``, ``delta`` (a :class:`~molrg.Setting`).  Classes
    are exchangeable, so one representative class carries the estimate (``C = 1``).
    ``run.sigma`` is ``(S,)``; the returned moments are ``(S, 1)``.
    """
    K, d, delta = setting.K, setting.d, setting.delta
    xp, sigma, samples, memory = run.xp, run.sigma, run.samples, run.memory
    dt = getattr(xp, run.dtype)
    item = run.item
    draw = run.batch or max(1, min(memory // (item * 8 * K), MAX_DRAW // K))
    per_pair = K * item * 6 + 48  # working bytes per (sigma, sample) pair
    _check_float32_range(sigma, run.dtype)
    coef = _beta_coefficients(xp, sigma, delta, dt)
    scales = _block_scales(run, K, delta, dt)
    col = (-1, 1, 1)
    xi, zmx, kap = (xp.reshape(c, col) for c in (coef.xi, coef.zeta_minus_xi, coef.kappa))

    S = sigma.size
    # sized by the samples actually drawn (not the budget's batch), so that a GPU-sized
    # budget evaluates many sigma values per kernel instead of looping over them
    sub = min(draw, samples, max(1, (memory // 2) // per_pair))
    s_chunk = max(1, min(S, (memory // 2) // (per_pair * sub)))
    chunks = _chunks(S, s_chunk)
    moments = [Moments(xp, run.ratios) for _ in chunks]
    # NumPy: one set of work buffers for every batch, part and sigma chunk (fresh
    # temporaries of a few MB each were most of the call's time: page faults)
    work = _ReducedBuffers(min(s_chunk, S), K, min(sub, samples), dt) if _reuses_buffers(xp) \
        else None
    done = 0
    while done < samples:
        m = min(draw, samples - done)
        chi = run.random.chisquare(float(d), (K, m), dt)  # row 0: the true class
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
        run.report(done, samples)
    return Simulation(moments, samples, draw)


# ---------------------------------------------------------------------------------------
# Ambient simulator for the idealised MoLRG: the optimal denoiser or a DAE, in coordinates
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _DAESpace:
    """The DAE simulator's fixed arrays: the denoiser's basis ``V`` in the simulation's
    namespace, ``A = U^T V`` (``None`` for the optimal denoiser, ``V = U``) and the factor
    ``L`` of ``I - A^T A`` for the complement (``None`` unless needed)."""

    V: Any
    cross: Any
    perp: Any
    delta: float


def _dae_space(model: Any, run: Run, dae: Any) -> _DAESpace:
    xp, dtype = run.xp, run.dtype
    dt = getattr(xp, dtype)
    if dae is None:
        return _DAESpace(model.basis_in(xp, dtype), None, None, model.delta)
    V = xp.asarray(dae.basis, dtype=dt)
    a64 = model.basis.T @ dae.basis
    cross = xp.asarray(a64, dtype=dt)  # A = U^T V
    perp = None
    if run.complement:
        gram = np.eye(a64.shape[1]) - a64.T @ a64  # Gram of P_perp V
        w, vecs = np.linalg.eigh((gram + gram.T) / 2)
        perp = xp.asarray(vecs * np.sqrt(np.clip(w, 0.0, None)), dtype=dt)  # L
    return _DAESpace(V, cross, perp, dae.delta)


def simulate_ambient_molrg(model: Any, run: Run, dae: Any = None) -> Simulation:
    """Full simulation in ``R^n`` for the DAE ``V D V^T x`` (``dae``: its
    :class:`~molrg.bases.DAEParameters`; ``None`` for the optimal denoiser, ``V = U``),
    stratified by class (``samples // K`` per class).

    ``x0 = U z`` with ``z`` the latent of :func:`molrg.models.latent`; the denoiser sees
    ``y = V^T x`` (``= A^T z + sigma V^T eps``, ``A = U^T V``) and outputs ``xhat = V c``,
    ``c = D y``.  Block energies of ``U^T xhat = A c`` give ``N`` and ``others``;
    ``complement`` adds ``||P_perp V c||^2 = ||L^T c||^2`` with ``L L^T = I - A^T A``
    (computed once on the host in float64).  Moments are ``(S, K)``: one column per class.
    """
    xp, sigma, memory, item = run.xp, run.sigma, run.memory, run.item
    dt = getattr(xp, run.dtype)
    K, d, n, delta = model.K, model.d, model.n, model.delta
    r = K * d
    per_class = run.samples // K
    rows = run.batch or max(K, memory // (item * (n + 8 * r)), min(MIN_ROWS, per_class * K))
    m_batch = max(1, rows // K)
    rows = m_batch * K
    space = _dae_space(model, run, dae)
    own = xp.reshape(xp.eye(K, dtype=dt), (K, 1, K))  # class c, sample, block
    _check_float32_range(sigma, run.dtype)
    coef = _beta_coefficients(xp, sigma, space.delta, dt)
    col = (-1, 1, 1)
    xi, zmx, kap = (xp.reshape(c, col) for c in (coef.xi, coef.zeta_minus_xi, coef.kappa))
    S = sigma.size
    per_pair = item * (4 * r + 8 * K) + 64
    live = K * min(m_batch, per_class)  # rows of a batch actually drawn
    s_chunk = max(1, min(S, (memory // 2) // (per_pair * live)))
    chunks = _chunks(S, s_chunk)
    moments = [Moments(xp, run.ratios) for _ in chunks]
    # NumPy, optimal denoiser: one set of work buffers for every batch and sigma chunk
    work = _AmbientBuffers(min(s_chunk, S), live, r, K, dt) \
        if space.cross is None and _reuses_buffers(xp) else None
    s = xp.asarray(sigma, dtype=dt)
    done = 0
    while done < per_class:
        m = min(m_batch, per_class - done)
        onehot = xp.reshape(xp.broadcast_to(own, (K, m, K)), (K * m, K))
        z = latent(xp, run.random, onehot, d, delta, dt)  # U^T x0, (K m, K d)
        y0 = z if space.cross is None else z @ space.cross  # V^T x0
        # the noise in column blocks only when a full row block exceeds the budget
        cols = max(1, min(memory // (K * m * item), MAX_DRAW // (K * m)))
        eps_v = _projected_noise(run.random, K * m, n, space.V, dt, cols) \
            if run.input == "noisy" else None
        for acc, sl in zip(moments, chunks, strict=True):
            coefs = (xi[sl, ...], zmx[sl, ...], kap[sl, ...])
            if work is not None:
                acc.add(*work.energies(y0, eps_v, s[sl], *coefs, own, 1.0 - own))
            else:
                acc.add(*_dae_energies(xp, space, run.complement, y0, eps_v, s[sl], coefs,
                                       own))
        done += m
        run.report(done * K, per_class * K)
    return Simulation(moments, per_class * K, rows)


def _dae_energies(xp: ModuleType, space: _DAESpace, complement: bool, y0: Any, eps_v: Any,
                  s: Any, coefs: tuple[Any, Any, Any], own: Any) -> tuple[Any, Any]:
    """``(num, den)``, ``(S_c, K, m)``, of one batch and sigma chunk (the generic path)."""
    K = own.shape[0]
    m = y0.shape[0] // K
    y = y0[None, ...] if eps_v is None else \
        y0[None, ...] + xp.reshape(s, (-1, 1, 1)) * eps_v[None, ...]
    beta = kernel.block_betas(kernel.block_energies(y, K), *coefs)
    if space.cross is None:  # xhat = U c: block energies are beta^2 r
        c = None
        energy = beta * beta * kernel.block_energies(y, K)
    else:  # U^T xhat = A c
        c = kernel.scale_blocks(y, beta, K)
        energy = kernel.block_energies(c @ xp.matrix_transpose(space.cross), K)
    energy = xp.reshape(energy, (energy.shape[0], K, m, K))
    num = xp.sum(energy * own, axis=-1)  # (S, K, m)
    den = xp.sum(energy * (1.0 - own), axis=-1)
    if complement and c is not None and space.perp is not None:
        outside = c @ space.perp
        den = den + xp.reshape(xp.sum(outside * outside, axis=-1), (-1, K, m))
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
    cache = model.__dict__.setdefault("_span_cache", {})
    if "projected" not in cache:
        cache["projected"] = model.replace(bases=[Q.T @ b for b in model.bases],
                                           means=model.means @ Q if model.has_means else None)
    return cache["projected"]


@dataclass(frozen=True)
class _GeneralSpace:
    """Where the general simulator works: ``space`` is the mixture itself (in ``R^n``) or,
    for its optimal denoiser, the mixture in the coordinates of ``Q`` (``Qx`` in the
    simulation's namespace); ``A`` holds the bases there."""

    mixture: Any
    space: Any
    A: Any
    Qx: Any
    denoiser: Any


def _general_space(model: Any, run: Run, denoiser: Any) -> _GeneralSpace:
    mixture = model.to_mixture()
    xp = run.xp
    if denoiser is not None:
        return _GeneralSpace(mixture, mixture, mixture.basis_in(xp, run.dtype), None, denoiser)
    Q = _span_basis(mixture)
    space = _projected(mixture, Q)
    dt = getattr(xp, run.dtype)
    return _GeneralSpace(mixture, space, xp.asarray(space.basis, dtype=dt),  # Q^T B
                         xp.asarray(Q, dtype=dt), None)


def simulate_ambient_general(model: Any, run: Run, denoiser: Any = None) -> Simulation:
    """Full simulation in ``R^n`` for any model with bases and any denoiser, by class.

    Class ``k`` (``samples // K`` samples): ``x0`` drawn from the class, ``x_t = x0 +
    sigma eps`` with ``eps ~ N(0, I_n)`` (one draw per batch, common to every sigma),
    ``xhat = denoiser(x_t, sigma)`` (or of ``x0`` for clean input), then the projections
    ``U_l^T xhat`` give ``N = ||U_k^T xhat||^2``, ``others = sum_{l != k} ||U_l^T xhat||^2``
    and ``complement = ||xhat - U_k U_k^T xhat||^2`` (formed as a vector, not as a
    difference of squared norms).

    For the model's optimal denoiser (``denoiser=None``; the model as a
    :class:`~molrg.LowRankMixture`, ``model.to_mixture()``) the computation runs in an
    orthonormal basis ``Q`` of the span of its bases and means: ``x0 = Q y0``, the
    denoiser sees ``Q^T x_t = y0 + sigma Q^T eps`` (the ``n x r`` projection of the ambient
    noise is the only ``n``-sized work), and its output is ``Q c`` with ``c`` the
    posterior mean of the projected model.
    """
    _check_float32_range(run.sigma, run.dtype)
    item = run.item
    g = _general_space(model, run, denoiser)
    K, n = g.mixture.K, g.mixture.n
    per_class = run.samples // K
    width = n if g.Qx is None else g.Qx.shape[1]
    per_row = item * (3 * n + 8 * width + 4 * g.mixture.total_rank) + 64
    rows = run.batch or max(64, min(run.memory // per_row, 1 << 16, MAX_DRAW // n))
    m_batch = max(1, min(rows, per_class))
    columns: list[list[Moments]] = [[] for _ in run.sigma]  # [sigma][class]
    for k in range(K):
        for i, acc in enumerate(_general_class(g, run, k, m_batch, per_class)):
            columns[i].append(acc)
    return Simulation([_ClassColumns(col) for col in columns], per_class * K, m_batch)


def _general_class(g: _GeneralSpace, run: Run, k: int, m_batch: int,
                   per_class: int) -> list[Moments]:
    """The moments of class ``k``, one per sigma (see :func:`simulate_ambient_general`)."""
    xp, dt, n = run.xp, getattr(run.xp, run.dtype), g.mixture.n
    offsets = np.cumsum([0, *g.mixture.ranks])
    own = slice(int(offsets[k]), int(offsets[k + 1]))
    mask = np.ones(g.mixture.total_rank)
    mask[own] = 0.0
    others_mask = xp.asarray(mask, dtype=dt)
    noise_cols = max(1, min(run.memory // (m_batch * run.item), MAX_DRAW // m_batch))
    noisy = run.input == "noisy"
    per_k = [Moments(xp, run.ratios) for _ in run.sigma]
    done = 0
    while done < per_class:
        m = min(m_batch, per_class - done)
        y0 = g.space.sample_class(k, m, run.random, xp=xp, dtype=run.dtype)  # x0 or Q^T x0
        if not noisy:
            eps = None
        elif g.Qx is not None:
            eps = _projected_noise(run.random, m, n, g.Qx, dt, noise_cols)
        else:
            eps = run.random.standard_normal((m, n), dt)
        for i, acc in enumerate(per_k):
            s = float(run.sigma[i])
            out = _general_output(g, run, y0 + s * eps if eps is not None else y0, s)
            proj = out @ g.A  # (m, R): U_l^T xhat
            sq = proj * proj
            num = xp.sum(sq[:, own], axis=1)
            if run.complement:
                resid = out - proj[:, own] @ xp.matrix_transpose(g.A[:, own])
                den = xp.sum(resid * resid, axis=1)
            else:
                den = xp.sum(sq * others_mask, axis=1)
            acc.add(xp.reshape(num, (1, 1, m)), xp.reshape(den, (1, 1, m)))
        done += m
        run.report(k * per_class + done, g.mixture.K * per_class)
    return per_k


def _general_output(g: _GeneralSpace, run: Run, x: Any, s: float) -> Any:
    """The denoiser's output at ``x`` (the projected posterior mean for the optimal one),
    rescaled by ``1 + s^2`` for a clean float32 input: ``xhat ~ x0 / sigma^2`` would
    underflow in its squared norms for ``sigma > 1e10`` (a per-sigma constant: every SNR
    estimand is unchanged)."""
    if g.denoiser is None:
        # the simulation's budget (a GPU-sized one on CuPy), not the
        # posterior's 64 MiB default: fewer, larger kernels per batch
        out = mixture_posterior_mean(g.space, x, s, memory_budget=run.memory)
    else:
        out = g.denoiser(x, s)
        check_output(g.denoiser, out, x)  # shape, real dtype, finite
    if run.dtype == "float32" and run.input != "noisy":
        out = out * (1.0 + s * s)
    return out
