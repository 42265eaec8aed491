"""Exact posterior mean ``E[x0 | x_t = x]`` of a :class:`~.models.LowRankMixture`.

Model and noise: ``x0 | k ~ N(mu_k, Sigma_k)``, ``Sigma_k = F_k F_k^T``, ``F_k = B S_k``
(``B = [U_1 ... U_K]`` is ``(n, R)``), ``x_t = x0 + sigma eps``.  So
``x_t | k ~ N(mu_k, C_k)``, ``C_k = sigma^2 I_n + Sigma_k``, and

    ``E[x0 | x] = sum_k w_k(x) (mu_k + Sigma_k C_k^{-1} (x - mu_k))``,
    ``w = softmax_k(g_k)``,
    ``g_k = log pi_k - 1/2 logdet C_k - 1/2 (x - mu_k)^T C_k^{-1} (x - mu_k)``.

Low-rank evaluation (nothing ``n x n`` is ever formed)
-------------------------------------------------------
Once per model (host, float64): an orthonormal basis ``V`` (``(n, r)``) of ``span(B)``.
If the classes are mutually orthogonal (``max|B^T B - I| <= 1e-12``) then ``V = B``;
otherwise ``V`` holds the left singular vectors of ``B`` with singular value above
``max(n, R) eps s_max`` (so a rank-deficient ``B``, e.g. overlapping subspaces, is never
inverted: ``r = rank B <= R``).  In these coordinates ``Sigma_k = V T_k V^T`` with the
small ``T_k = M_k M_k^T = E_k diag(lambda_k) E_k^T``, ``M_k = (V^T B) S_k`` (``(r, R)``;
``E_k, lambda_k`` from the SVD of ``M_k`` once per model, so that zero eigenvalues come
out as ``O(eps^2)``, not ``O(eps)``; ``T_k`` is diagonal and ``E_k = I`` when ``V = B``).
Each mean is split as ``mu_k = V c_k + p_k`` with ``p_k`` orthogonal to ``span(B)`` (``p_k`` is set to
exactly 0 when ``||p_k|| <= 1e-13 ||mu_k||``, i.e. when it is rounding noise, and always
when ``span(B)`` is the whole space).

With ``z = V^T x`` and the rotated, centred coordinates ``y_k = E_k^T (z - c_k)``
(``(r,)`` per class), the Woodbury identity
``C_k^{-1} = V (sigma^2 I_r + T_k)^{-1} V^T + sigma^{-2} (I - V V^T)`` and the matrix
determinant lemma ``logdet C_k = (n - r) log sigma^2 + sum_i log(sigma^2 + lambda_ki)`` give

    ``g_k = log pi_k - 1/2 sum_i log(sigma^2 + lambda_ki)
            - 1/2 sum_i y_ki^2 / (sigma^2 + lambda_ki)
            + (x . p_k - ||p_k||^2 / 2) / sigma^2  [+ terms equal for every class]``,
    ``E[x0 | x, k] = mu_k + V E_k diag(lambda_k / (sigma^2 + lambda_k)) y_k``.

The class-independent terms ``-||(I - V V^T) x||^2 / (2 sigma^2)`` and
``-(n - r) log(sigma^2) / 2`` are dropped analytically before the max-shifted softmax: at
``sigma = 1e-4`` they are ~1e8 ||x||^2 and would swamp the class differences.  Every
remaining quadratic term is a sum of non-negative squares (no cancellation), so the
logits stay accurate for sigma in [1e-4, 1e3] in float32 and float64; no NaN, no overflow.

Cost per sample: ``x @ V`` and ``u @ V^T`` (``2 n r`` flops each), ``x @ P^T`` and
``w @ M`` (``2 n K`` each, only with non-zero means) and the class sums: ``O(K r)``, as two
small GEMMs ``(z * z) @ (1 / (sigma^2 + lambda))^T`` and ``w @ shrink`` when ``E_k = I`` and
``c_k = 0`` (e.g. the idealised MoLRG), elementwise on an ``(m, K, r)`` array otherwise, plus
``2 K r^2`` for the rotations ``E_k`` when the bases are not mutually orthogonal
(``n``-independent).  The per-sigma set-up is elementwise on the ``(K, r)`` eigenvalues
(host float64, then cast).  Batches are processed in chunks of samples so that the
intermediates stay under ``memory_budget``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import MiB, array_namespace, float_dtype_of
from .mixtures import LowRankMixture
from .validation import ParameterError, check_int, check_sigma_scalar

__all__ = ["DEFAULT_MEMORY_BUDGET", "ORTHOGONAL_TOL", "PERP_RTOL", "class_posterior", "posterior_and_weights",
           "posterior_mean"]

ORTHOGONAL_TOL = 1e-12
"""``max|B^T B - I|`` below which the stacked basis itself is used as ``V`` (block-diagonal path)."""
PERP_RTOL = 1e-13
"""A mean component orthogonal to ``span(B)`` below ``PERP_RTOL ||mu_k||`` is rounding: set to 0."""
DEFAULT_MEMORY_BUDGET = 64 * MiB
"""Default bound (bytes) on the per-chunk intermediates of :func:`posterior_and_weights`."""


@dataclass(frozen=True)
class _Structure:
    """Per-model host (float64) quantities; see the module docstring for the symbols."""

    V: np.ndarray  # (n, r) orthonormal basis of span(B)
    lam: np.ndarray  # (K, r) eigenvalues of T_k, >= 0
    E: np.ndarray | None  # (K, r, r) eigenvectors of T_k; None: identity (orthogonal bases)
    cz: np.ndarray  # (K, r) rotated centres E_k^T c_k
    perp: np.ndarray | None  # (K, n) mean components orthogonal to span(B); None: all zero
    perp_sq: np.ndarray  # (K,) ||p_k||^2
    log_weights: np.ndarray  # (K,)

    @property
    def r(self) -> int:
        return int(self.V.shape[1])

    @property
    def has_centres(self) -> bool:
        return bool(np.any(self.cz))


def structure(model: LowRankMixture) -> _Structure:
    """The model's low-rank structure (computed once, cached on the model)."""
    cached = model.__dict__.get("_posterior_structure")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    B, R, K = model.basis, model.total_rank, model.K
    scales = model.scales()
    if float(np.max(np.abs(B.T @ B - np.eye(R)))) <= ORTHOGONAL_TOL:
        V = B
        lam = scales**2
        E = None
    else:
        left, s, wt = np.linalg.svd(B, full_matrices=False)
        tol = s[0] * max(B.shape) * np.finfo(np.float64).eps
        r = int(np.sum(s > tol))
        V = np.ascontiguousarray(left[:, :r])
        VtB = s[:r, None] * wt[:r]  # (r, R): B = V VtB up to the dropped directions
        lam = np.empty((K, r))
        E = np.empty((K, r, r))
        for k in range(K):
            # T_k = M_k M_k^T: take the SVD of M_k rather than eigh(T_k), so that a zero
            # eigenvalue comes out as s^2 ~ eps^2, not eps (that error would be divided by
            # sigma^2 in the logits).
            e, sv, _ = np.linalg.svd(VtB * scales[k][None, :], full_matrices=False)
            E[k], lam[k] = e, sv**2
    means = model.means
    c = means @ V  # (K, r)
    cz = c if E is None else np.einsum("kr,krs->ks", c, E)
    perp = None
    if model.has_means and V.shape[1] < model.n:
        perp = means - c @ V.T
        perp -= (perp @ V) @ V.T  # second Gram-Schmidt pass
        # A mean inside span(B) must give p_k = 0 exactly: rounding noise ~eps ||mu_k|| would
        # enter the logits as x . p_k / sigma^2 (1e-8 at sigma = 1e-4).
        tol = max(PERP_RTOL, 8 * np.finfo(np.float64).eps * np.sqrt(V.shape[1]))
        tiny = np.linalg.norm(perp, axis=1) <= tol * np.linalg.norm(means, axis=1)
        perp[tiny] = 0.0
        if np.all(tiny):
            perp = None
    perp_sq = np.zeros(K) if perp is None else np.sum(perp**2, axis=1)
    st = _Structure(V=V, lam=lam, E=E, cz=cz, perp=perp, perp_sq=perp_sq,
                    log_weights=np.log(model.weights))
    model.__dict__["_posterior_structure"] = st
    return st


def _device(model: LowRankMixture, st: _Structure, xp: ModuleType, dtype_name: str) -> dict[str, Any]:
    """Per-namespace/dtype copies of the model constants (cached on the model)."""
    cache = model.__dict__.setdefault("_posterior_device", {})
    key = (xp.__name__, dtype_name)
    dt = getattr(xp, dtype_name)
    if key not in cache:
        d: dict[str, Any] = {
            "V": model.basis_in(xp, dtype_name) if st.E is None else xp.asarray(st.V, dtype=dt),
            "cz": xp.asarray(st.cz, dtype=dt),
        }
        d["VT"] = xp.matrix_transpose(d["V"])
        if st.E is not None:
            ecat = np.concatenate(list(st.E), axis=1)  # (r, K r) = [E_1 ... E_K]
            d["Ecat"] = xp.asarray(ecat, dtype=dt)
            d["EcatT"] = xp.asarray(np.ascontiguousarray(ecat.T), dtype=dt)  # rows: E_k^T
        if st.perp is not None:
            d["perpT"] = xp.asarray(np.ascontiguousarray(st.perp.T), dtype=dt)
        if model.has_means:
            d["means"] = model.means_in(xp, dtype_name)
        cache[key] = d
    return cache[key]  # type: ignore[no-any-return]


def _sigma_terms(st: _Structure, sigma: float, dtype_name: str) -> dict[str, np.ndarray]:
    """Per-sigma host constants: ``1/(sigma^2+lambda)``, shrinkage, logit offsets."""
    s2 = sigma * sigma
    denom = s2 + st.lam
    terms = {
        "ivar": 1.0 / denom,  # (K, r)
        "ivarT": np.ascontiguousarray((1.0 / denom).T),  # (r, K)
        "shrink": st.lam / denom,  # (K, r)
        "const": st.log_weights - 0.5 * np.sum(np.log(denom), axis=1) - 0.5 * st.perp_sq / s2,
        "inv_s2": np.asarray(1.0 / s2),
    }
    info = np.finfo(dtype_name)
    for name, v in terms.items():
        # the logits must stay finite (and far from overflow) in the working dtype
        if not (np.isfinite(s2) and s2 > 0 and np.all(np.abs(v) < float(info.max) * 1e-12)):
            raise ParameterError(f"sigma={sigma!r} is out of range for {dtype_name} ({name} overflows); "
                             f"valid: 1/sigma^2 well inside the {dtype_name} range "
                             f"(about sigma > {math.sqrt(1e12 / float(info.max)):.1g})")
    return terms


def _softmax(g: Any, xp: ModuleType) -> Any:
    e = xp.exp(g - xp.max(g, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _chunk(xc: Any, xp: ModuleType, st: _Structure, dev: dict[str, Any], sig: dict[str, Any],
           want_mean: bool) -> tuple[Any, Any]:
    """Posterior mean and class weights of an ``(mb, n)`` chunk."""
    mb = xc.shape[0]
    K, r = st.lam.shape
    z = xc @ dev["V"]  # (mb, r)
    if st.E is None and not st.has_centres:
        # Orthogonal bases, centres c_k = 0 (e.g. the idealised MoLRG): y_k = z for every k,
        # so the class sums are two small GEMMs and no (mb, K, r) array is formed.
        g = sig["const"][None, :] - 0.5 * ((z * z) @ sig["ivarT"])
        if "perpT" in dev:
            g = g + (xc @ dev["perpT"]) * sig["inv_s2"]
        w = _softmax(g, xp)
        if not want_mean:
            return None, w
        xhat = (z * (w @ sig["shrink"])) @ dev["VT"]
        if "means" in dev:
            xhat = xhat + w @ dev["means"]
        return xhat, w
    if st.E is None:
        y = z[:, None, :] - dev["cz"][None, :, :]  # (mb, K, r)
    else:
        y = xp.reshape(z @ dev["Ecat"], (mb, K, r)) - dev["cz"][None, :, :]
    g = sig["const"][None, :] - 0.5 * xp.sum(y * y * sig["ivar"][None, :, :], axis=-1)
    if "perpT" in dev:
        g = g + (xc @ dev["perpT"]) * sig["inv_s2"]
    w = _softmax(g, xp)  # (mb, K)
    if not want_mean:
        return None, w
    t = y * (w[:, :, None] * sig["shrink"][None, :, :])
    u = xp.sum(t, axis=1) if st.E is None else xp.reshape(t, (mb, K * r)) @ dev["EcatT"]
    xhat = u @ dev["VT"]
    if "means" in dev:
        xhat = xhat + w @ dev["means"]
    return xhat, w


def _run(model: LowRankMixture, x: Any, sigma: Any, memory_budget: int,
         want_mean: bool) -> tuple[Any, Any]:
    if not isinstance(model, LowRankMixture):
        raise ParameterError(f"model is a {type(model).__name__}; valid: a LowRankMixture")
    xp = array_namespace(x)
    dtype_name = float_dtype_of(xp, x)
    if x.ndim < 1 or x.shape[-1] != model.n:
        raise ParameterError(f"x has shape {tuple(x.shape)}; valid: (..., n) with n={model.n}")
    s = check_sigma_scalar(sigma)
    budget = check_int("memory_budget", memory_budget, low=1 << 16)
    dt = getattr(xp, dtype_name)
    st = structure(model)
    dev = _device(model, st, xp, dtype_name)
    host = _sigma_terms(st, s, dtype_name)
    sig = {name: xp.asarray(v, dtype=dt) for name, v in host.items()}
    lead = tuple(x.shape[:-1])
    m = math.prod(lead)
    K, r = st.lam.shape
    n = model.n
    if m == 0:
        return (xp.zeros((*lead, n), dtype=dt) if want_mean else None), xp.zeros((*lead, K), dtype=dt)
    x2 = xp.reshape(x, (m, n))
    itemsize = 4 if dtype_name == "float32" else 8
    # per-sample intermediates of one chunk (the (m, n) output is not counted)
    per_row = itemsize * ((4 * r if st.E is None and not st.has_centres else 3 * K * r + 2 * r)
                          + 6 * K + n)
    mb = max(1, min(m, budget // per_row))
    xhat: Any
    if mb >= m:
        xhat, w = _chunk(x2, xp, st, dev, sig, want_mean)
    else:
        xhat = xp.empty((m, n), dtype=dt) if want_mean else None
        w = xp.empty((m, K), dtype=dt)
        for i in range(0, m, mb):
            j = min(i + mb, m)  # array_api_strict rejects out-of-bounds slice stops
            xh, wc = _chunk(x2[i:j, :], xp, st, dev, sig, want_mean)
            w[i:j, :] = wc
            if want_mean:
                xhat[i:j, :] = xh
    w = xp.reshape(w, (*lead, K))
    return (xp.reshape(xhat, (*lead, n)) if want_mean else None), w


def posterior_and_weights(model: LowRankMixture, x: Any, sigma: float, *,
              memory_budget: int = DEFAULT_MEMORY_BUDGET) -> tuple[Any, Any]:
    """Posterior mean and class posteriors of ``x_t = x`` at noise level ``sigma``.

    Parameters
    ----------
    model : the mixture.
    x : ``(..., n)`` float32 or float64 array of any array-API namespace (NumPy, CuPy,
        ``array_api_strict``).
    sigma : scalar noise level, ``sigma > 0`` (tested on [1e-4, 1e3] in both dtypes).
    memory_budget : bytes allowed for the per-chunk intermediates (input and output
        excluded); samples are processed in chunks to respect it.

    Returns
    -------
    xhat : ``(..., n)`` ``E[x0 | x_t = x]`` (namespace and dtype of ``x``).
    w : ``(..., K)`` class posteriors ``P(k | x_t = x)``.

    Notes
    -----
    ``xhat = sum_k w_k (mu_k + Sigma_k C_k^{-1} (x - mu_k))``, ``C_k = sigma^2 I + Sigma_k``;
    see the module docstring for the low-rank evaluation.  The per-sample work is
    array-API only; the small per-model/per-sigma set-up runs in float64 NumPy on the host.
    """
    return _run(model, x, sigma, memory_budget, want_mean=True)


def posterior_mean(model: LowRankMixture, x: Any, sigma: float, *,
                   memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Any:
    """``E[x0 | x_t = x]`` (``(..., n) -> (..., n)``) for ``x_t = x0 + sigma eps``.

    ``xhat = sum_k w_k(x) (mu_k + Sigma_k (sigma^2 I + Sigma_k)^{-1} (x - mu_k))`` with
    ``w = softmax_k(log pi_k + log N(x; mu_k, sigma^2 I + Sigma_k))``.  See :func:`posterior_and_weights`
    for parameters; cost ``O(n r)`` per sample (``r = rank[U_1 ... U_K]``) plus
    ``O(K r^2)`` for non-orthogonal bases, never an ``n x n`` matrix.
    """
    return _run(model, x, sigma, memory_budget, want_mean=True)[0]


def class_posterior(model: LowRankMixture, x: Any, sigma: float, *,
                    memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Any:
    """``P(k | x_t = x)`` (``(..., n) -> (..., K)``), the softmax weights of :func:`posterior_and_weights`."""
    return _run(model, x, sigma, memory_budget, want_mean=False)[1]
