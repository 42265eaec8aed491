"""``python -m verify sweep``: the paper's Fig. 14 experiment -- vary one parameter.

Defaults are the Fig. 14 setting (``n=100, d=5, K=10, delta=0.3``); one of ``K``, ``d``,
``delta`` or ``n`` takes each of ``--values`` in turn while the others stay fixed.  For
each value the full ``theorem1`` check runs; the report lists the simulated and theory
peaks, the peak SNRs and each verdict.  Exit status 0 when every verdict holds, else 1.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molrg.montecarlo import ESTIMANDS

from . import report, theorem1

NAME = "sweep"
HELP = "vary one of K, d, delta, n (Fig. 14) and compare simulated and theory peaks"
FIG14 = {"K": 10, "d": 5, "n": 100, "delta": 0.3}
INTEGER = ("K", "d", "n")


@dataclass(frozen=True)
class SweepResult:
    """One :class:`theorem1.Theorem1Result` per value of the varied parameter."""

    vary: str
    values: list[float]
    results: list[theorem1.Theorem1Result]
    elapsed_s: float

    @property
    def holds(self) -> bool:
        return all(r.holds for r in self.results)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for value, res in zip(self.values, self.results, strict=True):
            for mode, m in res.modes.items():
                out.append({
                    self.vary: value, "input": mode,
                    "peak_sigma_simulated": m.peak_sigma_simulated,
                    "peak_sigma_simulated_stderr": m.peak_sigma_simulated_stderr,
                    "peak_sigma_theory": m.peak_sigma_theory, "peak_ratio": m.peak_ratio,
                    "peak_snr_simulated": m.peak_snr_simulated,
                    "peak_snr_theory": m.peak_snr_theory, "verdict": m.verdict,
                })
        return out

    def to_json(self) -> dict[str, Any]:
        return {"command": NAME, "vary": self.vary, "values": self.values,
                "params": self.results[0].params if self.results else {},
                "rows": self.rows(), "elapsed_s": self.elapsed_s,
                "runs": [r.to_json() for r in self.results]}


def run(*, vary: str, values: Sequence[float], base: dict[str, Any] | None = None,
        progress: bool = False, **options: Any) -> SweepResult:
    """Run :func:`theorem1.run` for each value of ``vary`` (others from ``base``)."""
    if vary not in FIG14:
        raise ValueError(f"vary={vary!r} is not valid; valid: {', '.join(FIG14)}")
    if not values:
        raise ValueError("values is empty; give at least one value")
    start = time.perf_counter()
    params = dict(FIG14 if base is None else base)
    results = []
    for value in values:
        params[vary] = int(value) if vary in INTEGER else float(value)
        if progress:
            print(f"-- {vary} = {params[vary]}", flush=True)
        results.append(theorem1.run(**params, progress=progress, **options))
    return SweepResult(vary, [float(v) for v in values], results, time.perf_counter() - start)


def parse_values(text: str, vary: str) -> list[float]:
    """``"2,3,5"`` -> ``[2.0, 3.0, 5.0]`` with a clear error for anything else."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"values={text!r} must be comma-separated numbers") from None
    if vary in INTEGER and any(not v.is_integer() for v in values):
        raise ValueError(f"values={text!r}: {vary} takes integers")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vary", required=True, choices=tuple(FIG14), help="parameter to vary")
    parser.add_argument("--values", required=True, help="comma-separated values, e.g. 2,3,5,10")
    for key, value in FIG14.items():
        parser.add_argument(f"--{key}", type=type(value), default=value,
                            help=f"fixed {key} (default: {value}, Fig. 14)")
    parser.add_argument("--input", choices=("noisy", "clean", "both"), default="both")
    parser.add_argument("--estimand", choices=ESTIMANDS, default="ratio-of-means")
    parser.add_argument("--samples", type=int, default=100_000,
                        help="Monte Carlo samples per sigma (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-sigma", type=int, default=40)
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    parser.add_argument("--method", choices=("auto", "ambient", "reduced"), default="auto")
    parser.add_argument("--peak-tol", type=float, default=theorem1.DEFAULTS["peak_tol"])
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--plot", metavar="PATH", help="save a PNG figure")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def main(args: argparse.Namespace) -> int:
    values = parse_values(args.values, args.vary)
    base = {k: getattr(args, k) for k in FIG14}
    inputs = ("noisy", "clean") if args.input == "both" else (args.input,)
    result = run(vary=args.vary, values=values, base=base, inputs=inputs,
                 estimand=args.estimand, samples=args.samples, seed=args.seed,
                 num_sigma=args.num_sigma, backend=args.backend, method=args.method,
                 peak_tol=args.peak_tol, progress=not args.quiet)
    print(render(result))
    if args.json:
        report.write_json(args.json, result.to_json())
    if args.plot:
        plot(result, args.plot)
    return 0 if result.holds else 1


def render(result: SweepResult) -> str:
    p = result.results[0].params
    fixed = ", ".join(f"{k}={p[k]}" for k in FIG14 if k != result.vary)
    head = (f"Sweep over {result.vary} ({fixed}; estimand={p['estimand']}, "
            f"method={p['method']}, samples={p['samples']}) in {result.elapsed_s:.1f} s")
    rows = [(r[result.vary], r["input"], r["peak_sigma_simulated"],
             r["peak_sigma_simulated_stderr"], r["peak_sigma_theory"], r["peak_ratio"],
             r["peak_snr_simulated"], r["peak_snr_theory"], r["verdict"]) for r in result.rows()]
    table = report.format_table(
        [result.vary, "input", "sigma* sim", "+- SE", "sigma* theory", "ratio",
         "SNR* sim", "SNR* theory", "verdict"], rows)
    return head + "\n" + table


def plot(result: SweepResult, path: str) -> None:
    """Peak location and peak SNR against the varied parameter, simulated vs theory."""
    import matplotlib
    import matplotlib.ticker

    fig, (ax1, ax2) = report.new_figure(2)
    rows = result.rows()
    for i, mode in enumerate(sorted({r["input"] for r in rows}, reverse=True)):
        sel = [r for r in rows if r["input"] == mode]
        x = np.array([r[result.vary] for r in sel])
        sim = np.array([r["peak_sigma_simulated"] for r in sel])
        se = np.array([r["peak_sigma_simulated_stderr"] for r in sel])
        theo = np.array([r["peak_sigma_theory"] if r["peak_sigma_theory"] > 0 else math.nan
                         for r in sel])
        ax1.errorbar(x, sim, yerr=2 * np.nan_to_num(se), fmt="o-", color=f"C{2 * i}",
                     label=f"{mode}: simulated (+- 2 SE)")
        ax1.plot(x, theo, "s--", color=f"C{2 * i + 1}", label=f"{mode}: Theorem 1")
        ax2.plot(x, [r["peak_snr_simulated"] for r in sel], "o-", color=f"C{2 * i}",
                 label=f"{mode}: simulated")
        ax2.plot(x, [r["peak_snr_theory"] for r in sel], "s--", color=f"C{2 * i + 1}",
                 label=f"{mode}: Theorem 1")
    ax2.set_yscale("log")
    report.plain_log_ticks(ax2.yaxis)
    for ax, ylabel in ((ax1, "peak location sigma*"), (ax2, "peak SNR")):
        ax.set_xlabel(result.vary)
        ax.set_ylabel(ylabel)
        if result.vary in ("K", "d", "n"):
            ax.set_xscale("log")
        ax.set_xticks(result.values, [f"{v:g}" for v in result.values])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.legend(fontsize=8)
    p = result.results[0].params
    fig.suptitle(f"sweep over {result.vary} ({p['estimand']})")
    report.save_figure(fig, path)
