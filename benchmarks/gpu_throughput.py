"""GPU throughput of the ambient SNR simulation, NumPy vs CuPy, as one JSON document.

Run on a GPU machine (or anywhere: without CuPy the ``cupy`` entry says so and the NumPy
figures are still measured)::

    python benchmarks/gpu_throughput.py [--quick] [--out results.json]

For ``n`` in 1024, 16384, 131072 (``K = 16, d = 32``) and float32/float64 it reports
samples per second per ``sigma`` value of :func:`molrg.snr` (``method="ambient"``), the
achieved random-number throughput in GB/s (standard normals written per second), and
next to it the device's memory bandwidth: theoretical, from the device properties, and
achieved by a device-to-device copy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import molrg

NS = (1024, 16384, 131072)
K, D = 16, 32
SIGMA = 0.5


def _timeit(fn: Callable[[], Any], sync: Callable[[], None], repeat: int = 3) -> float:
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def _samples(n: int, backend: str, quick: bool) -> int:
    budget = 2e9 if backend == "cupy" else 2e8  # flops-ish per timed call
    s = int(budget / (2 * n * K * D + 10 * n))
    s = max(2 * K, min(s, 200_000))
    return max(2 * K, s // 20) if quick else s


def measure_backend(backend: str, quick: bool) -> dict[str, Any]:
    if backend == "cupy":
        import cupy

        def sync() -> None:
            cupy.cuda.Device().synchronize()
    else:
        def sync() -> None:
            return None

    out: dict[str, Any] = {"available": True, "snr_ambient": [], "rng": []}
    xp = molrg._backend.namespace(backend)
    for n in NS:
        model = molrg.MoLRG(K, D, n, 0.3)
        for dtype in ("float32", "float64"):
            samples = _samples(n, backend, quick)
            t = _timeit(lambda model=model, samples=samples, dtype=dtype: molrg.snr(
                model, SIGMA, method="ambient", samples=samples, seed=1, dtype=dtype,
                backend=backend), sync, repeat=2 if quick else 3)
            out["snr_ambient"].append({"n": n, "K": K, "d": D, "dtype": dtype,
                                       "samples": samples, "seconds": t,
                                       "samples_per_s": samples / t})
    gen = molrg._backend.Random(0, xp)
    count = 2**22 if quick else 2**26
    for dtype in ("float32", "float64"):
        dt = molrg._backend.resolve_dtype(xp, dtype)
        t = _timeit(lambda dt=dt: gen.standard_normal((count,), dt), sync)
        size = 4 if dtype == "float32" else 8
        out["rng"].append({"dtype": dtype, "normals": count, "seconds": t,
                           "normals_per_s": count / t, "GB_per_s": count * size / t / 1e9})
    if backend == "cupy":
        out["device"] = _device_info(quick)
    return out


def _device_info(quick: bool) -> dict[str, Any]:  # pragma: no cover - GPU only
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props.get("name", b"")
    info: dict[str, Any] = {"name": name.decode() if isinstance(name, bytes) else str(name),
                            "total_memory_GB": props.get("totalGlobalMem", 0) / 1e9}
    clock_khz, bus_bits = props.get("memoryClockRate"), props.get("memoryBusWidth")
    if clock_khz and bus_bits:
        info["theoretical_bandwidth_GB_per_s"] = 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9
    a = cupy.empty(2**26 if quick else 2**28, dtype=cupy.float32)
    b = cupy.empty_like(a)

    def copy() -> None:
        b[...] = a

    t = _timeit(copy, cupy.cuda.Device().synchronize)
    info["copy_bandwidth_GB_per_s"] = 2 * a.nbytes / t / 1e9  # read + write
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "numpy": measure_backend("numpy", args.quick),
    }
    try:
        import cupy  # noqa: F401
    except ImportError as exc:
        result["cupy"] = {"available": False, "reason": f"CuPy not available: {exc}"}
    else:  # pragma: no cover - GPU only
        try:
            result["cupy"] = measure_backend("cupy", args.quick)
        except Exception as exc:  # no device, driver mismatch, ...
            result["cupy"] = {"available": False, "reason": f"CuPy unusable: {exc!r}"}
    if result["cupy"].get("available"):  # pragma: no cover - GPU only
        result["speedup_cupy_over_numpy"] = [
            {"n": a["n"], "dtype": a["dtype"], "speedup": b["samples_per_s"] / a["samples_per_s"]}
            for a, b in zip(result["numpy"]["snr_ambient"], result["cupy"]["snr_ambient"],
                            strict=True)]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
