"""GPU throughput of molrg's Monte Carlo layer, against the device's bounds, as JSON.

One prepared script for a GPU machine (sized for an H200: millions of samples per point,
about 3-5 minutes in all, ``--budget-s`` stops it earlier)::

    python benchmarks/gpu_throughput.py --out benchmarks/results/gpu.json

Cases (CuPy, float32 and float64 unless noted; public API only):

* ``reduced``: the reduced simulator (``K`` chi-square energies per sample), 32 sigmas;
* ``ambient MoLRG``: the idealised model's ambient simulator at ``(n, K, d)`` =
  (16384, 16, 32) (GEMM-heavy), (131072, 4, 8) (noise-heavy) and (1024, 16, 32);
* ``ambient mixture``: a general :class:`molrg.LowRankMixture` (overlapping subspaces,
  class means, unequal weights) and one of unequal ranks, at (16384, 16, 32), 4 sigmas;
* ``empirical``: :class:`molrg.EmpiricalDenoiser` with ``N = 10^5`` points in
  ``n = 1024``, on ``10^5`` inputs, with its default memory budget and with 4 GiB.

For each: samples per second (a call evaluates every sigma value on the same samples)
and (sample, sigma) pairs per second, and the fraction of the device bound it reaches.
``bytes_per_sample`` and ``flops_per_sample`` are per (sample, sigma) pair (the work shared
by all sigma values divided among them; per input for the empirical denoiser).
``bytes_per_sample`` estimates the DRAM traffic the implementation cannot avoid
(the random numbers written by the generator and read back, the per-sigma coordinates;
formula in each record) and ``flops_per_sample`` its arithmetic; the bandwidth bound is
``peak_bandwidth / bytes_per_sample`` samples/s, the compute bound ``peak_flops /
flops_per_sample``.  The peak bandwidth is the device's nominal figure where its name is
known (H200: 4.8 TB/s), else computed from the memory clock and bus width CuPy reports;
a device-to-device copy measures the achievable one.  Each GPU figure is checked against
the exact SNR (quadrature, idealised model) or the NumPy estimate (mixture) as a z-score,
and a small NumPy run of the same case gives a CPU reference.

Without CuPy or a GPU the script says so and exits 0.  ``--backend numpy --quick`` runs
the whole script on the CPU at tiny sizes (a smoke test of the script itself).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import molrg
from molrg import __version__ as molrg_version

# Nominal peaks of common data-centre GPUs: (name fragment, bandwidth B/s, FP32 FLOP/s,
# FP64 FLOP/s), non-tensor-core FP32/FP64.
KNOWN_DEVICES = [
    ("H200", 4.8e12, 67e12, 34e12),
    ("H100 NVL", 3.9e12, 60e12, 30e12),
    ("H100 PCIe", 2.0e12, 51e12, 26e12),
    ("H100", 3.35e12, 67e12, 34e12),
    ("A100-SXM4-80GB", 2.039e12, 19.5e12, 9.7e12),
    ("A100-PCIE-80GB", 1.935e12, 19.5e12, 9.7e12),
    ("A100", 1.555e12, 19.5e12, 9.7e12),
    ("L40S", 0.864e12, 91.6e12, 1.4e12),
]


# ---------------------------------------------------------------------------------------
# Device
# ---------------------------------------------------------------------------------------
def cupy_or_reason() -> tuple[Any, str]:
    """``(cupy, "")`` when CuPy and a device are usable, else ``(None, reason)``."""
    try:
        import cupy
    except ImportError as exc:
        return None, f"CuPy is not installed ({exc}); pip install 'molrg[gpu]' (docs/gpu.md)"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # no driver, wrong CUDA wheel
        return None, f"CuPy cannot reach a GPU: {exc!r}"
    if count < 1:
        return None, "CuPy sees no CUDA device"
    return cupy, ""


def device_info(cupy: Any, quick: bool) -> dict[str, Any]:
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props.get("name", b"")
    name = name.decode() if isinstance(name, bytes) else str(name)
    info: dict[str, Any] = {"name": name, "total_memory_GB": props.get("totalGlobalMem", 0) / 1e9,
                            "multiprocessors": props.get("multiProcessorCount"),
                            "cupy": cupy.__version__,
                            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
                            "free_memory_GB": cupy.cuda.Device().mem_info[0] / 1e9}
    clock_khz, bus_bits = props.get("memoryClockRate"), props.get("memoryBusWidth")
    if clock_khz and bus_bits:  # DDR: two transfers per clock
        info["bandwidth_from_properties_B_per_s"] = 2 * clock_khz * 1e3 * bus_bits / 8
    for fragment, bw, f32, f64 in KNOWN_DEVICES:
        if fragment in name:
            info.update({"nominal_bandwidth_B_per_s": bw, "nominal_fp32_flops": f32,
                         "nominal_fp64_flops": f64, "nominal_from": fragment})
            break
    info["copy_bandwidth_B_per_s"] = copy_bandwidth(cupy, 2**24 if quick else 2**32)
    cupy.get_default_memory_pool().free_all_blocks()
    info["peak_bandwidth_B_per_s"] = info.get("nominal_bandwidth_B_per_s",
                                             info.get("bandwidth_from_properties_B_per_s",
                                                      info["copy_bandwidth_B_per_s"]))
    return info


def copy_bandwidth(cupy: Any, nbytes: int) -> float:
    """Achieved bandwidth (bytes read + written per second) of a device-to-device copy."""
    src = cupy.empty(nbytes // 4, dtype=cupy.float32)
    dst = cupy.empty_like(src)

    def copy() -> None:
        dst[...] = src

    copy()
    return 2 * src.nbytes / best_time(copy, lambda: cupy.cuda.Device().synchronize(), repeat=5)


def best_time(fn: Callable[[], Any], sync: Callable[[], None], repeat: int = 2) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------
def general_mixture(kind: str, n: int, K: int, d: int) -> molrg.LowRankMixture:
    weights = np.linspace(1.0, 2.0, K)
    weights /= weights.sum()
    if kind == "unequal-ranks":
        return molrg.LowRankMixture.unequal_ranks(n, [d // 2, d + d - d // 2] * (K // 2), 0.3,
                                                  weights=weights, seed=0)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((n, (K + 1) * d)))
    c, s = np.cos(np.deg2rad(30.0)), np.sin(np.deg2rad(30.0))
    bases = [c * q[:, k * d:(k + 1) * d] + s * q[:, (k + 1) * d:(k + 2) * d] for k in range(K)]
    return molrg.LowRankMixture(bases, delta=0.3, weights=weights,
                                means=2.0 * rng.standard_normal((K, n)) / np.sqrt(n))


def cases(quick: bool) -> list[dict[str, Any]]:
    """Every case: what to run, its size on the GPU and its traffic/arithmetic model."""
    q = 1000 if quick else 1  # quick: everything 1000x smaller
    out: list[dict[str, Any]] = []
    for dtype in ("float32", "float64"):
        for K, d in ((3, 5), (100, 16)):
            out.append({"kind": "reduced", "K": K, "d": d, "n": None, "dtype": dtype,
                        "sigmas": 32, "samples": max(2 * K, 10**8 // K * 3 // q)})
    for dtype in ("float32", "float64"):
        for n, K, d, samples in ((16384, 16, 32, 2 * 10**6), (131072, 4, 8, 10**6),
                                 (1024, 16, 32, 8 * 10**6)):
            out.append({"kind": "ambient MoLRG", "K": K, "d": d,
                        "n": max(n // 64, 2 * K * d) if quick else n,
                        "dtype": dtype, "sigmas": 8, "samples": max(2 * K, samples // q)})
    for dtype in ("float32", "float64"):
        for mix in ("overlapping+means", "unequal-ranks"):
            out.append({"kind": "ambient mixture", "mixture": mix, "K": 4 if quick else 16,
                        "d": 8 if quick else 32, "n": 256 if quick else 16384, "dtype": dtype,
                        "sigmas": 4, "samples": max(32, 10**6 // q)})
    for dtype in ("float32", "float64"):
        for budget in (None, 4 * 2**30):
            out.append({"kind": "empirical", "N": 10**5 // (100 if quick else 1), "n": 1024,
                        "dtype": dtype, "samples": 10**5 // q, "memory_budget": budget})
    return out


def model_of(case: dict[str, Any]) -> Any:
    if case["kind"] == "reduced":
        return molrg.Setting(case["K"], case["d"], 0.3)
    if case["kind"] == "ambient MoLRG":
        return molrg.MoLRG(case["K"], case["d"], case["n"], 0.3)
    if case["kind"] == "ambient mixture":
        return general_mixture(case["mixture"], case["n"], case["K"], case["d"])
    return molrg.MoLRG(10, 16, case["n"], 0.3)


def traffic(case: dict[str, Any]) -> tuple[float, float, str]:
    """``(bytes_per_sample, flops_per_sample, formula)``: per sample *and sigma value*
    for the simulators (all sigma values share one noise draw), per input for empirical."""
    item = 4 if case["dtype"] == "float32" else 8
    S = case.get("sigmas", 1)
    if case["kind"] == "reduced":
        K = case["K"]
        b = item * 2 * K + S * (item * K + 2 * 8)
        f = S * 12 * K
        return b / S, f / S, ("item*2K (chi-square draws written, read) + S*(item*K read + "
                              "2 float64 N, D written); flops 12K per sigma; divided by S")
    if case["kind"] == "ambient MoLRG":
        n, r = case["n"], case["K"] * case["d"]
        b = item * (2 * n + 2 * r) + S * item * 2 * r
        f = 2 * n * r + S * 10 * r
        return b / S, f / S, ("item*(2n noise written, read + 2r latent) + S*item*2r "
                              "coordinates; flops 2nr (projection) + 10r per sigma; divided by S")
    if case["kind"] == "ambient mixture":
        n, K, r = case["n"], case["K"], case["K"] * case["d"]
        b = item * (2 * n + 2 * r) + S * item * 6 * r
        f = 2 * n * r + S * (4 * K * r * r + 6 * r * r)
        return b / S, f / S, ("item*(2n noise + 2r) + S*item*6r; flops 2nr (projection) + "
                              "S*(4Kr^2 rotations + 6r^2 projections) of the posterior mean; "
                              "divided by S")
    N, n = case["N"], case["n"]
    b = item * (6 * N + 4 * n)
    f = 4 * N * n
    return b, f, ("item*(6N logits/exponentials written and read + 4n); flops 4Nn "
                  "(x P^T and E P)")


def run_case(case: dict[str, Any], backend: str, sync: Callable[[], None], repeat: int
             ) -> tuple[float, Any, dict[str, Any]]:
    """Best wall time of one call of the case on ``backend``, its result, extra details."""
    model = model_of(case)
    extra: dict[str, Any] = {}
    if case["kind"] == "empirical":
        # drawn on the host, row by row the same for any count, then moved: the NumPy
        # reference run sees exactly the first rows the device run sees
        xp = __import__("cupy") if backend == "cupy" else np
        host_points, _ = model.sample(case["N"], 0, dtype="float64")
        rows = np.arange(case["samples"]) % case["N"]
        noise = np.random.default_rng(2).standard_normal((case["samples"], case["n"]))
        x = xp.asarray(host_points[rows] + 0.5 * noise, dtype=case["dtype"])
        points = xp.asarray(host_points, dtype=case["dtype"])
        kw = {} if case["memory_budget"] is None else {"memory_budget": case["memory_budget"]}
        den = molrg.EmpiricalDenoiser(points, **kw)
        extra["chunk_points"] = den.chunk_points
        extra["sample_chunk"] = den.sample_chunk(case["dtype"])
        den(x[:64], 0.5)  # warm-up: kernels compiled, points prepared
        sync()
        out: list[Any] = []
        t = best_time(lambda: out.append(den(x, 0.5)), sync, repeat)
        return t, out[-1], extra
    sigma = np.geomspace(0.1, 3.0, case["sigmas"])
    sim: Literal["reduced", "ambient"] = "reduced" if case["kind"] == "reduced" else "ambient"
    mc = molrg.MonteCarlo(sim, samples=case["samples"], seed=1, dtype=case["dtype"],
                          backend=backend)
    molrg.snr(model, sigma, method=mc.replace(samples=max(2 * case["K"], 64)))  # warm-up
    sync()
    res: list[Any] = []
    t = best_time(lambda: res.append(molrg.snr(model, sigma, method=mc)), sync, repeat)
    extra["batch"] = res[-1].method.batch
    return t, res[-1], extra


def check(case: dict[str, Any], result: Any, reference: Any) -> dict[str, Any]:
    """Agreement of a GPU result with the exact SNR or with the NumPy reference run."""
    if case["kind"] == "empirical":
        if reference is None:
            return {}
        got = np.asarray(result.get() if hasattr(result, "get") else result)
        ref = np.asarray(reference)
        return {"max_abs_diff_vs_numpy_first_rows": float(np.max(np.abs(got[: ref.shape[0]] - ref)))}
    out: dict[str, Any] = {}
    if case["kind"] in ("reduced", "ambient MoLRG"):
        exact = molrg.snr(molrg.Setting(case["K"], case["d"], 0.3), result.sigma,
                          method="quadrature")
        z = (result.estimate - exact.estimate) / result.stderr
        out["max_abs_z_vs_quadrature"] = float(np.max(np.abs(z)))
    if reference is not None:
        se = np.sqrt(result.stderr**2 + reference.stderr**2)
        out["max_abs_z_vs_numpy"] = float(np.max(np.abs(result.estimate - reference.estimate) / se))
    return out


def cpu_reference(case: dict[str, Any], quick: bool) -> tuple[dict[str, Any], Any]:
    """The same case on NumPy at a size that takes a few seconds on the CPU."""
    small = dict(case)
    if case["kind"] == "empirical":
        small["samples"] = max(16, case["samples"] // (100 if not quick else 1))
    elif case["kind"] == "reduced":
        small["samples"] = max(2 * case["K"], case["samples"] // (100 if not quick else 1))
    else:
        small["samples"] = max(2 * case["K"], case["samples"] // (1000 if not quick else 1))
    t, res, _ = run_case(small, "numpy", lambda: None, repeat=1)
    if case["kind"] == "empirical":
        return {"samples": small["samples"], "seconds": t, "samples_per_s": small["samples"] / t}, \
            np.asarray(res)[:16]
    return {"samples": small["samples"], "seconds": t, "samples_per_s": small["samples"] / t}, res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write the JSON here (also after every case)")
    parser.add_argument("--quick", action="store_true", help="1000x smaller (a smoke test)")
    parser.add_argument("--backend", choices=("cupy", "numpy"), default="cupy",
                        help="numpy: run the script on the CPU (with --quick)")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="start no new case after this many seconds (default 420)")
    parser.add_argument("--no-cpu-reference", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "molrg": molrg_version},
        "backend": args.backend, "quick": args.quick, "cases": [],
    }
    if args.backend == "cupy":
        cupy, reason = cupy_or_reason()
        if cupy is None:
            print(f"gpu_throughput: no GPU measurement: {reason}. Nothing to do; exiting 0.")
            return 0
        result["device"] = device_info(cupy, args.quick)

        def sync() -> None:
            cupy.cuda.Device().synchronize()
    else:
        result["device"] = {"name": "CPU (NumPy)", "peak_bandwidth_B_per_s": None}

        def sync() -> None:
            return None

    dev = result["device"]

    def write() -> None:
        text = json.dumps(result, indent=2, default=float)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text + "\n")

    print(f"device: {dev.get('name')}  peak bandwidth "
          f"{(dev.get('peak_bandwidth_B_per_s') or 0) / 1e12:.2f} TB/s  copy "
          f"{(dev.get('copy_bandwidth_B_per_s') or 0) / 1e12:.2f} TB/s", flush=True)
    for case in cases(args.quick):
        if time.perf_counter() - start > args.budget_s:
            result["stopped"] = f"--budget-s {args.budget_s} reached; later cases not run"
            break
        record = dict(case)
        try:
            t, res, extra = run_case(case, args.backend, sync, repeat=2)
        except Exception as exc:  # record and go on: one failure must not lose the rest
            record["error"] = repr(exc)
            result["cases"].append(record)
            print(f"{case['kind']} {case}: ERROR {exc!r}", flush=True)
            write()
            continue
        per_sigma = case["samples"] * case.get("sigmas", 1)
        rate = per_sigma / t
        b, f, formula = traffic(case)
        record.update(extra)
        record.update({"seconds": t, "samples_per_s": case["samples"] / t,
                       "sample_sigma_pairs_per_s": rate, "bytes_per_sample": b,
                       "flops_per_sample": f, "traffic_model": formula,
                       "achieved_B_per_s": rate * b, "achieved_flops": rate * f})
        peak_bw = dev.get("peak_bandwidth_B_per_s")
        if peak_bw:
            record["fraction_of_bandwidth_bound"] = rate * b / peak_bw
            record["fraction_of_copy_bandwidth"] = rate * b / dev["copy_bandwidth_B_per_s"]
        flops = dev.get("nominal_fp32_flops" if case["dtype"] == "float32" else "nominal_fp64_flops")
        if flops:
            record["fraction_of_compute_bound"] = rate * f / flops
        reference = None
        if not args.no_cpu_reference and args.backend == "cupy":
            record["cpu_reference"], reference = cpu_reference(case, args.quick)
            record["speedup_over_cpu"] = record["samples_per_s"] / record["cpu_reference"][
                "samples_per_s"]
        record["agreement"] = check(case, res, reference)
        result["cases"].append(record)
        label = {k: case[k] for k in ("K", "d", "n", "N", "mixture", "memory_budget") if k in case}
        frac = record.get("fraction_of_bandwidth_bound")
        print(f"{case['kind']:16s} {case['dtype']} {label}: {case['samples']:.3g} samples in "
              f"{t:.3f} s = {case['samples'] / t:.4g} samples/s"
              + (f", {100 * frac:.1f}% of the bandwidth bound" if frac is not None else "")
              + (f", {100 * record['fraction_of_compute_bound']:.1f}% of FP peak"
                 if "fraction_of_compute_bound" in record else "")
              + f"  {record['agreement']}", flush=True)
        write()
    result["elapsed_s"] = time.perf_counter() - start
    write()
    if args.out:
        print(json.dumps({"elapsed_s": result["elapsed_s"], "cases": len(result["cases"]),
                          "out": args.out}))
    else:  # no file: the whole document on stdout
        print(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
