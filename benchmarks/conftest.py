"""Benchmark bookkeeping: per-sample costs of every method and their ratios in one run.

Each benchmark records its marginal time per sample under a configuration key; at the
end of the session the ratios against the baselines measured in the same run are
printed and written to ``benchmarks/results/latest.json`` (docs/performance.md quotes
them).  With ``--benchmark-disable`` (CI smoke mode) nothing is timed or written.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RESULTS: dict[str, dict[str, float]] = {}


@pytest.fixture
def smoke(request: pytest.FixtureRequest) -> bool:
    """True under ``--benchmark-disable`` (CI): run every benchmark once at tiny sizes."""
    return bool(request.config.getoption("benchmark_disable", False))


@pytest.fixture
def record(benchmark: Any) -> Any:
    """``record(config, method, samples)`` after ``benchmark(...)`` has run."""

    def _record(config: str, method: str, samples: int) -> None:
        stats = getattr(benchmark, "stats", None)
        if stats is None or not getattr(benchmark, "enabled", True):
            return
        per_sample = stats.stats.min / samples
        RESULTS.setdefault(config, {})[method] = per_sample
        benchmark.extra_info["samples_per_s"] = 1.0 / per_sample
        benchmark.extra_info["samples"] = samples

    return _record


def _ratios() -> list[dict[str, Any]]:
    rows = []
    for config, methods in sorted(RESULTS.items()):
        row: dict[str, Any] = {"config": config}
        row.update({f"{m}_samples_per_s": 1 / t for m, t in methods.items()})
        amb = methods.get("ambient")
        if amb:
            for base in ("dense_naive", "dense_batched", "floor"):
                if base in methods:
                    row[f"{base}_over_ambient"] = methods[base] / amb
            if "reduced" in methods:
                row["ambient_over_reduced"] = amb / methods["reduced"]
        rows.append(row)
    return rows


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    rows = _ratios()
    tr = terminalreporter
    tr.section("molrg throughput ratios (same run; per-sample marginal cost)")
    for row in rows:
        parts = [f"{k}={v:.3g}" for k, v in row.items() if k != "config"]
        tr.write_line(f"{row['config']}: " + "  ".join(parts))
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    payload = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "numpy": np.__version__,
                    "python": platform.python_version()},
        "rows": rows,
    }
    (out / "latest.json").write_text(json.dumps(payload, indent=2) + "\n")
