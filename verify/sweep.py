"""``python -m verify sweep``: the paper's Fig. 14 experiment -- vary one parameter.

Defaults are the Fig. 14 setting (``n=100, d=5, K=10, delta=0.3``); one of ``K``, ``d``,
``delta`` or ``n`` takes each of ``--values`` in turn while the others stay fixed.  For
each value the full ``theorem1`` check runs (exact SNR by default); the report lists the
SNR's and the approximation's peaks, the peak SNRs and each verdict.  Every value is
validated before any work; values run in parallel with ``--scheduler local``.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

import molrg
from molrg import ParameterError

from . import parallel, report, theorem

NAME = "sweep"
HELP = "vary one of K, d, delta, n (Fig. 14) and compare the SNR's and the theory's peaks"
FIG14 = {"K": 10, "d": 5, "n": 100, "delta": 0.3}
INTEGER = ("K", "d", "n")


@dataclass(frozen=True)
class SweepResult:
    """One :class:`theorem.Theorem1Result` (as JSON) per value of the varied parameter."""

    JUDGES_TRUST = True
    """Its verdict already accounts for untrustworthy Monte Carlo estimates."""

    vary: str
    values: list[float]
    runs: dict[str, dict[str, Any]]
    failures: dict[str, dict[str, Any]]
    form: str
    elapsed_s: float

    @property
    def verdict(self) -> str:
        """Any run deviates (or failed): ``deviates``; else any ``undetermined`` (Monte
        Carlo estimates flagged untrustworthy): ``undetermined``; else ``holds``."""
        from .claims import combine_verdicts

        if self.failures:
            return "deviates"
        return combine_verdicts([m["verdict"] for r in self.runs.values()
                                 for m in r["modes"].values()])

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for value in self.values:
            run = self.runs.get(_key(self.vary, value))
            if run is None:
                continue
            for mode, m in run["modes"].items():
                out.append({
                    self.vary: value, "input": mode,
                    "peak_sigma_simulated": m["peak_sigma_simulated"],
                    "peak_sigma_simulated_stderr": m["peak_sigma_simulated_stderr"],
                    "peak_sigma_theory": m["peak_sigma_theory"], "peak_ratio": m["peak_ratio"],
                    "peak_snr_simulated": m["peak_snr_simulated"],
                    "peak_snr_theory": m["peak_snr_theory"], "verdict": m["verdict"],
                    "failed_claims": [c["name"] for c in m.get("claims", []) if not c["holds"]],
                    "forms": {f: {"peak_sigma": v["peak_sigma"], "peak_snr": v["peak_snr"],
                                  "verdict": v["verdict"]} for f, v in m["forms"].items()},
                })
        return out

    def to_json(self) -> dict[str, Any]:
        first = next(iter(self.runs.values()), {})
        return {"vary": self.vary, "values": self.values, "form": self.form,
                "params": first.get("params", {}), "rows": self.rows(),
                "failures": self.failures, "elapsed_s": self.elapsed_s,
                "runs": self.runs}

    def render(self, *, table: bool = True) -> list[Any]:
        return render(self)

    def plot(self, path: str) -> None:
        plot(self, path)


def _key(vary: str, value: float) -> str:
    return f"{vary}={value:g}"


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: one theorem1 run (module level, so Dask can pickle it)."""
    options = theorem.Theorem1Options(**task.params)
    return theorem.run(options).to_json()


def run(*, vary: str, values: list[float], base: theorem.Theorem1Options | None = None,
        scheduler: str = "serial", workers: int | None = None,
        progress: report.Progress | None = None, done: dict[str, Any] | None = None,
        on_result: Any = None) -> SweepResult:
    """Run :func:`theorem.run` for each value of ``vary``; every value validated first."""
    if vary not in FIG14:
        raise ParameterError(f"vary={vary!r} is not valid; valid: {', '.join(FIG14)}")
    if not values:
        raise ParameterError("values is empty; give at least one value")
    base = base or theorem.Theorem1Options(**cast("dict[str, Any]", FIG14))
    tasks = []
    for value in values:
        v = int(value) if vary in INTEGER else float(value)
        try:  # validates this value now, before any work
            options = replace(base, **cast("dict[str, Any]", {vary: v}))
        except ParameterError as exc:
            raise ParameterError(f"values={value:g} is not valid for {vary}: {exc}") from None
        params = options.to_json()
        params["inputs"] = tuple(params["inputs"])
        tasks.append(parallel.Task(_key(vary, value), params))
    start = time.perf_counter()
    progress = progress or report.Progress(enabled=False)
    result = parallel.map_tasks(_task, tasks, scheduler=scheduler, workers=workers,
                                progress=progress.phase(f"sweep over {vary}"), done=done,
                                on_result=on_result)
    return SweepResult(vary, [float(v) for v in values], result.results, result.failures,
                       base.form, time.perf_counter() - start)


def parse_values(text: str, vary: str) -> list[float]:
    """``"2,3,5"`` -> ``[2.0, 3.0, 5.0]`` with a clear error for anything else."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"values={text!r} must be comma-separated numbers") from None
    if not values:
        raise ParameterError(f"values={text!r} is empty; give comma-separated numbers")
    if any(not math.isfinite(v) for v in values):
        raise ParameterError(f"values={text!r} must be finite numbers")
    if vary in INTEGER and any(not v.is_integer() for v in values):
        raise ParameterError(f"values={text!r}: {vary} takes integers")
    if len(set(values)) != len(values):
        raise ParameterError(f"values={text!r} repeats a value; give each value once")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vary", required=True, choices=tuple(FIG14),
                        help="the parameter to vary")
    parser.add_argument("--values", required=True,
                        help="comma-separated values of the varied parameter, e.g. 2,3,5,10")
    fixed = parser.add_argument_group("fixed parameters (defaults: the paper's Fig. 14)")
    for key, value in FIG14.items():
        fixed.add_argument(f"--{key}", type=type(value), default=value,
                           help=f"fixed {key} (default: {value})")
    t = parser.add_argument_group("theorem1 options (see python -m verify theorem1 --help)")
    t.add_argument("--form", choices=molrg.FORMS, default="printed",
                   help="the approximation the verdicts are about (default: printed)")
    t.add_argument("--input", choices=("noisy", "clean", "both"), default="both",
                   help="denoiser input (default: both)")
    t.add_argument("--estimand", choices=molrg.ESTIMANDS, default="ratio-of-means",
                   help="SNR estimand (default: ratio-of-means)")
    t.add_argument("--method", choices=molrg.METHODS, default="auto",
                   help="exact SNR method (default: auto = quadrature)")
    t.add_argument("--samples", type=int, default=100_000,
                   help="Monte Carlo samples per sigma (default: %(default)s)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    t.add_argument("--num-sigma", type=int, default=40, help="grid points (default: 40)")
    t.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="Monte Carlo array backend")
    t.add_argument("--peak-tol", type=float, default=0.15,
                   help="allowed |sigma*_SNR / sigma*_approx - 1| (default: 0.15)")
    parallel.add_arguments(parser)


def execute(args: argparse.Namespace) -> SweepResult:
    values = parse_values(args.values, args.vary)
    inputs = ("noisy", "clean") if args.input == "both" else (args.input,)
    base = theorem.Theorem1Options(
        K=args.K, d=args.d, n=args.n, delta=args.delta, inputs=inputs, form=args.form,
        estimand=args.estimand, method=args.method, samples=args.samples, seed=args.seed,
        num_sigma=args.num_sigma, backend=args.backend, peak_tol=args.peak_tol)
    with parallel.session(args, parallel.partial_runs(NAME)) as s:
        return run(vary=args.vary, values=values, base=base, scheduler=s.scheduler,
                   workers=s.workers, progress=s.progress, done=s.done, on_result=s.on_result)


def render(result: SweepResult) -> list[Any]:
    def where(sigma: float | None) -> Any:  # 0 in the JSON: the curve peaks as sigma -> 0
        return sigma if sigma else "none"

    rows = [(r[result.vary], r["input"], where(r["peak_sigma_simulated"]),
             r["peak_sigma_simulated_stderr"] if r["peak_sigma_simulated"] else "",
             *(where(r["forms"][f]["peak_sigma"]) for f in molrg.FORMS),
             r["peak_snr_simulated"], r["peak_snr_theory"],
             r["verdict"] + "".join(f"\n{c}" for c in r["failed_claims"]))
            for r in result.rows()]
    out: list[Any] = [report.table(
        [result.vary, "input", "SNR peak", "+-", *(f"{f} peak" for f in molrg.FORMS),
         "peak SNR", f"{result.form} peak SNR", "verdict"], rows,
        title=f"Sweep over {result.vary} ({result.elapsed_s:.1f} s); verdicts about the "
        f"{result.form} form; 'none': no interior peak (largest as sigma -> 0)")]
    for key, failure in result.failures.items():
        out.append(f"[red]FAILED[/red] {key}: {failure['error']}")
    out.append(verdict_line(result))
    return out


def verdict_line(result: SweepResult) -> str:
    """The overall verdict, naming the claim and every claim that failed, with counts."""
    rows = result.rows()
    failed: dict[str, int] = {}
    for r in rows:
        for name in r["failed_claims"]:
            failed[name] = failed.get(name, 0) + 1
    deviating = sum(r["verdict"] != "holds" for r in rows)
    text = (f"verdict (Theorem 1, {result.form} form: unimodal SNR, one interior peak of "
            f"the approximation, peak within the tolerance, approximation near the peak; at "
            f"every {result.vary}): [bold]{result.verdict.upper()}[/bold]")
    if deviating:
        text += (f" -- {deviating} of {len(rows)} rows deviate: "
                 + ", ".join(f"{name} in {n}" for name, n in failed.items()))
    if result.failures:
        text += f"; {len(result.failures)} value(s) failed to run"
    return text


def plot(result: SweepResult, path: str) -> None:
    """Peak location and peak SNR against the varied parameter, SNR vs every form."""
    import matplotlib.ticker

    fig, (ax1, ax2) = report.new_figure(2)
    rows = result.rows()
    for i, mode in enumerate(sorted({r["input"] for r in rows}, reverse=True)):
        sel = [r for r in rows if r["input"] == mode]
        x = np.array([r[result.vary] for r in sel])
        sim = np.array([r["peak_sigma_simulated"] for r in sel])
        se = np.array([r["peak_sigma_simulated_stderr"] or 0.0 for r in sel], dtype=float)
        ax1.errorbar(x, sim, yerr=2 * np.nan_to_num(se), fmt="o-", color=f"C{i}",
                     label=f"{mode}: SNR peak")
        ax2.plot(x, [r["peak_snr_simulated"] for r in sel], "o-", color=f"C{i}",
                 label=f"{mode}: SNR")
        for j, form in enumerate(molrg.FORMS):
            theo = [r["forms"][form]["peak_sigma"] or math.nan for r in sel]
            ax1.plot(x, [t if t and t > 0 else math.nan for t in theo],
                     ["s--", "^:", "d-."][j], color=f"C{i}", alpha=0.7,
                     label=f"{mode}: {form}")
            ax2.plot(x, [r["forms"][form]["peak_snr"] for r in sel], ["s--", "^:", "d-."][j],
                     color=f"C{i}", alpha=0.7, label=f"{mode}: {form}")
    ax2.set_yscale("log")
    report.plain_log_ticks(ax2.yaxis)
    for ax, ylabel in ((ax1, r"peak location $\sigma^*$"), (ax2, "peak SNR")):
        ax.set_xlabel(report.math_name(result.vary))
        ax.set_ylabel(ylabel)
        if result.vary in ("K", "d", "n"):
            ax.set_xscale("log")
        ax.set_xticks(result.values, [f"{v:g}" for v in result.values])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.legend(fontsize=7)
    fig.suptitle(f"sweep over {report.math_name(result.vary)}")
    report.save_figure(fig, path)
