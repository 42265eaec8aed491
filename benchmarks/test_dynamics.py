"""Throughput of the backward dynamics (issue 23) against its floor (pytest-benchmark).

Run: ``python -m pytest benchmarks/test_dynamics.py --benchmark-only``.  Public API only;
nothing is asserted on a timing.

Groups
------
``issue23 <kind>``
    ``molrg.backward`` with the optimal denoiser of the Fig. 3 model (``K=3, d=5, n=50``),
    4096 trajectories, 64 steps (ODE: Heun, 127 denoiser calls; SDE: 64 calls and 64
    normal draws), against the floor: the same number of bare denoiser calls on the same
    array.  Unit: trajectory-steps per second.
``issue23 uturn``
    ``molrg.speciation_curve`` (12 start levels x 256 U-turns, SDE, 64 steps) against one
    ``molrg.backward`` pass of all 3072 trajectories from the highest level (what the
    shared ensemble saves: each start level would otherwise run its own pass).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import molrg


def _setup(smoke: bool) -> tuple[Any, Any, np.ndarray, int]:
    model = molrg.MoLRG(3, 5, 50, 0.2, seed=0)
    den = molrg.OptimalDenoiser(model)
    m = 64 if smoke else 4096
    x = np.random.default_rng(0).standard_normal((m, 50)) * 3.0
    return model, den, x, 4 if smoke else 64


@pytest.mark.parametrize("kind", ["ode", "sde"])
def test_backward(race: Any, smoke: bool, kind: str) -> None:
    _, den, x, steps = _setup(smoke)
    calls = 2 * steps - 1 if kind == "ode" else steps
    sampler = molrg.Sampler(kind, steps, 1e-3)

    def floor() -> None:
        for _ in range(calls):
            den(x, 0.5)

    race(f"issue23 {kind}", ("backward", lambda: molrg.backward(den, x, 3.0, sampler, seed=1)),
         {"denoiser calls": floor}, units=x.shape[0] * steps, unit="trajectory_steps")


def test_uturn_ensemble(race: Any, smoke: bool) -> None:
    model, den, _, steps = _setup(smoke)
    sigma = np.geomspace(0.03, 10.0, 12)
    per = 16 if smoke else 256
    sampler = molrg.Sampler("sde", steps, 1e-3)
    x = np.random.default_rng(1).standard_normal((12 * per, 50)) * 10.0

    race("issue23 uturn",
         ("speciation_curve", lambda: molrg.speciation_curve(model, sigma, sampler=sampler,
                                                             samples=per, seed=0)),
         {"one pass of all": lambda: molrg.backward(den, x, 10.0, sampler, seed=0)},
         units=12 * per, unit="uturns")
