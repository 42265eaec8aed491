"""``python -m verify sweep``: the paper's Fig. 14 experiment -- vary one parameter.

Defaults are the Fig. 14 setting (``n=100, d=5, K=10, delta=0.3``); one of ``K``, ``d``,
``delta`` or ``n`` takes each of ``--values`` in turn while the others stay fixed.  For
each value the full ``theorem1`` check runs (exact SNR by default); the report lists the
SNR's and the approximation's peaks, the peak SNRs and each verdict.  Every value is
validated before any work; values run in parallel with ``--scheduler local``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

import molrg
from molrg import ParameterError

from . import parallel, report, theorem
from .claims import combine_verdicts, parse_floats
from .command import Command, Context, option
from .theorem import input_modes

FIG14 = {"K": 10, "d": 5, "n": 100, "delta": 0.3}
INTEGER = ("K", "d", "n")
FIXED = "fixed parameters (defaults: the paper's Fig. 14)"
THEOREM = "theorem1 options (see python -m verify theorem1 --help)"


def parse_numbers(text: str) -> tuple[float, ...]:
    """``--values``: ``"2,3,5"`` -> ``(2.0, 3.0, 5.0)`` (:func:`verify.claims.parse_floats`),
    each finite."""
    values = parse_floats(text, "values")
    if any(not math.isfinite(v) for v in values):
        raise ParameterError(f"values={text!r} must be finite numbers")
    return values


@dataclass(frozen=True)
class SweepOptions:
    """Options of ``sweep``: the varied parameter and its values, the fixed parameters
    (default: Fig. 14's) and the ``theorem1`` options of every run; validated on
    construction, every value included (before any work)."""

    vary: str = option("K", "the parameter to vary", choices=tuple(FIG14), required=True,
                       text=None)
    values: tuple[float, ...] = option((2.0, 3.0, 5.0, 10.0, 20.0), "comma-separated values "
                                       "of the varied parameter, e.g. 2,3,5,10",
                                       required=True, text=None, parse=parse_numbers)
    K: int = option(FIG14["K"], f"fixed K (default: {FIG14['K']})", group=FIXED)
    d: int = option(FIG14["d"], f"fixed d (default: {FIG14['d']})", group=FIXED)
    n: int = option(FIG14["n"], f"fixed n (default: {FIG14['n']})", group=FIXED)
    delta: float = option(FIG14["delta"], f"fixed delta (default: {FIG14['delta']})",
                          group=FIXED)
    form: str = option("printed", "the approximation the verdicts are about (default: "
                       "printed)", group=THEOREM, choices=molrg.FORMS)
    inputs: tuple[str, ...] = option(("noisy", "clean"), "denoiser input (default: both)",
                                     group=THEOREM, flag="--input", dest="input",
                                     choices=("noisy", "clean", "both"), text="both",
                                     parse=input_modes)
    estimand: str = option("ratio-of-means", "SNR estimand (default: ratio-of-means)",
                           group=THEOREM, choices=molrg.ESTIMANDS)
    method: str = option("auto", "exact SNR method (default: auto = quadrature)",
                         group=THEOREM, choices=molrg.METHODS)
    samples: int = option(100_000, "Monte Carlo samples per sigma (default: %(default)s)",
                          group=THEOREM)
    seed: int = option(0, "random seed (default: 0)", group=THEOREM)
    num_sigma: int = option(40, "grid points (default: 40)", group=THEOREM)
    backend: str = option("numpy", "Monte Carlo array backend", group=THEOREM,
                          choices=("numpy", "cupy"))
    peak_tol: float = option(0.15, "allowed |sigma*_SNR / sigma*_approx - 1| (default: "
                             "0.15)", group=THEOREM)

    def __post_init__(self) -> None:
        if self.vary not in FIG14:
            raise ParameterError(f"vary={self.vary!r} is not valid; valid: {', '.join(FIG14)}")
        values = tuple(float(v) for v in self.values)
        text = ",".join(f"{v:g}" for v in values)
        if not values:
            raise ParameterError("values is empty; give at least one value")
        if self.vary in INTEGER and any(not v.is_integer() for v in values):
            raise ParameterError(f"values={text!r}: {self.vary} takes integers")
        if len(set(values)) != len(values):
            raise ParameterError(f"values={text!r} repeats a value; give each value once")
        object.__setattr__(self, "values", values)
        self.runs()  # validates every value now, before any work

    def base(self) -> theorem.Theorem1Options:
        """The ``theorem1`` options of the fixed parameters."""
        return theorem.Theorem1Options(
            K=self.K, d=self.d, n=self.n, delta=self.delta, inputs=self.inputs,
            form=self.form, estimand=self.estimand, method=self.method, samples=self.samples,
            seed=self.seed, num_sigma=self.num_sigma, backend=self.backend,
            peak_tol=self.peak_tol)

    def runs(self) -> dict[str, theorem.Theorem1Options]:
        """The ``theorem1`` options of each value, by task key."""
        base = self.base()
        out = {}
        for value in self.values:
            v = int(value) if self.vary in INTEGER else float(value)
            try:
                out[_key(self.vary, value)] = replace(base, **cast("dict[str, Any]",
                                                                   {self.vary: v}))
            except ParameterError as exc:
                raise ParameterError(f"values={value:g} is not valid for {self.vary}: "
                                     f"{exc}") from None
        return out


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


def run(options: SweepOptions, context: Context | None = None) -> SweepResult:
    """Run :func:`theorem.run` for each value of ``options.vary`` (validated first)."""
    context = context or Context()
    tasks = []
    for key, run_options in options.runs().items():
        params = run_options.to_json()
        params["inputs"] = tuple(params["inputs"])
        tasks.append(parallel.Task(key, params))
    start = time.perf_counter()
    result = context.map(_task, tasks, f"sweep over {options.vary}")
    return SweepResult(options.vary, [float(v) for v in options.values], result.results,
                       result.failures, options.form, time.perf_counter() - start)


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


class Sweep(Command[SweepOptions]):
    """``python -m verify sweep``."""

    name = "sweep"
    help = "vary one of K, d, delta, n (Fig. 14) and compare the SNR's and the theory's peaks"
    Options = SweepOptions
    scheduler = "serial"

    def run(self, options: SweepOptions, context: Context) -> SweepResult:
        return run(options, context)
