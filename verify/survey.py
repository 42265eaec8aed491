"""``python -m verify survey``: where in parameter space does Theorem 1 hold?

Runs the ``theorem1`` check at random points of the box ``K in [2, 16]``,
``d in [1, 64]`` (log-uniform), ``delta in [0.05, 0.9]`` for both input modes and both
estimands, and summarises the peak-location ratio ``sigma*_sim / sigma*_theory``, the
peak-height ratio, the approximation error near the peak, and the verdicts: range,
median, worst case, and how often each claim holds.  Its output backs the tolerances of
the peak-location property tests (``docs/properties.md``).

Mean of ratios needs ``(K-1) d >= 3`` (finite mean); other cases are skipped for it.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from molrg._validation import check_int

from . import report, theorem1

NAME = "survey"
HELP = "run the Theorem 1 check over random (K, d, delta) and summarise where it holds"
BOX: dict[str, tuple[float, float]] = {"K": (2, 16), "d": (1, 64), "delta": (0.05, 0.9)}


@dataclass(frozen=True)
class SurveyResult:
    cases: list[dict[str, Any]]
    summary: dict[str, dict[str, Any]]
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        return {"command": NAME, "box": BOX, "summary": self.summary, "cases": self.cases,
                "elapsed_s": self.elapsed_s}


def draw_box(cases: int, seed: int) -> list[tuple[int, int, float]]:
    """Random ``(K, d, delta)`` in :data:`BOX` (``d`` log-uniform)."""
    rng = np.random.default_rng(seed)
    (k_lo, k_hi), (d_lo, d_hi), (e_lo, e_hi) = BOX["K"], BOX["d"], BOX["delta"]
    return [(int(rng.integers(int(k_lo), int(k_hi) + 1)),
             round(float(np.exp(rng.uniform(np.log(d_lo), np.log(d_hi))))),
             float(rng.uniform(e_lo, e_hi))) for _ in range(cases)]


def corners() -> list[tuple[int, int, float]]:
    """Corners and edge midpoints of :data:`BOX` (where random draws rarely land)."""
    return [(K, d, delta) for K in (2, 4, 16) for d in (1, 2, 5, 64)
            for delta in (0.05, 0.1, 0.3, 0.6, 0.9)]


def run(*, cases: int = 60, seed: int = 0, samples: int = 40_000, num_sigma: int = 30,
        replicates: int = 4, with_corners: bool = False, progress: bool = False) -> SurveyResult:
    cases = check_int("cases", cases, low=0)
    start = time.perf_counter()
    rows = []
    points = draw_box(cases, seed) + (corners() if with_corners else [])
    for i, (K, d, delta) in enumerate(points):
        for estimand in ("ratio-of-means", "mean-of-ratios"):
            if estimand == "mean-of-ratios" and (K - 1) * d < 3:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = theorem1.run(K=K, d=d, n=K * d, delta=delta, estimand=estimand,
                                   samples=samples, seed=seed + i, num_sigma=num_sigma,
                                   replicates=replicates)
            for mode, m in res.modes.items():
                claims = {c.name: c for c in m.claims}
                rows.append({
                    "K": K, "d": d, "delta": delta, "input": mode, "estimand": estimand,
                    "peak_sigma_simulated": m.peak_sigma_simulated,
                    "peak_sigma_simulated_stderr": m.peak_sigma_simulated_stderr,
                    "peak_sigma_theory": m.peak_sigma_theory,
                    "peak_ratio": m.peak_ratio,
                    "height_ratio": m.peak_snr_simulated / m.peak_snr_theory,
                    "approx_error": claims["approx-near-peak"].measured,
                    "unimodal_z": claims["simulated-unimodal"].measured,
                    "simulated_interior": bool(np.argmax(m.snr_simulated) not in
                                               (0, m.sigma.size - 1)),
                    "theory_interior": m.peak_sigma_theory > 0,
                    "claims": {k: c.holds for k, c in claims.items()},
                    "verdict": m.verdict,
                })
        if progress:
            print(f"\rsurvey: {i + 1}/{len(points)} cases", end="", flush=True)
    if progress:
        print()
    return SurveyResult(rows, summarise(rows), time.perf_counter() - start)


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per (input, estimand): distribution of the ratios and how often each claim holds."""
    out = {}
    for mode in ("noisy", "clean"):
        for estimand in ("ratio-of-means", "mean-of-ratios"):
            sel = [r for r in rows if r["input"] == mode and r["estimand"] == estimand]
            if not sel:
                continue
            both = [r for r in sel if r["theory_interior"] and r["simulated_interior"]]
            ratio = np.array([r["peak_ratio"] for r in both])
            height = np.array([r["height_ratio"] for r in sel])
            approx = np.array([r["approx_error"] for r in sel])
            z = np.array([r["unimodal_z"] for r in sel])
            worst = both[int(np.argmax(np.abs(np.log(ratio))))] if both else None
            out[f"{mode}/{estimand}"] = {
                "cases": len(sel),
                "theory_no_interior_peak": sum(not r["theory_interior"] for r in sel),
                "simulated_no_interior_peak": sum(not r["simulated_interior"] for r in sel),
                "peak_ratio_min": float(ratio.min()) if both else math.nan,
                "peak_ratio_median": float(np.median(ratio)) if both else math.nan,
                "peak_ratio_max": float(ratio.max()) if both else math.nan,
                "peak_ratio_within_15pct": float(np.mean(np.abs(ratio - 1) <= 0.15)) if both else math.nan,
                "worst_peak_case": None if worst is None else
                    {k: worst[k] for k in ("K", "d", "delta", "peak_ratio")},
                "height_ratio_min": float(height.min()),
                "height_ratio_max": float(height.max()),
                "approx_error_max": float(approx.max()),
                "unimodal_z_max": float(z.max()),
                "holds": float(np.mean([r["verdict"] == "holds" for r in sel])),
            }
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=60, help="random (K, d, delta) points")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=40_000, help="samples per sigma")
    parser.add_argument("--num-sigma", type=int, default=30)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--corners", action="store_true",
                        help="also run the box's corners and edge midpoints (60 points)")
    parser.add_argument("--json", metavar="PATH", help="write every case and the summary")
    parser.add_argument("--quiet", action="store_true")


def main(args: argparse.Namespace) -> int:
    result = run(cases=args.cases, seed=args.seed, samples=args.samples,
                 num_sigma=args.num_sigma, replicates=args.replicates,
                 with_corners=args.corners, progress=not args.quiet)
    rows = [(key, s["cases"], s["theory_no_interior_peak"], s["simulated_no_interior_peak"],
             s["peak_ratio_min"], s["peak_ratio_median"], s["peak_ratio_max"],
             s["peak_ratio_within_15pct"], s["height_ratio_min"], s["height_ratio_max"],
             s["unimodal_z_max"], s["holds"]) for key, s in result.summary.items()]
    extra = " plus the box corners" if args.corners else ""
    print(f"Theorem 1 survey over {args.cases} random (K, d, delta){extra} in "
          f"{result.elapsed_s:.0f} s")
    print(report.format_table(
        ["input/estimand", "cases", "no theory peak", "no sim peak", "ratio min", "median",
         "max", "within 15%", "height min", "height max", "max unimodal z", "holds"], rows))
    for key, s in result.summary.items():
        if s["worst_peak_case"]:
            print(f"worst peak ratio, {key}: {s['worst_peak_case']}")
    if args.json:
        report.write_json(args.json, result.to_json())
    return 0
