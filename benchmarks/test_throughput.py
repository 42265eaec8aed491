"""Throughput of molrg's SNR evaluators against baselines of the same run (pytest-benchmark).

Run: ``python -m pytest benchmarks --benchmark-only`` (about 5 minutes on 2 cores); the
acceptance checks of issues 9, 11 and 13 are printed at the end and written, with every
timing, to ``benchmarks/results/latest.json``.  ``--benchmark-disable`` (CI) runs each
benchmark once at tiny sizes.  Every comparison is interleaved (``race`` in conftest.py);
nothing is asserted on a timing.  Public API only.

Groups
------
``issue9 curve <setting>``
    A 200-point sigma curve (1e-2..1e1): quadrature (``method="quadrature"``, a setting not
    evaluated before in the process, so no cache of the evaluator helps) against the
    reduced Monte Carlo at 1e5 samples per sigma (~1e-3 relative precision).
``issue9 K <setting>``
    The same curve by quadrature at ``K = 10^4`` and at ``K = 3``.
``issue11 mixture <kind>``
    Ambient SNR of a general :class:`molrg.LowRankMixture` at ``(n, K, d) = (16384, 16,
    32)`` (its optimal denoiser) against its floor: the ``n``-dimensional noise, same
    generator, dtype and batch, projected on the span of the bases and means.
``issue11 empirical <dtype>``
    :class:`molrg.EmpiricalDenoiser` at ``N = 10^4`` points, ``n = 1024`` on 256 inputs
    against its two GEMMs on the same sizes; and the ambient SNR with it, per sample.
``scaling <model> ambient``
    Ambient cost per sample at ``n`` = 1024 .. 131072 (``K = 8, d = 16``); the conftest fits
    the exponent of cost vs ``n``.
``n=<n>,K=<K>,d=<d>,<dtype>,<backend>``
    The idealised MoLRG: ambient vs its floor, the reduced simulator and (``n <= 1024``,
    float64) the dense ``n x n`` baselines.  CuPy cases are added where a GPU is usable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest

import molrg
from benchmarks.baselines import (
    DenseBatched,
    DenseNaive,
    ambient_floor,
    cupy_usable,
    gemm_floor,
    span_basis,
    sync,
)
from benchmarks.conftest import ISSUE9_SETTINGS

BACKENDS = ["numpy"] + (["cupy"] if cupy_usable() else [])
SIGMA = 0.5


def _batch(result: molrg.SNRResult) -> int:
    """The rows per batch a Monte Carlo result was simulated with (its resolved method)."""
    method = result.method
    assert isinstance(method, molrg.MonteCarlo) and method.batch is not None
    return int(method.batch)


def _snr_call(model: Any, method: molrg.MonteCarlo) -> Callable[[], Any]:
    return lambda: molrg.snr(model, SIGMA, method=method)


def _parse(setting: str) -> dict[str, Any]:
    """``"K=3,d=5,delta=0.2"`` -> ``{"K": 3, "d": 5, "delta": 0.2}``."""
    out: dict[str, Any] = {}
    for part in setting.split(","):
        key, value = part.split("=")
        out[key] = float(value) if key == "delta" else int(value)
    return out


# ---------------------------------------------------------------------------------------
# Issue 9: the exact evaluator
# ---------------------------------------------------------------------------------------
CURVE = np.geomspace(1e-2, 1e1, 200)
MC_SAMPLES = 100_000
_fresh = itertools.count(1)


def _fresh_setting(K: int, d: int, delta: float) -> molrg.Setting:
    """A setting not evaluated before in this process (``delta`` moved by a relative 1e-9):
    the quadrature's caches keyed on the parameters miss, as at a new point of a map."""
    return molrg.Setting(K, d, delta * (1.0 + 1e-9 * next(_fresh)))


def _fast_rule() -> molrg.Quadrature | None:
    """``molrg.Quadrature(rule="fast")`` where the evaluator offers it (else None)."""
    try:
        return molrg.Quadrature(rule="fast")  # type: ignore[call-arg]
    except (TypeError, ValueError):
        return None


@pytest.mark.parametrize("setting", ISSUE9_SETTINGS)
def test_issue9_quadrature_curve_vs_reduced_monte_carlo(race, smoke, setting: str) -> None:
    p = _parse(setting)
    sigma = CURVE[::40] if smoke else CURVE
    mc = molrg.MonteCarlo("reduced", samples=200 if smoke else MC_SAMPLES, seed=1)
    fixed = molrg.Setting(**p)
    baselines: dict[str, Callable[[], Any]] = {
        "reduced MC 1e5/sigma": lambda: molrg.snr(fixed, sigma, method=mc)}
    fast = _fast_rule()
    if fast is not None:
        baselines["quadrature rule=fast"] = lambda: molrg.snr(_fresh_setting(**p), sigma,
                                                              method=fast)
    race(f"issue9 curve {setting}",
         ("quadrature", lambda: molrg.snr(_fresh_setting(**p), sigma, method="quadrature")),
         baselines, units=sigma.size, unit="sigma_points")


@pytest.mark.parametrize("setting", ["d=5,delta=0.2", "d=512,delta=0.2"])
def test_issue9_quadrature_cost_does_not_grow_with_K(race, smoke, setting: str) -> None:
    p = _parse(setting)
    sigma = CURVE[::40] if smoke else CURVE
    race(f"issue9 K {setting}",
         ("K=10000", lambda: molrg.snr(_fresh_setting(10_000, **p), sigma, method="quadrature")),
         {"K=3": lambda: molrg.snr(_fresh_setting(3, **p), sigma, method="quadrature")},
         units=sigma.size, unit="sigma_points")


# ---------------------------------------------------------------------------------------
# Issue 11: general mixtures, the empirical denoiser, cost linear in n
# ---------------------------------------------------------------------------------------
def mixture(kind: str, n: int, K: int, d: int, seed: int = 0) -> molrg.LowRankMixture:
    """A general mixture of ``K`` classes of mean rank ``d`` in ``R^n``, unequal weights.

    ``unequal-ranks``: mutually orthogonal subspaces of ranks ``d/2, 3d/2, ...``, no means.
    ``overlapping+means``: ``U_k = cos(30 deg) Q_k + sin(30 deg) Q_{k+1}`` for consecutive
    blocks ``Q_k`` of a Haar basis (neighbouring subspaces overlap), ``delta = 0.3`` and
    random class means of norm ~2 (outside the subspaces).
    """
    weights = np.linspace(1.0, 2.0, K)
    weights /= weights.sum()
    if kind == "unequal-ranks":
        ranks = [max(1, d // 2), d + d - max(1, d // 2)] * (K // 2)
        return molrg.LowRankMixture.unequal_ranks(n, ranks, 0.3, weights=weights, seed=seed)
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, (K + 1) * d)))
    theta = np.deg2rad(30.0)
    bases = [np.cos(theta) * q[:, k * d:(k + 1) * d] + np.sin(theta) * q[:, (k + 1) * d:(k + 2) * d]
             for k in range(K)]
    means = 2.0 * rng.standard_normal((K, n)) / np.sqrt(n)
    return molrg.LowRankMixture(bases, delta=0.3, weights=weights, means=means)


@pytest.mark.parametrize("kind", ["unequal-ranks", "overlapping+means"])
def test_issue11_mixture_ambient_vs_floor(race, smoke, kind: str) -> None:
    n, K, d = (256, 4, 8) if smoke else (16384, 16, 32)
    model = mixture(kind, n, K, d)
    mc = molrg.MonteCarlo("ambient", samples=4 * K if smoke else 1024, seed=1)
    first = molrg.snr(model, SIGMA, method=mc)  # one-off set-up (span basis, posterior structure)
    floor = ambient_floor(span_basis(model), rows=_batch(first), total=first.n_samples)
    race(f"issue11 mixture {kind}", ("ambient", lambda: molrg.snr(model, SIGMA, method=mc)),
         {"floor": floor}, units=first.n_samples, unit="samples")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_issue11_empirical_denoiser_vs_gemm_floor(race, smoke, dtype: str) -> None:
    N, n, m = (300, 64, 32) if smoke else (10_000, 1024, 256)
    model = molrg.MoLRG(10, 4 if smoke else 16, n, 0.3)
    points, _ = model.sample(N, 0, dtype=dtype)
    x0, _ = model.sample(m, 1, dtype=dtype)
    x = x0 + (SIGMA * np.random.default_rng(2).standard_normal(x0.shape)).astype(dtype)
    den = molrg.EmpiricalDenoiser(points)
    samples = 10 * max(2, m // 10)
    mc = molrg.MonteCarlo("ambient", samples=samples, seed=1, dtype=dtype)
    race(f"issue11 empirical {dtype}", ("denoiser", lambda: den(x, SIGMA)),
         {"GEMM floor": gemm_floor(x, points),
          "snr(denoiser=EmpiricalDenoiser)": lambda: molrg.snr(model, SIGMA, denoiser=den,
                                                               method=mc)},
         units={"denoiser": m, "GEMM floor": m, "snr(denoiser=EmpiricalDenoiser)": samples},
         unit="samples")


SCALING_N = (1024, 4096, 16384, 65536, 131072)


@pytest.mark.parametrize("which", ["MoLRG", "mixture"])
def test_ambient_cost_is_linear_in_n(race, smoke, which: str) -> None:
    K, d = 8, 16
    ns = (256, 1024) if smoke else SCALING_N
    runs: dict[str, Callable[[], Any]] = {}
    units: dict[str, float] = {}
    for n in ns:
        model = (molrg.MoLRG(K, d, n, 0.3) if which == "MoLRG"
                 else mixture("unequal-ranks", n, K, d))
        samples = 2 * K if smoke else int(np.clip(2**23 // n, 512, 8192))
        mc = molrg.MonteCarlo("ambient", samples=samples, seed=1)
        runs[f"n={n}"] = _snr_call(model, mc)
        units[f"n={n}"] = samples
    last = f"n={ns[-1]}"
    candidate = runs.pop(last)
    race(f"scaling {which} ambient", (last, candidate), runs, units=units, unit="samples",
         rounds=2 if not smoke else 1)


# ---------------------------------------------------------------------------------------
# The idealised MoLRG: ambient vs floor, reduced and dense baselines (issue 6's points)
# ---------------------------------------------------------------------------------------
CONFIGS = [(64, 4, 8), (1024, 10, 16), (16384, 16, 32)]
DTYPES = ["float64", "float32"]
# samples per timed call, chosen so a call takes ~0.05-0.5 s on 2 CPU cores
AMBIENT_SAMPLES = {64: 40_000, 1024: 8_000, 16384: 1024}
REDUCED_SAMPLES = 400_000
DENSE_SAMPLES = {64: 2_000, 1024: 40}
DENSE_BATCHED_SAMPLES = {64: 8_000, 1024: 400}


def _key(n: int, K: int, d: int, dtype: str, backend: str) -> str:
    return f"n={n},K={K},d={d},{dtype},{backend}"


def _params() -> list:
    return [pytest.param(n, K, d, dt, be, id=_key(n, K, d, dt, be))
            for (n, K, d) in CONFIGS for dt in DTYPES for be in BACKENDS]


@pytest.mark.parametrize(("n", "K", "d", "dtype", "backend"), _params())
def test_idealised_ambient_vs_floor_reduced_and_dense(race, smoke, n: int, K: int, d: int,
                                                      dtype: str, backend: str) -> None:
    n_run = min(n, max(256, K * d)) if smoke else n
    model = molrg.MoLRG(K, d, n_run, 0.3)
    samples = 2 * K if smoke else AMBIENT_SAMPLES[n]
    reduced = 10 if smoke else REDUCED_SAMPLES
    mc = molrg.MonteCarlo("ambient", samples=samples, seed=1, dtype=dtype, backend=backend)
    first = molrg.snr(model, SIGMA, method=mc)
    baselines: dict[str, Callable[[], Any]] = {
        "floor": ambient_floor(model.basis, rows=_batch(first), total=first.n_samples,
                               backend=backend, dtype=dtype),
        "reduced": lambda: molrg.snr(model, SIGMA, method=mc.replace(simulator="reduced",
                                                                    samples=reduced)),
    }
    units = {"ambient": first.n_samples, "floor": first.n_samples, "reduced": reduced}
    if dtype == "float64" and backend == "numpy" and n <= 1024 and (not smoke or n == 64):
        rng = np.random.default_rng(1)
        for name, cls, counts in (("dense_naive", DenseNaive, DENSE_SAMPLES),
                                  ("dense_batched", DenseBatched, DENSE_BATCHED_SAMPLES)):
            impl = cls(model, SIGMA)  # the one-off dense set-up, not timed
            count = 2 * K if smoke else counts[n]
            baselines[name] = partial(impl.run, count, rng)
            units[name] = count
    race(_key(n, K, d, dtype, backend), ("ambient", lambda: molrg.snr(model, SIGMA, method=mc)),
         baselines, units=units, unit="samples", sync=lambda: sync(backend))


def test_dense_baselines_compute_the_same_snr() -> None:
    """The dense baselines estimate the same quantity (the ratios compare like with like)."""
    model = molrg.MoLRG(3, 2, 12, 0.3)
    ours = molrg.snr(model, SIGMA, method=molrg.MonteCarlo("ambient", samples=30_000, seed=1))
    for cls, samples in ((DenseNaive, 3000), (DenseBatched, 30_000)):
        value = cls(model, SIGMA).run(samples, np.random.default_rng(2))
        assert abs(value - float(ours.estimate)) < 0.05 * float(ours.estimate)


def test_floors_have_the_shapes_of_the_work_they_stand_for() -> None:
    model = mixture("overlapping+means", 96, 2, 4)
    q = span_basis(model)
    assert q.shape == (96, 2 * 4 + 2)  # the two rank-4 bases and the two means
    np.testing.assert_allclose(q.T @ q, np.eye(q.shape[1]), atol=1e-12)
    assert ambient_floor(q, rows=5, total=12)().shape == (2, q.shape[1])
    x, p = np.ones((3, 4)), np.ones((7, 4))
    logits, acc = gemm_floor(x, p)()
    assert logits.shape == (3, 7) and acc.shape == (3, 4)


# ---------------------------------------------------------------------------------------
# The lambdified theory (issue 3)
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("name", ["approx_snr", "dlogsnr_dlogsigma"])
def test_lambdified_theory_on_a_million_sigmas(benchmark, smoke, name: str, input: str) -> None:
    """Theorem 1's generated expressions on 10**6 noise levels (NumPy)."""
    fn = getattr(molrg, name)
    setting = molrg.Setting(3, 5, 0.2)
    sigma = np.geomspace(1e-4, 1e3, 1000 if smoke else 10**6)
    fn(sigma[:10], setting, input=input)
    benchmark.group = "lambdified theory, 10**6 sigma values"
    out = benchmark.pedantic(fn, args=(sigma, setting), kwargs={"input": input}, rounds=5,
                             iterations=1)
    assert out.shape == sigma.shape and np.all(np.isfinite(out))
