"""Issue 24, acceptance (a): BLAS threads and the quadrature, on a busy machine.

A 200-point quadrature curve at ``K=3, d=5, delta=0.2`` with the library's *default*
thread settings (OpenBLAS: one thread per core; molrg limits its tiny products to one
thread itself, molrg/_threads.py) against the same curve with BLAS limited to one thread
for the whole call, and against the default threads with molrg's limiting turned off
(``MOLRG_BLAS_THREADS=0``: the behaviour before issue 24).  Interleaved in one run
(``race``), each group twice: with one busy loop per core running in the background
(``busy``) and without (``as found``: the machine's own load, recorded).

Target: default threads no slower than one thread, within 20% (ratio <= 1.2), busy.
Nothing is asserted; the ratios are printed and written with the timings.

    python -m pytest benchmarks/test_threads.py --benchmark-only -p no:cacheprovider
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import molrg

CURVE = np.geomspace(1e-2, 1e1, 200)
_fresh = itertools.count(1)
CORES = os.cpu_count() or 1


def _curve(sigma: np.ndarray) -> Callable[[], Any]:
    """A quadrature curve at a setting not evaluated before in this process (``delta``
    moved by a relative 1e-9, so no cache of the evaluator helps)."""
    return lambda: molrg.snr(molrg.Setting(3, 5, 0.2 * (1.0 + 1e-9 * next(_fresh))), sigma,
                             method="quadrature")


def _with_threads(fn: Callable[[], Any], threads: int, molrg_limit: bool) -> Callable[[], Any]:
    def run() -> Any:
        previous = os.environ.pop("MOLRG_BLAS_THREADS", None)
        if not molrg_limit:
            os.environ["MOLRG_BLAS_THREADS"] = "0"
        try:
            with threadpool_limits(limits=threads, user_api="blas"):
                return fn()
        finally:
            os.environ.pop("MOLRG_BLAS_THREADS", None)
            if previous is not None:
                os.environ["MOLRG_BLAS_THREADS"] = previous

    return run


@pytest.fixture
def load(request: pytest.FixtureRequest, smoke: bool) -> Iterator[str]:
    """``busy``: one busy loop per core in the background for the test; ``as found``."""
    if request.param == "as found" or smoke:
        yield request.param
        return
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(CORES)]
    try:
        yield request.param
    finally:
        for p in loops:
            p.kill()
            p.wait()


@pytest.mark.parametrize("load", ["busy", "as found"], indirect=True)
def test_issue24_quadrature_default_threads_vs_one(race, smoke, note, load: str) -> None:
    sigma = CURVE[::40] if smoke else CURVE
    curve = _curve(sigma)
    group = f"issue24 quadrature threads K=3,d=5,delta=0.2 ({load})"
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    best = race(group, ("default threads", _with_threads(curve, CORES, True)),
                {"one BLAS thread": _with_threads(curve, 1, True),
                 "default threads, no molrg limit (before)": _with_threads(curve, CORES, False)},
                units=sigma.size, unit="sigma_points", rounds=5)
    if best:
        one = best["one BLAS thread"]
        note(f"issue24 (a) {load}: default threads / one BLAS thread (target <= 1.2)",
             round(best["default threads"] / one, 3))
        note(f"issue24 (a) {load}: before (no molrg limit) / one BLAS thread",
             round(best["default threads, no molrg limit (before)"] / one, 3))
        note(f"issue24 (a) {load}: load average at start, end",
             (round(load_before, 2), round(os.getloadavg()[0], 2)))
