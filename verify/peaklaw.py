"""``python -m verify peak-law``: error of the closed-form peak law over the box.

For random ``(K, d, delta)`` (``K`` uniform in [2, 32], ``d`` log-uniform in [1, 256],
``delta`` uniform in [0.05, 0.9]) the law :func:`molrg.peak_law` is compared with the
root-found peak of the approximation :func:`molrg.peak`.  Reported per mode: coverage
(where the law exists), the median, 90th-percentile and worst relative error, the worst
case, and the same restricted to cases whose margin at the peak is at least 6 (the law's
first-order-in-``exp(-Delta)`` regime; measured: below a margin of about 4 the law breaks).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

import molrg
from molrg._validation import check_int

from . import report

NAME = "peak-law"
HELP = "measure the closed-form peak law against the root-found peak over the box"
MARGIN_REGIME = 6.0


@dataclass(frozen=True)
class PeakLawResult:
    cases: int
    summary: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"command": NAME, "cases": self.cases, "summary": self.summary}


def run(*, cases: int = 400, seed: int = 0) -> PeakLawResult:
    cases = check_int("cases", cases, low=1)
    rng = np.random.default_rng(seed)
    box = [(int(rng.integers(2, 33)), round(float(np.exp(rng.uniform(0, np.log(256))))),
            float(rng.uniform(0.05, 0.9))) for _ in range(cases)]
    summary = {}
    for mode in ("noisy", "clean"):
        rows = []
        for K, d, delta in box:
            p = molrg.peak(K, d, delta, mode)
            if not p.interior:
                continue
            law = molrg.peak_law(K, d, delta, mode)
            margin = float(molrg.margin(p.sigma, d, delta, mode))
            rows.append((K, d, delta, p.sigma, law, law / p.sigma - 1, margin))
        arr = np.array(rows)
        ok = np.isfinite(arr[:, 5])
        err = np.abs(arr[ok, 5])
        worst = arr[ok][int(np.argmax(err))]
        regime = ok & (arr[:, 6] >= MARGIN_REGIME)
        err_regime = np.abs(arr[regime, 5])
        summary[mode] = {
            "interior_peaks": len(arr),
            "law_defined": float(ok.mean()),
            "median_rel_error": float(np.median(err)),
            "p90_rel_error": float(np.quantile(err, 0.9)),
            "max_rel_error": float(err.max()),
            "worst_case": {"K": worst[0], "d": worst[1], "delta": worst[2],
                           "sigma_peak": worst[3], "sigma_law": worst[4], "margin": worst[6]},
            "regime_fraction": float(regime.mean()),
            "regime_max_rel_error": float(err_regime.max()) if err_regime.size else None,
            "regime_p90_rel_error": float(np.quantile(err_regime, 0.9)) if err_regime.size else None,
        }
    return PeakLawResult(cases, summary)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=400, help="random (K, d, delta) triples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")


def main(args: argparse.Namespace) -> int:
    result = run(cases=args.cases, seed=args.seed)
    rows = []
    for mode, s in result.summary.items():
        w = s["worst_case"]
        rows.append((mode, s["interior_peaks"], s["law_defined"], s["median_rel_error"],
                     s["p90_rel_error"], s["max_rel_error"],
                     f"K={w['K']:.0f} d={w['d']:.0f} delta={w['delta']:.3f} margin={w['margin']:.2f}",
                     s["regime_fraction"], s["regime_p90_rel_error"], s["regime_max_rel_error"]))
    print(f"Peak law vs root-found peak, {result.cases} random (K, d, delta)")
    print(report.format_table(
        ["input", "interior", "defined", "median err", "p90 err", "max err", "worst case",
         f"margin>={MARGIN_REGIME:g}", "p90 there", "max there"], rows))
    if args.json:
        report.write_json(args.json, result.to_json())
    return 0
