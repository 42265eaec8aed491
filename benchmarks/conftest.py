"""Benchmark bookkeeping: interleaved timings, ratios against baselines of the same run.

Every comparison is a *race*: a candidate (timed by pytest-benchmark) and its baselines
run round-robin -- baseline(s), candidate, baseline(s), candidate, ... -- so that a noisy,
shared machine slows them alike, and each keeps the minimum over its rounds.  At the end
of the session the checks of issues 9, 11 and 13 (:data:`CHECKS`, :data:`FITS`) are
computed from those minima, printed with their targets, and written, with every timing,
to ``benchmarks/results/latest.json``.  Nothing is asserted on a timing.

``--benchmark-disable`` (the CI smoke mode): every benchmark runs once at tiny sizes,
nothing is timed or written.

BLAS runs single-threaded unless ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` /
``MKL_NUM_THREADS`` is set, as in the test suite: on a shared 2-core machine OpenBLAS's
threads oversubscribe the cores and small products become several times slower and
erratic.  The setting is recorded in the JSON.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _blas_threads() -> str:
    chosen = {v: os.environ[v] for v in BLAS_THREAD_VARIABLES if os.environ.get(v)}
    if chosen:
        return ", ".join(f"{k}={v}" for k, v in chosen.items())
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's stack
        return "library default"
    threadpool_limits(limits=1, user_api="blas")
    return "1 (benchmarks/conftest.py)"


BLAS_THREADS = _blas_threads()

# group -> name -> {"seconds": min over rounds, "units": work per call, "unit": ..., ...}
RESULTS: dict[str, dict[str, dict[str, Any]]] = {}
EXTRA: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------
# The acceptance checks, computed from RESULTS at the end of the session
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """``ratio = cost(numerator) / cost(denominator)`` per unit of work, against a target.

    ``at_most``: the target is an upper bound (else a lower bound).
    """

    issue: str
    what: str
    numerator: tuple[str, str]
    denominator: tuple[str, str]
    target: float
    at_most: bool = True


ISSUE9_SETTINGS = ("K=3,d=5,delta=0.2", "K=10,d=5,delta=0.3", "K=3,d=512,delta=0.2",
                   "K=2,d=1,delta=0.5")
CHECKS: list[Check] = [
    *(Check("9", f"reduced MC 1e5/sigma over quadrature, 200-point curve, {s}",
            (f"issue9 curve {s}", "reduced MC 1e5/sigma"), (f"issue9 curve {s}", "quadrature"),
            10.0, at_most=False) for s in ISSUE9_SETTINGS),
    *(Check("9", f"reduced MC 1e5/sigma over quadrature rule=fast, 200-point curve, {s}",
            (f"issue9 curve {s}", "reduced MC 1e5/sigma"),
            (f"issue9 curve {s}", "quadrature rule=fast"), 10.0, at_most=False)
      for s in ISSUE9_SETTINGS),
    *(Check("9", f"quadrature K=1e4 over K=3, 200-point curve, {s}",
            (f"issue9 K {s}", "K=10000"), (f"issue9 K {s}", "K=3"), 2.0)
      for s in ("d=5,delta=0.2", "d=512,delta=0.2")),
    *(Check("11", f"mixture ambient over its floor, (n,K,d)=(16384,16,32), {m}",
            (f"issue11 mixture {m}", "ambient"), (f"issue11 mixture {m}", "floor"), 2.0)
      for m in ("unequal-ranks", "overlapping+means")),
    *(Check("11", f"empirical denoiser over its GEMM floor, N=1e4, n=1024, {dt}",
            (f"issue11 empirical {dt}", "denoiser"), (f"issue11 empirical {dt}", "GEMM floor"),
            1.5) for dt in ("float64", "float32")),
    *(Check("11", f"MoLRG ambient over its floor, (16384,16,32), {dt}",
            (f"n=16384,K=16,d=32,{dt},numpy", "ambient"),
            (f"n=16384,K=16,d=32,{dt},numpy", "floor"), 2.0) for dt in ("float64", "float32")),
    Check("6", "dense naive over ambient, (1024,10,16)",
          ("n=1024,K=10,d=16,float64,numpy", "dense_naive"),
          ("n=1024,K=10,d=16,float64,numpy", "ambient"), 200.0, at_most=False),
    Check("6", "ambient over reduced, (16384,16,32)",
          ("n=16384,K=16,d=32,float64,numpy", "ambient"),
          ("n=16384,K=16,d=32,float64,numpy", "reduced"), 50.0, at_most=False),
    Check("13", "python -m verify theorem1 over import numpy, scipy.integrate, matplotlib.pyplot",
          ("issue13 main command", "verify theorem1"),
          ("issue13 main command", "import numpy, scipy.integrate, matplotlib.pyplot"), 3.0),
    Check("13", "import molrg over import numpy, scipy",
          ("issue13 import", "import molrg"), ("issue13 import", "import numpy, scipy"), 1.5),
]

# exponent of cost per sample vs n, fitted over every "n=<int>" entry of the group
FITS: list[tuple[str, str, str, float]] = [
    ("11/13", "ambient cost vs n, MoLRG (K=8, d=16), n=1024..131072",
     "scaling MoLRG ambient", 1.1),
    ("11/13", "ambient cost vs n, mixture (unequal ranks, K=8), n=1024..131072",
     "scaling mixture ambient", 1.1),
]


def _per_unit(group: str, name: str) -> float | None:
    entry = RESULTS.get(group, {}).get(name)
    return None if entry is None else entry["seconds"] / entry["units"]


def checks() -> list[dict[str, Any]]:
    rows = []
    for c in CHECKS:
        num, den = _per_unit(*c.numerator), _per_unit(*c.denominator)
        if num is None or den is None:
            continue
        ratio = num / den
        rows.append({"issue": c.issue, "check": c.what, "ratio": ratio,
                     "target": f"{'<=' if c.at_most else '>='} {c.target:g}",
                     "met": bool(ratio <= c.target if c.at_most else ratio >= c.target),
                     "numerator": list(c.numerator), "denominator": list(c.denominator)})
    for issue, what, group, target in FITS:
        entries = {int(k[2:]): v for k, v in RESULTS.get(group, {}).items() if k.startswith("n=")}
        if len(entries) < 3:
            continue
        ns = np.array(sorted(entries), dtype=float)
        cost = np.array([entries[int(n)]["seconds"] / entries[int(n)]["units"] for n in ns])
        slope = float(np.polyfit(np.log(ns), np.log(cost), 1)[0])
        rows.append({"issue": issue, "check": what, "ratio": slope, "target": f"<= {target:g}",
                     "met": bool(slope <= target), "fitted": "exponent of seconds/sample vs n",
                     "per_sample_s": {str(int(n)): c for n, c in zip(ns, cost, strict=True)}})
    return rows


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------
@pytest.fixture
def smoke(request: pytest.FixtureRequest) -> bool:
    """True under ``--benchmark-disable`` (CI): run every benchmark once at tiny sizes."""
    return bool(request.config.getoption("benchmark_disable", False))


def _timed(fn: Callable[[], Any], after: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    after()
    return time.perf_counter() - t0


@pytest.fixture
def race(benchmark: Any, smoke: bool) -> Callable[..., dict[str, float]]:
    """``race(group, candidate, baselines, units=..., unit=..., rounds=3, sync=None)``.

    ``candidate`` is ``(name, fn)``; ``baselines`` maps names to callables; ``units`` maps
    every name to its work per call (samples, sigma points, ...) or is one number for all.
    Each round runs every baseline, then the candidate (timed by pytest-benchmark); one
    untimed warm-up round first.  Returns the minimum seconds per name (empty in smoke mode).
    """

    def run(group: str, candidate: tuple[str, Callable[[], Any]],
            baselines: dict[str, Callable[[], Any]], *, units: float | dict[str, float],
            unit: str, rounds: int = 3, sync: Callable[[], None] | None = None,
            warmup: bool = True) -> dict[str, float]:
        after = sync or (lambda: None)
        name, fn = candidate
        times: dict[str, list[float]] = {b: [] for b in baselines}

        def setup() -> None:
            for b, bfn in baselines.items():
                times[b].append(_timed(bfn, after))

        def target() -> None:
            fn()
            after()

        if warmup and not smoke:
            for bfn in baselines.values():
                bfn()
            target()
            after()
        benchmark.group = group
        benchmark.pedantic(target, setup=setup, rounds=rounds, iterations=1)
        if smoke or getattr(benchmark, "stats", None) is None:
            return {}
        best = {b: min(t) for b, t in times.items()}
        best[name] = float(benchmark.stats.stats.min)
        work = units if isinstance(units, dict) else dict.fromkeys(best, units)
        entries = RESULTS.setdefault(group, {})
        for b, seconds in best.items():
            entries[b] = {"seconds": seconds, "units": float(work[b]), "unit": unit,
                          f"{unit}_per_s": work[b] / seconds, "rounds": rounds,
                          "candidate": b == name}
        benchmark.extra_info.update({"unit": unit, "units": work[name],
                                     f"{unit}_per_s": work[name] / best[name],
                                     **{f"baseline {b} s": best[b] for b in baselines}})
        return best

    return run


@pytest.fixture
def note() -> Callable[[str, Any], None]:
    """``note(key, value)``: an extra figure for the JSON and the summary."""

    def add(key: str, value: Any) -> None:
        EXTRA[key] = value

    return add


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return str(x)
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    tr = terminalreporter
    rows = checks()
    tr.section("molrg acceptance checks (ratios of per-unit cost, measured interleaved in this run)")
    for r in rows:
        verdict = "met" if r["met"] else "NOT MET"
        tr.write_line(f"issue {r['issue']:>5}  {_fmt(r['ratio']):>8}  target {r['target']:<8} "
                      f"{verdict:<8} {r['check']}")
    tr.section("molrg throughput (minimum over rounds; candidate marked *)")
    for group, entries in sorted(RESULTS.items()):
        parts = [f"{'*' if e['candidate'] else ''}{name}: {_fmt(e['seconds'])} s "
                 f"({_fmt(e[e['unit'] + '_per_s'])} {e['unit']}/s)" for name, e in entries.items()]
        tr.write_line(f"{group}: " + "; ".join(parts))
    for key, value in EXTRA.items():
        tr.write_line(f"{key}: {value}")
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    payload = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "numpy": np.__version__,
                    "python": platform.python_version(), "blas_threads": BLAS_THREADS,
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "checks": rows,
        "timings": RESULTS,
        "extra": EXTRA,
    }
    (out / "latest.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")
    tr.write_line(f"written: {out / 'latest.json'}")
