"""The numerical tests that run on ``array_api_strict``, on CuPy (``python -m pytest -m gpu``).

Marked ``gpu``; every test is collected everywhere and skipped (with the reason) where
CuPy is missing or sees no CUDA device, so ``pytest -m gpu`` exits 0 on a CPU machine.

* Monte Carlo (random; CuPy's generator differs from NumPy's): agreement in
  distribution -- with the exact SNR (quadrature) for the idealised model, with the NumPy
  estimate otherwise -- judged against :func:`tests.conftest.family_z` (family-wise 1%).
* Deterministic code (posterior mean, DAE, empirical denoiser, softmax, the generated
  theory functions, quadrature): the same numbers as NumPy up to floating-point rounding
  (float64 1e-12 relative, float32 1e-5; GPU math libraries and summation orders differ
  from NumPy's in the last bits, so bitwise equality is not expected).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import molrg
from tests.conftest import family_z

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cp() -> Any:
    """The ``cupy`` module, or a skip saying why there is none to test."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install 'molrg[gpu]')")
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, wrong CUDA wheel
        pytest.skip(f"CuPy cannot reach a GPU: {exc!r}")
    if count < 1:
        pytest.skip("CuPy sees no CUDA device")
    return cupy


def host(x: Any) -> np.ndarray:
    """A NumPy copy of an array of any namespace (CuPy arrays via ``.get()``)."""
    return np.asarray(x.get()) if hasattr(x, "get") and not isinstance(x, np.ndarray) else np.asarray(x)


def is_cupy(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "cupy"


def mc(simulator: str, **options: Any) -> molrg.MonteCarlo:
    return molrg.MonteCarlo(simulator=simulator, **options)  # type: ignore[arg-type]


def z_scores(a: molrg.SNRResult, b: molrg.SNRResult) -> np.ndarray:
    return (a.estimate - b.estimate) / np.sqrt(a.stderr**2 + b.stderr**2)


def tolerance(dtype: str) -> float:
    return 1e-12 if dtype == "float64" else 1e-5


# ---------------------------------------------------------------------------------------
# Monte Carlo: agreement in distribution
# ---------------------------------------------------------------------------------------
SIGMA = np.geomspace(0.05, 3.0, 6)
# 6 sigmas x 2 simulators x 2 dtypes x 2 inputs, family-wise 1%
Z_EXACT = family_z(comparisons_per_example=6 * 2 * 2 * 2)


@pytest.mark.parametrize("input", ["noisy", "clean"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("simulator", ["reduced", "ambient"])
def test_monte_carlo_on_cupy_agrees_with_the_exact_snr(cp, simulator: str, dtype: str,
                                                       input: str) -> None:
    model = molrg.MoLRG(3, 5, 50, 0.2)
    samples = 400_000 if simulator == "reduced" else 120_000
    res = molrg.snr(model, SIGMA, input=input,
                    method=mc(simulator, samples=samples, seed=3, dtype=dtype, backend="cupy"))
    exact = molrg.snr(model.setting, SIGMA, input=input, method="quadrature")
    assert isinstance(res.method, molrg.MonteCarlo) and res.method.backend == "cupy"
    assert res.n_samples > 0
    assert isinstance(res.estimate, np.ndarray) and res.estimate.dtype == np.float64
    assert np.all(np.isfinite(res.estimate)) and np.all(res.stderr > 0)
    z = (res.estimate - exact.estimate) / res.stderr
    assert np.max(np.abs(z)) < Z_EXACT, (z, Z_EXACT)


def _perturbed_dae(model: molrg.MoLRG, eta: float = 0.3) -> molrg.DAE:
    """A DAE whose orthonormal basis is the model's tilted out of ``span(U)`` (so the
    ``complement`` and ``others`` denominators differ)."""
    rng = np.random.default_rng(7)
    q, rr = np.linalg.qr(model.basis + eta * rng.standard_normal(model.basis.shape)
                         / np.sqrt(model.n))
    return molrg.DAE(q * np.sign(np.diag(rr)), model.K, model.delta)


def _case(name: str) -> tuple[Any, dict[str, Any], int]:
    """(model, snr keywords, samples) of a distributional comparison CuPy vs NumPy."""
    molrg_model = molrg.MoLRG(3, 4, 40, 0.3, seed=2)
    if name == "mixture overlapping+means":
        model = molrg.LowRankMixture.two_subspaces(40, 4, 30.0, delta=0.2, weights=[0.7, 0.3],
                                                   means=np.full((2, 40), 0.1), seed=1)
        return model, {}, 40_000
    if name == "mixture unequal ranks":
        return molrg.LowRankMixture.unequal_ranks(40, (6, 2, 3), 0.2, seed=1), {}, 40_000
    if name == "dae complement":
        return molrg_model, {"denoiser": _perturbed_dae(molrg_model),
                             "denominator": "complement"}, 60_000
    if name == "mean-of-ratios":
        return molrg_model, {"estimand": "mean-of-ratios"}, 60_000
    if name == "empirical denoiser":
        points, _ = molrg_model.sample(300, 5)
        return molrg_model, {"denoiser": molrg.EmpiricalDenoiser(points)}, 6_000
    raise AssertionError(name)


CASES = ["mixture overlapping+means", "mixture unequal ranks", "dae complement",
         "mean-of-ratios", "empirical denoiser"]
# 6 sigmas x 5 cases x 2 dtypes (+ per-class) -- family-wise 1% over the estimates
Z_NUMPY = family_z(comparisons_per_example=6 * len(CASES) * 2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", CASES)
def test_ambient_on_cupy_agrees_with_numpy_in_distribution(cp, name: str, dtype: str) -> None:
    model, kw, samples = _case(name)
    method = mc("ambient", samples=samples, seed=11, dtype=dtype)
    a = molrg.snr(model, SIGMA, method=method, **kw)
    b = molrg.snr(model, SIGMA, method=method.replace(backend="cupy", seed=12), **kw)
    assert isinstance(b.method, molrg.MonteCarlo) and b.method.backend == "cupy"
    assert np.all(np.isfinite(b.estimate))
    z = z_scores(a, b)
    assert np.max(np.abs(z)) < Z_NUMPY, (z, Z_NUMPY)


def test_sampling_on_cupy_has_the_model_law(cp) -> None:
    """Clean samples on the device: namespace, dtype, shapes, class frequencies and the
    per-class subspace energies ``E||U_l^T x0||^2`` (``d`` own, ``delta^2 d`` others)."""
    K, d, n, delta, m = 3, 4, 30, 0.3, 300_000
    model = molrg.MoLRG(K, d, n, delta)
    z_max = family_z(comparisons_per_example=K + K * K)
    for dtype in ("float64", "float32"):
        x0, labels = model.sample(m, 1, xp="cupy", dtype=dtype)
        assert is_cupy(x0) and x0.shape == (m, n) and host(x0).dtype == np.dtype(dtype)
        assert is_cupy(labels) and labels.shape == (m,)
        x, lab = host(x0).astype(np.float64), host(labels)
        freq = np.bincount(lab, minlength=K) / m
        assert np.all(np.abs(freq - 1 / K) / np.sqrt((1 / K) * (1 - 1 / K) / m) < z_max)
        for k in range(K):
            energies = np.stack([np.sum((x[lab == k] @ model.block(l)) ** 2, axis=1)
                                 for l in range(K)])
            for l in range(K):
                scale = 1.0 if l == k else delta**2
                se = scale * np.sqrt(2 * d / energies.shape[1])
                assert abs(energies[l].mean() - scale * d) / se < z_max
    mixture = molrg.LowRankMixture.unequal_ranks(12, (3, 1), 0.2, weights=[0.6, 0.4],
                                                 means=np.ones((2, 12)), seed=0)
    x0, labels = mixture.sample(1000, 3, xp="cupy", dtype="float32")
    assert is_cupy(x0) and x0.shape == (1000, 12) and labels.shape == (1000,)
    xk = mixture.sample_class(1, 7, 3, xp="cupy", dtype="float64")
    assert is_cupy(xk) and xk.shape == (7, 12)


# ---------------------------------------------------------------------------------------
# Deterministic code: the same numbers as NumPy (up to rounding)
# ---------------------------------------------------------------------------------------
def _noisy(model: Any, m: int, sigma: float, seed: int) -> np.ndarray:
    x0, _ = model.sample(m, seed)
    return x0 + sigma * np.random.default_rng(seed + 1).standard_normal(x0.shape)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_posterior_mean_on_cupy_matches_numpy(cp, dtype: str) -> None:
    from molrg.posterior import posterior_and_weights

    rng = np.random.default_rng(5)
    models = [molrg.MoLRG(4, 3, 20, 0.3),
              molrg.LowRankMixture.from_molrg(3, 2, 10, 0.3, seed=1),
              molrg.LowRankMixture.two_subspaces(10, 2, 40.0, delta=0.1, weights=[0.6, 0.4],
                                                 means=rng.standard_normal((2, 10)), seed=2)]
    tol = tolerance(dtype)
    for model in models:
        x = _noisy(model, 700, 0.2, 7).astype(dtype)
        ref = np.asarray(molrg.posterior_mean(model, x, 0.2))
        got = molrg.posterior_mean(model, cp.asarray(x), 0.2)
        assert is_cupy(got) and host(got).dtype == np.dtype(dtype)
        np.testing.assert_allclose(host(got), ref, rtol=0, atol=tol * max(1.0, np.abs(ref).max()))
        if isinstance(model, molrg.LowRankMixture):  # several sample chunks on the device
            xm, wm = posterior_and_weights(model, cp.asarray(x), 0.2, memory_budget=1 << 16)
            xr, wr = posterior_and_weights(model, x, 0.2)
            np.testing.assert_allclose(host(xm), xr, rtol=0, atol=tol * max(1.0, np.abs(xr).max()))
            np.testing.assert_allclose(host(wm), wr, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dae_and_features_on_cupy_match_numpy(cp, dtype: str) -> None:
    model = molrg.MoLRG(3, 4, 24, 0.3)
    dae = _perturbed_dae(model)
    x = _noisy(model, 50, 0.4, 3).astype(dtype)
    tol = tolerance(dtype)
    for fn in (dae, dae.features):
        ref = np.asarray(fn(x, 0.4))
        got = fn(cp.asarray(x), 0.4)
        assert is_cupy(got) and host(got).dtype == np.dtype(dtype)
        np.testing.assert_allclose(host(got), ref, rtol=0, atol=tol * max(1.0, np.abs(ref).max()))
    basis = cp.asarray(dae.basis, dtype=dtype)
    got = molrg.dae(cp.asarray(x), 0.4, basis=basis, K=3, delta=0.3)
    ref = molrg.dae(x, 0.4, basis=dae.basis.astype(dtype), K=3, delta=0.3)
    np.testing.assert_allclose(host(got), ref, rtol=0, atol=tol * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_empirical_denoiser_on_cupy_matches_numpy(cp, dtype: str) -> None:
    rng = np.random.default_rng(3)
    model = molrg.MoLRG(3, 2, 6, 0.3)
    points, _ = model.sample(41, 2)
    x = rng.standard_normal((13, 6)).astype(dtype)
    tol = tolerance(dtype)
    ref = molrg.EmpiricalDenoiser(points, chunk_points=8, memory_budget=2048)(x, 0.8)
    # points in NumPy, input on the device (one converted, cached copy) ...
    den = molrg.EmpiricalDenoiser(points, chunk_points=8, memory_budget=2048)
    got = den(cp.asarray(x), 0.8)
    assert is_cupy(got) and host(got).dtype == np.dtype(dtype)
    np.testing.assert_allclose(host(got), ref, rtol=0, atol=tol)
    # ... everything on the device, several sample and point chunks ...
    den_d = molrg.EmpiricalDenoiser(cp.asarray(points), chunk_points=8, memory_budget=2048)
    np.testing.assert_allclose(host(den_d(cp.asarray(x), 0.8)), ref, rtol=0, atol=tol)
    # ... and in the coordinates of a basis spanning the points
    den_b = molrg.EmpiricalDenoiser(points, basis=model.basis)
    np.testing.assert_allclose(host(den_b(cp.asarray(x), 0.8)), den_b(x, 0.8), rtol=0, atol=tol)


def test_empirical_denoiser_default_budget_scales_with_the_device(cp) -> None:
    points = cp.asarray(np.random.default_rng(6).standard_normal((64, 8)))
    den = molrg.EmpiricalDenoiser(points)
    total = cp.cuda.Device().mem_info[1]
    assert den.budget() == max(128 << 20, total // 16)
    assert den.budget(np) == 128 << 20  # a host call keeps the host default


def test_softmax_on_cupy_matches_numpy(cp) -> None:
    logits = np.array([[1e300, 1e300, 0.0], [800.0, 799.0, -800.0], [0.1, 0.2, 0.3]])
    got = molrg.softmax_weights(cp.asarray(logits))
    assert is_cupy(got)
    np.testing.assert_allclose(host(got), np.asarray(molrg.softmax_weights(logits)), rtol=1e-15,
                               atol=1e-300)


def test_generated_functions_on_cupy_match_numpy(cp) -> None:
    """Every generated function that runs on the array API, on CuPy (no NumPy-only call)."""
    import array_api_compat.cupy as xcp
    import array_api_compat.numpy as xnp

    from molrg import _generated as gen
    from tests.test_generated import ENTRIES, VALUES, _domain

    for entry in (e for e in ENTRIES if not e.numpy_only):
        ok = _domain(entry)
        args = [VALUES[str(a)][ok] for a in entry.args]
        want = np.asarray(getattr(gen, entry.name)(xnp, *args))
        got = getattr(gen, entry.name)(xcp, *(cp.asarray(a) for a in args))
        if entry.args:
            assert is_cupy(got), entry.name
        np.testing.assert_allclose(host(got), want, rtol=1e-12, atol=1e-300, err_msg=entry.name)


def test_theory_keeps_cupy_arrays_on_the_device(cp) -> None:
    s = molrg.Setting(3, 5, 0.2)
    sigma = np.array([0.1, 0.3, 2.0])
    for fn in (molrg.approx_snr, molrg.margin, molrg.dlogsnr_dlogsigma):
        for form in ("printed", "derived"):
            got = fn(cp.asarray(sigma), s, form=form)
            assert is_cupy(got), fn.__name__
            np.testing.assert_allclose(host(got), fn(sigma, s, form=form), rtol=1e-12)


def test_quadrature_accepts_device_sigma_with_the_same_numbers(cp) -> None:
    """Quadrature is host-only (NumPy/SciPy); a CuPy ``sigma`` is copied to the host."""
    sigma = np.geomspace(0.05, 3.0, 7)
    s = molrg.Setting(3, 5, 0.2)
    a = molrg.snr(s, sigma, method="quadrature")
    b = molrg.snr(s, cp.asarray(sigma), method="quadrature")
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.stderr, b.stderr)


def test_probe_accuracy_on_cupy_agrees_with_numpy(cp) -> None:
    from molrg import probe_accuracy

    model = molrg.MoLRG(2, 3, 8, 0.3, seed=1)
    z_max = family_z(comparisons_per_example=2 * 2)
    for probe in ("bayes", "energy"):
        mc = molrg.MonteCarlo(simulator="ambient", samples=20_000, seed=4)
        a = probe_accuracy(model, [0.2, 1.0], probe=probe, method=mc)
        b = probe_accuracy(model, [0.2, 1.0], probe=probe, method=mc.replace(seed=5, backend="cupy"))
        se = np.sqrt(np.asarray(a.stderr) ** 2 + np.asarray(b.stderr) ** 2)
        assert np.all(np.abs(np.asarray(a.estimate) - np.asarray(b.estimate)) < z_max * se)
