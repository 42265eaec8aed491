"""The simulators' reused work buffers (NumPy) give bit-identical results to the generic
array-API path, which allocates fresh temporaries (issue 24, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

import molrg
from molrg import montecarlo

SIGMA = np.geomspace(1e-3, 1e3, 23)
CASES = {
    "default": ({}, {}),
    "clean": ({"input": "clean"}, {}),
    "mean-of-ratios": ({"estimand": "mean-of-ratios"}, {}),
    "float32": ({}, {"dtype": "float32"}),
    "many sigma chunks and parts": ({}, {"memory": 1 << 16, "samples": 4000}),
    "batches smaller than the budget": ({}, {"batch": 700, "memory": 1 << 17}),
}


def _snr(options: dict, mc: dict) -> molrg.SNRResult:
    method = molrg.MonteCarlo(**{"simulator": "reduced", "samples": 3000, "seed": 11, **mc})
    return molrg.snr(molrg.Setting(3, 5, 0.2), SIGMA, method=method, **options)


def _same_bits(a: molrg.SNRResult, b: molrg.SNRResult) -> None:
    for field in ("estimate", "stderr", "per_class", "per_class_stderr"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), field


@pytest.mark.parametrize("case", list(CASES))
def test_reduced_buffers_are_bit_identical_to_fresh_temporaries(case: str, monkeypatch) -> None:
    options, mc = CASES[case]
    assert montecarlo._reuses_buffers(np)
    fast = _snr(options, mc)
    monkeypatch.setattr(montecarlo, "_reuses_buffers", lambda xp: False)
    generic = _snr(options, mc)
    _same_bits(fast, generic)
    assert np.all(np.isfinite(fast.estimate))


def test_reduced_numpy_is_bit_identical_to_array_api_strict() -> None:
    """array_api_strict has no ``out=``: it takes the generic path."""
    pytest.importorskip("array_api_strict")
    import array_api_strict

    assert not montecarlo._reuses_buffers(array_api_strict)
    _same_bits(_snr({}, {}), _snr({}, {"backend": "array_api_strict"}))


def test_same_seed_same_bits_twice() -> None:
    _same_bits(_snr({}, {}), _snr({}, {}))


AMBIENT = {
    "default": ({}, {}),
    "clean": ({"input": "clean"}, {}),
    "mean-of-ratios, complement": ({"estimand": "mean-of-ratios",
                                    "denominator": "complement"}, {}),
    "float32": ({}, {"dtype": "float32"}),
    "many sigma chunks, a short last batch": ({}, {"memory": 1 << 16, "batch": 150}),
}


def _ambient(options: dict, mc: dict) -> molrg.SNRResult:
    model = molrg.MoLRG(n=40, K=3, d=4, delta=0.25, seed=3)
    method = molrg.MonteCarlo(**{"simulator": "ambient", "samples": 900, "seed": 5, **mc})
    return molrg.snr(model, SIGMA, method=method, **options)


@pytest.mark.parametrize("case", list(AMBIENT))
def test_ambient_buffers_are_bit_identical_to_fresh_temporaries(case: str, monkeypatch) -> None:
    options, mc = AMBIENT[case]
    fast = _ambient(options, mc)
    monkeypatch.setattr(montecarlo, "_reuses_buffers", lambda xp: False)
    generic = _ambient(options, mc)
    _same_bits(fast, generic)
    assert np.all(np.isfinite(fast.estimate))


def test_ambient_buffers_are_used(monkeypatch) -> None:
    """The fast path runs (a test of identity would pass vacuously otherwise)."""
    calls: list[int] = []
    real = montecarlo._AmbientBuffers.energies

    def spy(self, *args):
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(montecarlo._AmbientBuffers, "energies", spy)
    _ambient({}, {})
    assert calls


def test_reduced_buffers_are_used(monkeypatch) -> None:
    calls: list[int] = []
    real = montecarlo._ReducedBuffers.energies

    def spy(self, *args):
        calls.append(1)
        return real(self, *args)

    monkeypatch.setattr(montecarlo._ReducedBuffers, "energies", spy)
    _snr({}, {})
    assert calls
