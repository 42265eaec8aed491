"""``molrg.TorchDenoiser``: a user's torch module as a Denoiser, against the same function in
NumPy; a module that misbehaves gets an error naming it, never a number."""

from __future__ import annotations

import numpy as np
import pytest

import molrg

torch = pytest.importorskip("torch")


class Shrink(torch.nn.Module):
    """``xhat = A x / (1 + sigma^2)`` -- a linear shrinkage with a fixed matrix."""

    def __init__(self, A: np.ndarray, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.A = torch.nn.Parameter(torch.as_tensor(A, dtype=dtype))

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return (x @ self.A.T) / (1 + s[:, None].to(x.dtype) ** 2)


def shrink_numpy(A: np.ndarray, x: np.ndarray, sigma: float) -> np.ndarray:
    return (x @ A.T) / (1 + sigma**2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptor_equals_the_numpy_function_in_batches_and_keeps_shape_and_dtype(dtype: str) -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    x = rng.standard_normal((3, 7, 6)).astype(dtype)
    den = molrg.TorchDenoiser(Shrink(A), batch=5)  # 21 rows: 5 batches, the last short
    out = den(x, 0.7)
    assert isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype == x.dtype
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(out, shrink_numpy(A, x.astype(np.float64), 0.7), rtol=tol, atol=tol)
    assert isinstance(den, molrg.Denoiser)


def test_adaptor_accepts_array_api_strict_and_read_only_arrays() -> None:
    xps = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal((9, 4))
    den = molrg.TorchDenoiser(Shrink(A))
    out = den(xps.asarray(x), 0.3)
    np.testing.assert_allclose(np.from_dlpack(out), shrink_numpy(A, x, 0.3), rtol=1e-13)
    x.setflags(write=False)
    np.testing.assert_allclose(den(x, 0.3), shrink_numpy(A, x, 0.3), rtol=1e-13)


def test_adaptor_ddpm_time_feeds_scaled_input_and_the_nearest_timestep() -> None:
    seen: dict[str, object] = {}

    class Probe(torch.nn.Module):
        def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            seen["x"], seen["t"] = x.clone(), t.clone()
            return x

    sched = molrg.DDPMSchedule()
    sigma = float(sched.sigmas[100])
    x = np.ones((2, 3))
    molrg.TorchDenoiser(Probe(), time="ddpm")(x, sigma * 1.001)
    assert seen["t"].dtype == torch.long and set(seen["t"].tolist()) == {100}
    np.testing.assert_allclose(seen["x"].numpy(), np.sqrt(sched.alpha_bar[100]), rtol=1e-12)


def test_adaptor_in_snr_matches_the_same_numpy_denoiser() -> None:
    model = molrg.MoLRG(2, 2, 6, 0.3, seed=3)
    A = model.basis @ model.basis.T * 0.8
    mc = molrg.MonteCarlo("ambient", samples=400, seed=5)
    a = molrg.snr(model, [0.2, 1.0], denoiser=molrg.TorchDenoiser(Shrink(A)), method=mc)
    b = molrg.snr(model, [0.2, 1.0], denoiser=lambda x, s: shrink_numpy(A, x, s), method=mc)
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-10)


class WrongShape(torch.nn.Module):
    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return x[:, :-1]


class MakesNaN(torch.nn.Module):
    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return x * float("nan")


class Raises(torch.nn.Module):
    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom inside the user's network")


class ReturnsList(torch.nn.Module):
    def forward(self, x: torch.Tensor, s: torch.Tensor) -> list[int]:
        return [1]


@pytest.mark.parametrize(("module", "words"), [
    (WrongShape(), "returned shape"),
    (MakesNaN(), "non-finite"),
    (Raises(), "raised RuntimeError: boom"),
    (ReturnsList(), "returned a list"),
])
def test_misbehaving_module_gets_an_error_naming_it_never_a_number(module: torch.nn.Module,
                                                                   words: str) -> None:
    den = molrg.TorchDenoiser(module)
    with pytest.raises(molrg.ParameterError, match=words) as info:
        den(np.zeros((4, 3)), 0.5)
    assert type(module).__name__ in str(info.value)
    model = molrg.MoLRG(2, 1, 3, 0.3)
    with pytest.raises(molrg.ParameterError, match=type(module).__name__):
        molrg.snr(model, 0.5, denoiser=den, method=molrg.MonteCarlo("ambient", samples=20))


def test_adaptor_rejects_a_non_module_and_bad_options() -> None:
    with pytest.raises(molrg.ParameterTypeError, match="module=function"):
        molrg.TorchDenoiser(lambda x, s: x)
    with pytest.raises(molrg.ParameterError, match="time="):
        molrg.TorchDenoiser(Raises(), time="t")
    with pytest.raises(molrg.ParameterError, match="batch="):
        molrg.TorchDenoiser(Raises(), batch=0)
    with pytest.raises(molrg.ParameterError, match="sigma"):
        molrg.TorchDenoiser(WrongShape())(np.zeros((2, 3)), -1.0)
