r"""Independent reference for the exact ratio-of-means SNR (K = 2 and K = 3).

Shares no code (and no formulation) with :mod:`quadrature`: no Laplace transforms, no
Gumbel/log-gamma variables, no lattices.  It integrates the softmax directly against the
chi-square densities, conditioning on the own-type block with a one-dimensional function.

Notation (``s = sigma``; see quadrature.py for the model): logit scales ``a0 = kappa v0``,
``a1 = kappa v1``; ``sig_j(y) = (1 + e^{-y})^{-j}``; ``f`` the ``chi2_d`` density.

K = 2::

    A_j = E[w_0^j r_0] = v0 int f(x1) H_j(a1 x1) dx1,  H_j(l) = int f(x) x sig_j(a0 x - l) dx
    B_j = E[w_1^j r_1] = v1 int f(x1) x1 H'_j(a1 x1) dx1, H'_j(l) = int f(x) sig_j(l - a0 x) dx

K = 3 (blocks 1, 2 of the other type)::

    A_j = v0 iint f(x1) f(x2) H_j(log(e^{a1 x1} + e^{a1 x2})) dx1 dx2
    B_j = v1 iint f(x1) f(x2) x1 C^{-j} H'_j(a1 x1 + log C) dx1 dx2,  C = 1 + e^{a1 (x2 - x1)}

(``w_1 = 1/(C + e^{a0 x0 - a1 x1})`` and ``(C + e^t)^{-j} = C^{-j} sig_j(log C - t)``.)

Quadrature: composite Gauss-Legendre in ``z = sqrt(x)`` (the chi density
``z^{d-1} e^{-z^2/2}`` is smooth at 0) on panels adapted to both the chi-square bulk and
the logit transitions (panel width ``<= pi/(2 a)`` in logit units, i.e. within the strip
of analyticity of ``sig_j``); ``H_j``, ``H'_j`` are tabulated once on Chebyshev panels of
unit width in ``l`` (analytic in ``|Im l| < pi``: 16 nodes give < 1e-17).  The whole
evaluation is repeated with more nodes per panel; the difference is returned as the
reference's own error estimate.  Double precision; see :func:`mp_moments_k2` for a
30-digit mpmath check of this reference at K = 2.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import special as sc

__all__ = ["coefficients", "moments_ref", "mp_moments_k2", "snr_ref"]

P_TAIL = 1e-22
REF_TRUNCATION = 1e-20
"""Absolute allowance (per unit ``v d``) for the chi-square tails (``P_TAIL``) left out of
the integration ranges; it only matters for moments far below ``1e-20 v d`` (which the
reference then does not resolve: e.g. ``B_m ~ 1e-43`` when the own block always wins)."""
REF_ROUNDING = 1e-13
"""Relative rounding allowance added to the node-refinement difference (sums of up to
~1e7 positive terms in double precision)."""


def coefficients(s: float, delta: float, input: str) -> dict[str, float]:
    """xi, c, kappa, v0, v1, a0, a1 at noise level ``s``."""
    s2, d2 = s * s, delta * delta
    xi = d2 / (d2 + s2)
    c = s2 * (1 - d2) / ((1 + s2) * (d2 + s2))
    kappa = (1 - d2) / (2 * (1 + s2) * (d2 + s2))
    v0, v1 = (1 + s2, d2 + s2) if input == "noisy" else (1.0, d2)
    return dict(xi=xi, c=c, kappa=kappa, v0=v0, v1=v1, a0=kappa * v0, a1=kappa * v1)


def _sigj(y: np.ndarray, j: int) -> np.ndarray:
    """``(1 + e^{-y})^{-j}`` without overflow."""
    e = np.exp(-np.abs(y))
    pos = (1.0 + e) ** (-j)
    neg = e**j * (1.0 + e) ** (-j)
    return np.where(y >= 0, pos, neg)


def _log_chi_density_z(z: np.ndarray, d: int) -> np.ndarray:
    """log of the density of ``z = sqrt(X)``, ``X ~ chi2_d``: ``2 z f_d(z^2)``."""
    with np.errstate(divide="ignore"):
        return ((d - 1) * np.log(z) - z * z / 2 - (d / 2 - 1) * math.log(2)
                - math.lgamma(d / 2))


_GL: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gl(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n not in _GL:
        _GL[n] = np.polynomial.legendre.leggauss(n)
    return _GL[n]


def _panel_nodes(edges_z: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes/weights in ``z`` on the given panel edges."""
    t, w = _gl(n)
    a, b = edges_z[:-1, None], edges_z[1:, None]
    z = (a + b) / 2 + (b - a) / 2 * t[None, :]
    wz = (b - a) / 2 * w[None, :]
    return z.ravel(), wz.ravel()


def _z_range(d: int) -> tuple[float, float]:
    lo = 2 * sc.gammaincinv(d / 2, P_TAIL)
    hi = 2 * sc.gammainccinv(d / 2, P_TAIL)
    return math.sqrt(lo) if d > 6 else 0.0, math.sqrt(hi)


def _outer_nodes(d: int, a: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``x`` and weights (density included) for ``E[g(X)]``, ``X ~ chi2_d``, for
    integrands varying on logit scale 1 (``g(x) = G(a x)``)."""
    zlo, zhi = _z_range(d)
    width = min(math.pi / (2 * a * zhi), (zhi - zlo) / 12)  # logit width pi: dz = pi/(2 a z)
    npan = max(math.ceil((zhi - zlo) / width), 12)
    edges = np.linspace(zlo, zhi, npan + 1)
    z, wz = _panel_nodes(edges, n)
    w = wz * np.exp(_log_chi_density_z(z, d))
    return z * z, w


def _h_function(l: float, a0: float, d: int, j: int, weight_x: bool, sign: int, n: int
                ) -> float:
    """``int f(x) x^{weight_x} sig_j(sign (a0 x - l)) dx`` by composite Gauss in z."""
    zlo, zhi = _z_range(d)
    xlo, xhi = zlo * zlo, zhi * zhi
    base = np.linspace(zlo, zhi, 41)
    xs = l / a0 + np.arange(-54, 55, 3) / a0  # logit window of +-54, panels of width 3
    xs = xs[(xs > xlo) & (xs < xhi)]
    edges = np.unique(np.concatenate([base, np.sqrt(xs)]))
    z, wz = _panel_nodes(edges, n)
    x = z * z
    w = wz * np.exp(_log_chi_density_z(z, d))
    g = _sigj(sign * (a0 * x - l), j)
    if weight_x:
        g = g * x
    return float(np.dot(w, g))


class _ChebTable:
    """Piecewise Chebyshev interpolant of ``fun`` on ``[lo, hi]`` (unit-width panels)."""

    def __init__(self, fun, lo: float, hi: float, m: int = 16) -> None:
        self.lo = math.floor(lo) - 1.0
        npan = math.ceil(hi - self.lo) + 1
        self.npan = npan
        k = np.arange(m)
        self.t = np.cos(np.pi * (2 * k + 1) / (2 * m))  # Chebyshev points (1st kind)
        self.bw = (-1.0) ** k * np.sin(np.pi * (2 * k + 1) / (2 * m))  # barycentric
        centers = self.lo + np.arange(npan) + 0.5
        pts = centers[:, None] + 0.5 * self.t[None, :]
        self.vals = np.array([[fun(p) for p in row] for row in pts])

    def __call__(self, l: np.ndarray) -> np.ndarray:
        l = np.asarray(l, dtype=float)
        i = np.clip(np.floor(l - self.lo).astype(int), 0, self.npan - 1)
        x = 2.0 * (l - (self.lo + i + 0.5))  # in [-1, 1]
        diff = x[..., None] - self.t
        exact = np.isclose(diff, 0.0, atol=1e-15)
        diff = np.where(exact, 1.0, diff)
        q = self.bw / diff
        num = np.sum(q * self.vals[i], axis=-1)
        den = np.sum(q, axis=-1)
        out = num / den
        hit = exact.any(axis=-1)
        if hit.any():
            kk = np.argmax(exact, axis=-1)
            out = np.where(hit, self.vals[i, kk], out)
        return out


def _moments_once(s: float, K: int, d: int, delta: float, input: str, n: int
                  ) -> tuple[float, float, float, float]:
    co = coefficients(s, delta, input)
    a0, a1 = co["a0"], co["a1"]
    x, w = _outer_nodes(d, a1, n)
    l_lo = a1 * x.min() - 1.0
    l_hi = a1 * x.max() + math.log(2.0) + 1.0
    res = []
    for j in (1, 2):
        H = _ChebTable(lambda l, j=j: _h_function(l, a0, d, j, True, 1, n), l_lo, l_hi)
        Hp = _ChebTable(lambda l, j=j: _h_function(l, a0, d, j, False, -1, n), l_lo, l_hi)
        if K == 2:
            A = co["v0"] * float(np.dot(w, H(a1 * x)))
            B = co["v1"] * float(np.dot(w, x * Hp(a1 * x)))
        else:
            A = B = 0.0
            step = max(1, 400_000 // x.size)
            for r0 in range(0, x.size, step):
                x1, x2 = x[r0:r0 + step, None], x[None, :]
                ww = w[r0:r0 + step, None] * w[None, :]
                ls = np.logaddexp(a1 * x1, a1 * x2)
                A += float(np.sum(ww * H(ls)))
                logC = np.logaddexp(0.0, a1 * (x2 - x1))
                B += float(np.sum(ww * x1 * np.exp(-j * logC) * Hp(a1 * x1 + logC)))
            A *= co["v0"]
            B *= co["v1"]
        res.append((A, B))
    return res[0][0], res[1][0], res[0][1], res[1][1]


def moments_ref(s: float, K: int, d: int, delta: float, input: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(A1, A2, B1, B2)`` and their estimated absolute errors at one ``sigma``."""
    if K not in (2, 3):
        raise ValueError("reference implemented for K = 2 and K = 3")
    with np.errstate(under="ignore"):  # negligible terms underflow to zero
        lo = np.array(_moments_once(s, K, d, delta, input, 12))
        hi = np.array(_moments_once(s, K, d, delta, input, 16))
    co = coefficients(s, delta, input)
    scale = np.array([co["v0"], co["v0"], co["v1"], co["v1"]]) * d
    return hi, np.abs(hi - lo) + REF_ROUNDING * np.abs(hi) + REF_TRUNCATION * scale


def snr_ref(s: float, K: int, d: int, delta: float, input: str) -> tuple[float, float]:
    """Reference ``E[N]/E[D]`` and its estimated absolute error."""
    co = coefficients(s, delta, input)
    (A1, A2, B1, B2), err = moments_ref(s, K, d, delta, input)
    xi, c = co["xi"], co["c"]
    EN = xi * xi * co["v0"] * d + 2 * xi * c * A1 + c * c * A2
    ED = (K - 1) * (xi * xi * co["v1"] * d + 2 * xi * c * B1 + c * c * B2)
    eN = 2 * xi * c * err[0] + c * c * err[1]
    eD = (K - 1) * (2 * xi * c * err[2] + c * c * err[3])
    snr = EN / ED
    return snr, snr * (eN / EN + eD / ED)


def mp_moments_k2(s: float, d: int, delta: float, input: str, dps: int = 25, degree: int = 5
                  ) -> tuple[float, float, float, float]:
    """High-precision ``(A1, A2, B1, B2)`` at ``K = 2`` with mpmath (``dps`` digits).

    ``A_j = v0 E[X0 sig_j(a0 X0 - a1 X1)]``, ``B_j = v1 E[X1 sig_j(a1 X1 - a0 X0)]`` as
    tensor Gauss-Legendre sums (``3 * 2^(degree-1)`` mpmath nodes per panel) on panels in
    ``x``: the outer ``x1`` panels at chi-square quantiles, the inner ``x0`` panels also
    at the logit transition ``a0 x0 = a1 x1 (+- 2, 6, 20, 60)``.  Slow (about a minute);
    used to validate :func:`moments_ref` independently of double precision.
    """
    import mpmath as mp

    with mp.workdps(dps):
        S, D2 = mp.mpf(s) ** 2, mp.mpf(delta) ** 2
        kappa = (1 - D2) / (2 * (1 + S) * (D2 + S))
        v0, v1 = ((1 + S), (D2 + S)) if input == "noisy" else (mp.mpf(1), D2)
        a0, a1 = kappa * v0, kappa * v1
        hd = mp.mpf(d) / 2
        lnorm = -hd * mp.log(2) - mp.loggamma(hd)
        gl = mp.calculus.quadrature.GaussLegendre(mp.mp)
        nodes = gl.calc_nodes(degree, mp.mp.prec)  # [(t, w)] on [-1, 1]
        qs = [mp.mpf(2 * sc.gammaincinv(d / 2, p)) for p in (1e-30, 1e-8, 0.01, 0.2, 0.5, 0.8)]
        qs += [mp.mpf(2 * sc.gammainccinv(d / 2, p)) for p in (0.01, 1e-8, 1e-30)]
        xhi = qs[-1]

        def panels(extra):
            pts = sorted({p for p in [mp.mpf(0), *qs, *extra] if 0 <= p <= xhi})
            out = []
            for lo, hi in itertools.pairwise(pts):
                # z = sqrt(x) inside each panel: smooth chi density near x = 0
                zl, zh = mp.sqrt(lo), mp.sqrt(hi)
                for t, w in nodes:
                    z = (zl + zh) / 2 + (zh - zl) / 2 * t
                    out.append((z * z, w * (zh - zl) / 2 * 2 * z))
            return out

        def f(x):
            return mp.exp((hd - 1) * mp.log(x) - x / 2 + lnorm) if x > 0 else mp.mpf(0)

        def sig(y, j):
            return (1 + mp.exp(-y)) ** (-j) if y >= 0 else mp.exp(j * y) / (1 + mp.exp(y)) ** j

        acc = [mp.mpf(0)] * 4
        for x1, w1 in panels([]):
            fx1 = f(x1) * w1
            if fx1 == 0:
                continue
            centre = a1 * x1 / a0
            inner = panels([centre + k / a0 for k in (-60, -20, -6, -2, 0, 2, 6, 20, 60)])
            sA = [mp.mpf(0), mp.mpf(0)]
            sB = [mp.mpf(0), mp.mpf(0)]
            for x0, w0 in inner:
                fw = f(x0) * w0
                if fw == 0:
                    continue
                y = a0 * x0 - a1 * x1
                for j in (1, 2):
                    sA[j - 1] += fw * x0 * sig(y, j)
                    sB[j - 1] += fw * sig(-y, j)
            acc[0] += fx1 * sA[0]
            acc[1] += fx1 * sA[1]
            acc[2] += fx1 * x1 * sB[0]
            acc[3] += fx1 * x1 * sB[1]
        return (float(v0 * acc[0]), float(v0 * acc[1]), float(v1 * acc[2]), float(v1 * acc[3]))


def random_settings(n: int, seed: int) -> list[tuple[float, int, int, float, str]]:
    """``n`` random ``(sigma, K, d, delta, input)``: K in {2, 3}, log-uniform d in [1, 512]
    and sigma in [1e-3, 1e2], uniform delta in [0.02, 0.98], both inputs."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        K = int(rng.choice([2, 3]))
        d = min(max(round(math.exp(rng.uniform(0, math.log(512)))), 1), 512)
        delta = float(rng.uniform(0.02, 0.98))
        sigma = float(10 ** rng.uniform(-3, 2))
        inp = str(rng.choice(["noisy", "clean"]))
        out.append((sigma, K, d, delta, inp))
    return out


if __name__ == "__main__":  # python reference.py N SEED OUT.json
    import json
    import sys

    n, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rows = []
    for s, K, d, delta, inp in random_settings(n, seed):
        value, err = snr_ref(s, K, d, delta, inp)
        rows.append(dict(sigma=s, K=K, d=d, delta=delta, input=inp, ref=value, ref_err=err))
        print(json.dumps(rows[-1]), flush=True)
    with open(path, "w") as fh:
        json.dump(rows, fh, indent=0)
