"""``python -m verify peak-law``: error of the closed-form peak law over the box.

For random ``(K, d, delta)`` (``K`` uniform in [2, 32], ``d`` log-uniform in [1, 256],
``delta`` uniform in [0.05, 0.9]) the law :func:`molrg.peak_law` is compared with the
root-found peak of the approximation :func:`molrg.peak`.  Reported per mode: coverage
(where the law exists), the median, 90th-percentile and worst relative error, the worst
case, and the same restricted to cases whose margin at the peak is at least 6 (the law's
first-order-in-``exp(-Delta)`` regime; measured: below a margin of about 4 the law breaks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import molrg
from molrg.validation import check_int

from . import report
from .command import Command, Context, option

MARGIN_REGIME = 6.0


@dataclass(frozen=True)
class PeakLawResult:
    cases: int
    summary: dict[str, dict[str, Any]]
    verdict: str = "info"

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "summary": self.summary}

    def render(self, *, table: bool = True) -> list[Any]:
        rows = []
        for mode, s in self.summary.items():
            w = s["worst_case"] or {}
            worst = (f"K={w['K']:.0f} d={w['d']:.0f} delta={w['delta']:.3f} "
                     f"margin={w['margin']:.2f}") if w else "-"
            rows.append((mode, s["interior_peaks"], s["law_defined"], s["median_rel_error"],
                         s["p90_rel_error"], s["max_rel_error"], worst, s["regime_fraction"],
                         s["regime_p90_rel_error"], s["regime_max_rel_error"]))
        return [report.table(
            ["input", "interior", "defined", "median err", "p90 err", "max err", "worst case",
             f"margin>={MARGIN_REGIME:g}", "p90 there", "max there"], rows,
            title=f"Peak law vs root-found peak (derived form), {self.cases} random "
            "(K, d, delta)"), self.verdict_line()]

    def verdict_line(self) -> str:
        """The overall line: what was measured, and that no claim is judged."""
        parts = [f"{mode}: 90% of {s['interior_peaks']} interior peaks within "
                 f"{s['p90_rel_error']:.1%}, worst {s['max_rel_error']:.1%}"
                 for mode, s in self.summary.items() if s["interior_peaks"]]
        return ("verdict [bold]INFO[/bold] (the closed-form peak law against the root-found "
                "peak of the derived form: measured, no claim judged -- the law has no stated "
                "tolerance; docs/peak_law.md) | " + "; ".join(parts))


@dataclass(frozen=True)
class PeakLawOptions:
    """Options of ``peak-law``."""

    cases: int = option(400, "random (K, d, delta) triples (default: 400)")
    seed: int = option(0, "random seed (default: 0)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", check_int("cases", self.cases, low=1, high=100_000))
        check_int("seed", self.seed, low=0)


class PeakLaw(Command[PeakLawOptions]):
    """``python -m verify peak-law``."""

    name = "peak-law"
    help = "measure the closed-form peak law against the root-found peak over the box"
    Options = PeakLawOptions
    plots = False
    """No figure: the report is a table (``--plot`` is not offered)."""

    def run(self, options: PeakLawOptions, context: Context) -> PeakLawResult:
        return run(options)


def run(options: PeakLawOptions | None = None) -> PeakLawResult:
    """Compare the law with the root-found peak at ``options.cases`` random settings."""
    options = options or PeakLawOptions()
    cases, seed = options.cases, options.seed
    rng = np.random.default_rng(seed)
    box = [(int(rng.integers(2, 33)), round(float(np.exp(rng.uniform(0, np.log(256))))),
            float(rng.uniform(0.05, 0.9))) for _ in range(cases)]
    summary = {}
    for mode in ("noisy", "clean"):
        rows = []
        for K, d, delta in box:
            setting = molrg.Setting(K, d, delta)
            p = molrg.peak(setting, input=mode, form="derived")
            if not p.interior:
                continue
            law = molrg.peak_law(setting, input=mode)
            margin = float(molrg.margin(p.sigma, setting, input=mode, form="derived"))
            rows.append((K, d, delta, p.sigma, law, law / p.sigma - 1, margin))
        arr = np.array(rows, dtype=float).reshape(-1, 7)
        ok = np.isfinite(arr[:, 5])
        err = np.abs(arr[ok, 5])
        worst = arr[ok][int(np.argmax(err))] if err.size else None
        regime = ok & (arr[:, 6] >= MARGIN_REGIME)
        err_regime = np.abs(arr[regime, 5])
        summary[mode] = {
            "interior_peaks": len(arr),
            "law_defined": float(ok.mean()) if len(arr) else math.nan,
            "median_rel_error": float(np.median(err)) if err.size else math.nan,
            "p90_rel_error": float(np.quantile(err, 0.9)) if err.size else math.nan,
            "max_rel_error": float(err.max()) if err.size else math.nan,
            "worst_case": None if worst is None else {
                "K": worst[0], "d": worst[1], "delta": worst[2], "sigma_peak": worst[3],
                "sigma_law": worst[4], "margin": worst[6]},
            "regime_fraction": float(regime.mean()) if len(arr) else math.nan,
            "regime_max_rel_error": float(err_regime.max()) if err_regime.size else None,
            "regime_p90_rel_error": float(np.quantile(err_regime, 0.9)) if err_regime.size else None,
        }
    return PeakLawResult(cases, summary)
