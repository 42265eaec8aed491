"""``python -m verify survey``: the theorem1 check at random points of the box.

Runs ``theorem1`` at random ``K in [2, 16]``, ``d in [1, 64]`` (log-uniform),
``delta in [0.05, 0.9]`` for both input modes and both estimands (ratio of means exactly
by quadrature; mean of ratios by the reduced Monte Carlo, where its mean is finite), and
summarises, per input, estimand and form: the peak-location ratio ``sigma*_SNR /
sigma*_form``, the peak-height ratio, the approximation error near the peak and how often
each verdict holds.  It reports distributions, not a verdict (exit 0).  For a dense
deterministic picture of the ratio of means use ``verify map``.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

import molrg
from molrg.validation import check_int

from . import parallel, report, theorem
from .command import Command, Context, option

BOX: dict[str, tuple[float, float]] = {"K": (2, 16), "d": (1, 64), "delta": (0.05, 0.9)}
ESTIMANDS = ("ratio-of-means", "mean-of-ratios")


@dataclass(frozen=True)
class SurveyResult:
    results: dict[str, list[dict[str, Any]]]
    summary: dict[str, dict[str, Any]]
    failures: dict[str, dict[str, Any]]
    elapsed_s: float
    verdict: str = "info"
    num_sigma: int | None = None

    @property
    def cases(self) -> list[dict[str, Any]]:
        """Every row (one per point, estimand and input mode)."""
        return [row for rows in self.results.values() for row in rows]

    def to_json(self) -> dict[str, Any]:
        return {"box": BOX, "summary": self.summary, "results": self.results,
                "failures": self.failures, "elapsed_s": self.elapsed_s}

    def render(self, *, table: bool = True) -> list[Any]:
        rows = [(key, s["cases"], s["snr_no_interior_peak"], s["form_no_interior_peak"],
                 s["peak_ratio_min"], s["peak_ratio_median"], s["peak_ratio_max"],
                 s["peak_ratio_within_15pct"], s["height_ratio_median"], s["holds"])
                for key, s in self.summary.items()]
        out: list[Any] = [report.table(
            ["input/estimand/form", "cases", "no SNR peak", "no form peak", "ratio min",
             "median", "max", "within 15%", "height median", "holds"], rows,
            title=f"Theorem 1 survey, {len(self.cases)} rows ({self.elapsed_s:.0f} s)")]
        for key, failure in self.failures.items():
            out.append(f"[red]FAILED[/red] {key}: {failure['error']}")
        if self.num_sigma is not None:
            coarse = self.num_sigma < 40
            out.append(f"grid: {self.num_sigma} log-spaced sigma per case over a factor "
                       f"{theorem.GRID_HALF_WIDTH**2:g} around the peaks (theorem1's grid)"
                       + ("; [yellow]grid-limited[/yellow]: coarser than theorem1's default "
                          "(40), a finer grid (--num-sigma 40) may change the 'holds' counts"
                          if coarse else ""))
        return out

    def plot(self, path: str) -> None:
        fig, axes = report.new_figure(2)
        for ax, mode in zip(axes, molrg.INPUTS, strict=True):
            for j, form in enumerate(molrg.FORMS):
                sel = [r for r in self.cases if r["input"] == mode and
                       r["estimand"] == "ratio-of-means" and
                       math.isfinite(r["forms"][form]["peak_ratio"] or math.nan)]
                ax.scatter([r["delta"] for r in sel],
                           [r["forms"][form]["peak_ratio"] for r in sel], s=10,
                           color=f"C{j}", label=form)
            ax.axhspan(0.85, 1.15, color="0.9")
            ax.set_yscale("log")
            ax.set_xlabel(report.math_name("delta"))
            ax.set_ylabel(r"$\sigma^*_{\mathrm{SNR}} \,/\, \sigma^*_{\mathrm{form}}$")
            ax.set_title(f"{mode} input, ratio of means")
            ax.legend(fontsize=8)
        report.save_figure(fig, path)


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


def _task(task: parallel.Task) -> list[dict[str, Any]]:
    """Worker: both estimands at one (K, d, delta)."""
    p = task.params
    rows = []
    for estimand in ESTIMANDS:
        if estimand == "mean-of-ratios" and (p["K"] - 1) * p["d"] < 3:
            continue
        options = theorem.Theorem1Options(
            K=p["K"], d=p["d"], n=p["K"] * p["d"], delta=p["delta"], estimand=estimand,
            samples=p["samples"], seed=task.seed % 2**31, num_sigma=p["num_sigma"],
            replicates=p["replicates"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # infinite-variance warning
            res = theorem.run(options)
        for mode, m in res.modes.items():
            rows.append({
                "K": p["K"], "d": p["d"], "delta": p["delta"], "input": mode,
                "estimand": estimand, "method": m.exact.method.name,
                "peak_sigma_simulated": m.peak.sigma,
                "peak_sigma_simulated_stderr": m.peak.stderr,
                "peak_snr_simulated": m.peak.snr, "simulated_interior": m.peak.interior,
                "forms": {form: {
                    "peak_sigma": f.peak.sigma, "interior": f.peak.interior,
                    "peak_ratio": m.peak.sigma / f.peak.sigma
                    if f.peak.interior and m.peak.interior else math.nan,
                    "height_ratio": m.peak.snr / f.peak.snr,
                    "approx_error": next(c.measured for c in f.claims
                                         if c.name == "approx-near-peak"),
                    "verdict": f.verdict} for form, f in m.forms.items()},
            })
    return rows


@dataclass(frozen=True)
class SurveyOptions:
    """Options of ``survey``, validated on construction."""

    cases: int = option(60, "random (K, d, delta) points (default: 60)")
    seed: int = option(0, "random seed (default: 0)")
    samples: int = option(40_000, "Monte Carlo samples per sigma for the mean of ratios")
    num_sigma: int = option(30, "grid points (default: 30)")
    replicates: int = option(4, "Monte Carlo replicate curves per peak (default: 4)")
    corners: bool = option(False, "also run the box's corners and edge midpoints (60 "
                           "points)", action="store_true")

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", check_int("cases", self.cases, low=1, high=100_000))
        check_int("seed", self.seed, low=0)
        theorem.Theorem1Options(samples=self.samples, num_sigma=self.num_sigma,
                                replicates=self.replicates)


def run(options: SurveyOptions | None = None, context: Context | None = None) -> SurveyResult:
    """Run ``theorem1``'s check at every point of the survey (one task per point)."""
    options = options or SurveyOptions()
    context = context or Context()
    points = draw_box(options.cases, options.seed) + (corners() if options.corners else [])
    seeds = parallel.spawn_seeds(options.seed, len(points))
    tasks = [parallel.Task(f"K={K},d={d},delta={delta:.6g}",
                           {"K": K, "d": d, "delta": delta, "samples": options.samples,
                            "num_sigma": options.num_sigma,
                            "replicates": options.replicates}, s)
             for (K, d, delta), s in zip(points, seeds, strict=True)]
    unique = {t.key: t for t in tasks}
    start = time.perf_counter()
    result = context.map(_task, list(unique.values()), "survey")
    rows = [row for rs in result.results.values() for row in rs]
    return SurveyResult(result.results, summarise(rows), result.failures,
                        time.perf_counter() - start, num_sigma=options.num_sigma)


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per (input, estimand, form): distribution of the ratios and how often it holds."""
    out = {}
    for mode in molrg.INPUTS:
        for estimand in ESTIMANDS:
            sel = [r for r in rows if r["input"] == mode and r["estimand"] == estimand]
            for form in molrg.FORMS:
                if not sel:
                    continue
                ratio = np.array([r["forms"][form]["peak_ratio"] for r in sel], dtype=float)
                ratio = ratio[np.isfinite(ratio)]
                height = np.array([r["forms"][form]["height_ratio"] for r in sel], dtype=float)
                out[f"{mode}/{estimand}/{form}"] = {
                    "cases": len(sel),
                    "snr_no_interior_peak": sum(not r["simulated_interior"] for r in sel),
                    "form_no_interior_peak": sum(not r["forms"][form]["interior"] for r in sel),
                    "peak_ratio_min": float(ratio.min()) if ratio.size else math.nan,
                    "peak_ratio_median": float(np.median(ratio)) if ratio.size else math.nan,
                    "peak_ratio_max": float(ratio.max()) if ratio.size else math.nan,
                    "peak_ratio_within_15pct": float(np.mean(np.abs(ratio - 1) <= 0.15))
                    if ratio.size else math.nan,
                    "height_ratio_median": float(np.median(height)),
                    "holds": float(np.mean([r["forms"][form]["verdict"] == "holds"
                                            for r in sel])),
                }
    return out


class Survey(Command[SurveyOptions]):
    """``python -m verify survey``."""

    name = "survey"
    help = "run the Theorem 1 check at random (K, d, delta) and summarise where each form holds"
    Options = SurveyOptions
    scheduler = "serial"
    partial = "results"

    def run(self, options: SurveyOptions, context: Context) -> SurveyResult:
        return run(options, context)
