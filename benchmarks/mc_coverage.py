"""Coverage of Monte Carlo error bars: reduced Monte Carlo against the exact quadrature.

``python benchmarks/mc_coverage.py [--seeds 20] [--quick] [--peaks] [--out PATH]``

Over a box of settings -- ``K`` in {2, 3, 10}, ``d`` in {1, 5, 20}, ``delta`` in
{0.01, 0.05, 0.2, 0.5}, both inputs, ``sigma`` at 1/10, 1/3, 1, 3 and 10 times the exact
peak, ``samples`` in {20, 300, 3000, 30000, 200000} (200,000: the ``verify`` default) --
each point is simulated with ``--seeds`` independent seeds and compared with the exact
SNR (quadrature, relative error ~1e-13).  Reported: among the estimates *not* flagged
``untrustworthy``, the share whose +-2 SE interval contains the exact value (nominal
95.45%, with its binomial standard error), the worst ``|z|``, and how many estimates were
flagged.  ``--peaks``: the same for :func:`molrg.snr_peak` (Monte Carlo peak +-2 SE against
the exact peak).  Public API only; writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import molrg

NOMINAL = 0.9545


def points(quick: bool) -> list[dict[str, Any]]:
    Ks, ds = ((2, 3, 10), (1, 5, 20)) if not quick else ((3, 10), (5,))
    deltas = (0.01, 0.05, 0.2, 0.5) if not quick else (0.01, 0.2)
    out = []
    for K, d, delta, mode in itertools.product(Ks, ds, deltas, molrg.INPUTS):
        st = molrg.Setting(K, d, delta)
        p = molrg.snr_peak(st, input=mode, method="quadrature")
        centre = p.sigma if p.interior else delta
        out.append({"K": K, "d": d, "delta": delta, "input": mode,
                    "sigma": [centre * f for f in (0.1, 1 / 3, 1.0, 3.0, 10.0)]})
    return out


def coverage(seeds: int, quick: bool) -> dict[str, Any]:
    sample_sizes = (20, 300, 3000, 30000, 200_000) if not quick else (300, 30000, 200_000)
    rows = []
    for pt in points(quick):
        st = molrg.Setting(pt["K"], pt["d"], pt["delta"])
        sigma = np.array(pt["sigma"])
        exact = molrg.snr(st, sigma, input=pt["input"], method="quadrature").estimate
        for samples in sample_sizes:
            for seed in range(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = molrg.snr(st, sigma, input=pt["input"], method=molrg.MonteCarlo(
                        "reduced", samples=samples, seed=seed))
                z = (r.estimate - exact) / r.stderr
                for i in range(sigma.size):
                    rows.append({**{k: pt[k] for k in ("K", "d", "delta", "input")},
                                 "sigma": float(sigma[i]), "samples": samples, "seed": seed,
                                 "z": float(z[i]), "tail_share": float(r.tail_share[i]),
                                 "untrustworthy": bool(r.untrustworthy[i])})
    return summarise(rows, "snr")


def summarise(rows: list[dict[str, Any]], what: str) -> dict[str, Any]:
    trusted = [r for r in rows if not r["untrustworthy"]]
    n = len(trusted)
    covered = sum(1 for r in trusted if abs(r["z"]) <= 2)
    share = covered / n if n else math.nan
    flagged = [r for r in rows if r["untrustworthy"]]
    by_delta = {}
    for delta in sorted({r["delta"] for r in rows}):
        t = [r for r in trusted if r["delta"] == delta]
        by_delta[str(delta)] = {"trusted": len(t), "covered": sum(abs(r["z"]) <= 2 for r in t),
                                "flagged": sum(1 for r in flagged if r["delta"] == delta)}
    worst = max(trusted, key=lambda r: abs(r["z"])) if trusted else None
    return {"what": what, "estimates": len(rows), "trusted": n, "flagged": len(flagged),
            "coverage": share,
            "binomial_se": math.sqrt(NOMINAL * (1 - NOMINAL) / n) if n else math.nan,
            "nominal": NOMINAL, "by_delta": by_delta, "worst_trusted": worst,
            "flagged_covered": (sum(abs(r["z"]) <= 2 for r in flagged) / len(flagged)
                                if flagged else math.nan)}


def peak_coverage(seeds: int, quick: bool) -> dict[str, Any]:
    rows = []
    settings = [(3, 5, 0.2), (10, 20, 0.2), (3, 5, 0.05), (2, 1, 0.5)]
    if not quick:
        settings += [(3, 5, 0.01), (10, 5, 0.5)]
    for (K, d, delta), mode in itertools.product(settings, molrg.INPUTS):
        st = molrg.Setting(K, d, delta)
        exact = molrg.snr_peak(st, input=mode, method="quadrature")
        if not exact.interior:
            continue
        grid = exact.sigma * np.exp(np.linspace(-math.log(10), math.log(10), 25))
        for samples in (3000, 40000, 200_000):
            for seed in range(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = molrg.snr_peak(st, input=mode, grid=grid, method=molrg.MonteCarlo(
                        "reduced", samples=samples, seed=seed))
                z = (p.sigma - exact.sigma) / p.stderr if p.stderr > 0 else math.inf
                rows.append({"K": K, "d": d, "delta": delta, "input": mode,
                             "samples": samples, "seed": seed, "z": float(z),
                             "untrustworthy": bool(p.untrustworthy or not p.interior)})
    return summarise(rows, "peak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="a smaller box")
    parser.add_argument("--peaks", action="store_true", help="also the Monte Carlo peaks")
    parser.add_argument("--out", default="benchmarks/results/mc_coverage.json")
    args = parser.parse_args()
    start = time.perf_counter()
    out = {"snr": coverage(args.seeds, args.quick)}
    if args.peaks:
        out["peak"] = peak_coverage(max(4, args.seeds // 2), args.quick)
    out["elapsed_s"] = time.perf_counter() - start
    for key in ("snr", "peak"):
        if key in out:
            s = out[key]
            print(f"{key}: {s['trusted']} trusted of {s['estimates']} estimates, coverage "
                  f"{s['coverage']:.4f} +- {s['binomial_se']:.4f} (nominal {NOMINAL}); "
                  f"flagged {s['flagged']} (their coverage {s['flagged_covered']:.3f}); "
                  f"worst trusted {s['worst_trusted']}")
            print("  by delta:", s["by_delta"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
