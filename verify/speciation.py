"""``python -m verify speciation``: is the SNR peak the speciation level?

For every setting of a box of ``(K, d, delta)`` (default 3 x 3 x 4 = 36 settings), U-turn
experiments with the exact optimal denoiser (``molrg.speciation_curve``): ``x0`` of class
``k``, ``x = x0 + sigma eps``, the reverse SDE (Euler-Maruyama, the stochastic backward
dynamics the speciation papers describe) down to ``sigma_end``, the end point classified by the
Bayes rule.  The speciation level ``sigma_S`` is where ``P(same class)`` crosses
``(1 + 1/K) / 2``, with a bootstrap error bar and a step-size check (the level with twice
the steps).  The U-turn does not depend on ``n`` (the dynamics outside ``span(U)`` only
shrinks): the box runs with ``n = K d`` and a canonical basis.

Compared with, per setting:

* the exact SNR peaks of the optimal denoiser, noisy and clean input (quadrature);
* Biroli et al. (arXiv 2402.18491), spectral criterion ``Lambda e^{-2 t_S} = 1``: no level
  on the MoLRG (``Lambda = (1 + (K-1) delta^2) / K < 1``);
* Achilli et al. (arXiv 2602.04404), our reading of the free-entropy balance:
  ``sigma_rs^2 = (1 - rho* delta^2) / (rho* - 1)``, ``rho* = (sqrt(d-1)+1)/(sqrt(d-1)-1)``;
* the probability-flow ODE's U-turn, which never reorders the block energies: its level is
  where the exact Bayes accuracy of ``x_sigma`` crosses the midpoint (quadrature).

Claims (tolerances ``--tol``, a factor): ``speciation-is-noisy-peak`` and
``speciation-is-clean-peak`` (every ratio within the factor), ``achilli-criterion`` (every
level it predicts within the factor, and a level predicted wherever one is measured),
``biroli-spectral-criterion`` (a level predicted wherever one is measured),
``step-size-converged`` (halving the step moves every level by less than ``--z`` errors).
The report also classifies the ratio to each peak: ``constant`` (max/min within
``tol^2``), ``trends`` (|Spearman| with ``K``, ``d`` or ``delta`` >= 0.6) or ``unrelated``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

import molrg
from molrg import ParameterError, neighbours
from molrg.dynamics import SAMPLERS
from molrg.probes import bayes_accuracy_exact
from molrg.validation import check_int, check_real

from . import parallel, report
from .claims import Claim, ClaimsResult, SigmaGrid, parse_floats
from .command import Command, Context, option, set_unchanged

BOX = "box"
UTURNS = "U-turns"
CLAIMS = "claims"


def _ints(text: str, name: str) -> tuple[int, ...]:
    vals = parse_floats(text, name)
    if any(not v.is_integer() for v in vals):
        raise ParameterError(f"{name}={text!r} must be comma-separated integers")
    return tuple(int(v) for v in vals)


@dataclass(frozen=True)
class SpeciationOptions(SigmaGrid):
    """Options of ``speciation`` (defaults: 36 settings, about two minutes on two shared cores)."""

    K: tuple[int, ...] = option((2, 3, 5), "classes (default: 2,3,5)", group=BOX,
                                text="2,3,5", parse=functools.partial(_ints, name="K"))
    d: tuple[int, ...] = option((3, 5, 10), "dimensions (default: 3,5,10)", group=BOX,
                                text="3,5,10", parse=functools.partial(_ints, name="d"))
    delta: tuple[float, ...] = option((0.1, 0.2, 0.3, 0.5), "detail noise (default: "
                                      "0.1,0.2,0.3,0.5)", group=BOX, text="0.1,0.2,0.3,0.5",
                                      parse=functools.partial(parse_floats, name="delta"))
    samples: int = option(400, "U-turns per level (400)", group=UTURNS)
    steps: int = option(48, "sampler steps from sigma-max to sigma-end (48; the check uses "
                        "2x)", group=UTURNS)
    sampler: str = option("sde", "sde (default) or ode", group=UTURNS, choices=SAMPLERS)
    sigma_end: float = option(1e-3, "default: 1e-3", group=UTURNS)
    num_sigma: int = option(14, "start levels (14)", group=UTURNS)
    sigma_min: float = option(0.03, "default: 0.03", group=UTURNS)
    sigma_max: float = option(10.0, "default: 10", group=UTURNS)
    seed: int = option(0, "seed (default: 0)", group=UTURNS)
    tol: float = option(1.25, "allowed factor (1.25)", group=CLAIMS)
    z: float = option(3.0, "step-size check, errors (3)", group=CLAIMS)

    def __post_init__(self) -> None:
        for name, low in (("K", 2), ("d", 1)):
            vals = tuple(check_int(name, v, low=low, high=1000) for v in getattr(self, name))
            if not vals:
                raise ParameterError(f"{name} is empty")
            object.__setattr__(self, name, vals)
        object.__setattr__(self, "delta", tuple(molrg.Setting(2, 1, v).delta for v in self.delta))
        if not self.delta:
            raise ParameterError("delta is empty")
        object.__setattr__(self, "samples", check_int("samples", self.samples, low=10,
                                                      high=10**7))
        object.__setattr__(self, "steps", check_int("steps", self.steps, low=1, high=10**5))
        object.__setattr__(self, "num_sigma", check_int("num_sigma", self.num_sigma, low=3,
                                                        high=1000))
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        molrg.Sampler(self.sampler, self.steps, self.sigma_end)
        lo = check_real("sigma_min", self.sigma_min, low=self.sigma_end, high=1e3)
        hi = check_real("sigma_max", self.sigma_max, low=lo, high=1e3, open_high=False)
        object.__setattr__(self, "sigma_min", lo)
        object.__setattr__(self, "sigma_max", hi)
        object.__setattr__(self, "tol", check_real("tol", self.tol, low=1.0))
        object.__setattr__(self, "z", check_real("z", self.z, low=0.0))

    def settings(self) -> list[tuple[int, int, float]]:
        return list(itertools.product(self.K, self.d, self.delta))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _exact_ode_level(K: int, d: int, delta: float, lo: float, hi: float) -> float:
    """Where the exact Bayes accuracy of ``x_sigma`` crosses ``(1 + 1/K)/2`` (the ODE level)."""
    from scipy.optimize import brentq

    target = 0.5 * (1 + 1 / K)
    setting = molrg.Setting(K, d, delta)

    def f(u: float) -> float:
        return float(bayes_accuracy_exact(setting, np.array([math.exp(u)]))[0][0]) - target

    a, b = math.log(1e-4), math.log(1e3)
    if f(a) < 0 or f(b) > 0:
        return math.nan
    return math.exp(brentq(f, a, b, xtol=1e-8))


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: one setting's U-turn curves (two step sizes), peaks and predictions."""
    p = task.params
    K, d, delta = p["K"], p["d"], p["delta"]
    start = time.perf_counter()
    model = molrg.MoLRG(K, d, K * d, delta, kind="canonical")
    sigma = np.array(p["sigma"])
    out: dict[str, Any] = {"K": K, "d": d, "delta": delta}
    for label, steps in (("coarse", p["steps"]), ("fine", 2 * p["steps"])):
        sampler = molrg.Sampler(p["sampler"], steps, p["sigma_end"])
        curve = molrg.speciation_curve(model, sigma, sampler=sampler, samples=p["samples"],
                                       seed=task.seed % (2**63))
        out[label] = curve.to_json()
    setting = model.setting
    for inp in molrg.INPUTS:
        pk = molrg.snr_peak(setting, input=inp)
        out[f"peak_{inp}"] = {"sigma": pk.sigma, "interior": pk.interior, "snr": pk.snr}
    out["achilli"] = neighbours.achilli_level(d, delta)
    out["biroli"] = neighbours.biroli_speciation_level(K, delta)
    out["ode_exact"] = _exact_ode_level(K, d, delta, p["sigma"][0], p["sigma"][-1])
    out["elapsed_s"] = time.perf_counter() - start
    return out


@dataclass(frozen=True)
class SpeciationResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``speciation``."""


def _key(K: int, d: int, delta: float) -> str:
    return f"K={K},d={d},delta={delta:g}"


def run(options: SpeciationOptions | None = None, context: Context | None = None) -> SpeciationResult:
    """Run every setting of the box (one task each), then analyse."""
    context = context or Context()
    options = options or SpeciationOptions()
    settings = options.settings()
    seeds = parallel.spawn_seeds(options.seed, len(settings))
    base = {"samples": options.samples, "steps": options.steps, "sampler": options.sampler,
            "sigma_end": options.sigma_end, "sigma": options.sigma().tolist()}
    tasks = [parallel.Task(_key(K, d, dl), {**base, "K": K, "d": d, "delta": dl}, s)
             for (K, d, dl), s in zip(settings, seeds, strict=True)]
    start = time.perf_counter()
    result = context.map(_task, tasks, "speciation")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return SpeciationResult(options, result.results, result.failures, analysis, claims,
                            time.perf_counter() - start)


def _spearman(x: list[float], y: list[float]) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan
    return float(spearmanr(x, y).statistic)


def _shape(ratios: list[float], params: dict[str, list[float]], tol: float) -> dict[str, Any]:
    if not ratios:
        return {"verdict": "none", "spearman": {}}
    if len(ratios) < 3:
        return {"verdict": "too few to classify", "spearman": {}, "min": min(ratios),
                "max": max(ratios), "spread": max(ratios) / min(ratios)}
    spread = max(ratios) / min(ratios)
    rho = {k: _spearman(v, ratios) for k, v in params.items()}
    strongest = max(rho, key=lambda k: abs(rho[k]) if math.isfinite(rho[k]) else -1)
    if spread <= tol * tol:
        verdict = "constant"
    elif abs(rho[strongest]) >= 0.6:
        verdict = f"trends with {strongest} (Spearman {rho[strongest]:+.2f})"
    else:
        verdict = "unrelated"
    return {"verdict": verdict, "spread": spread, "min": min(ratios), "max": max(ratios),
            "spearman": rho}


def analyse(options: SpeciationOptions, runs: dict[str, Any]) -> dict[str, Any]:
    """Per setting: level, ratios, predictions; over the box: spreads, trends, correlations."""
    rows: dict[str, Any] = {}
    for key, r in runs.items():
        lvl, fine = r["coarse"]["level"], r["fine"]["level"]
        se = math.hypot(lvl["stderr"], fine["stderr"]) if lvl["position"] == "inside" \
            and fine["position"] == "inside" else math.nan
        diff = fine["sigma"] - lvl["sigma"]
        row = {"K": r["K"], "d": r["d"], "delta": r["delta"], "level": lvl["sigma"],
               "level_stderr": lvl["stderr"], "position": lvl["position"],
               "fine_level": fine["sigma"], "step_diff": diff,
               "step_z": abs(diff) / se if se > 0 else math.nan,
               "achilli": r["achilli"], "biroli": r["biroli"], "ode_exact": r["ode_exact"],
               "p_at_sigma_min": r["coarse"]["p_same"][0]}
        for inp in molrg.INPUTS:
            pk = r[f"peak_{inp}"]
            row[f"peak_{inp}"] = pk["sigma"] if pk["interior"] else math.nan
            row[f"ratio_{inp}"] = lvl["sigma"] / pk["sigma"] if pk["interior"] else math.nan
        row["ratio_achilli"] = lvl["sigma"] / r["achilli"]
        row["ratio_ode"] = lvl["sigma"] / r["ode_exact"]
        rows[key] = row
    out: dict[str, Any] = {"settings": rows}
    measured = [r for r in rows.values() if math.isfinite(r["level"])]
    out["measured"] = len(measured)
    out["no_level"] = sorted(k for k, r in rows.items() if not math.isfinite(r["level"]))
    for inp in molrg.INPUTS:
        both = [r for r in measured if math.isfinite(r[f"ratio_{inp}"])]
        ratios = [r[f"ratio_{inp}"] for r in both]
        params = {n: [float(r[n]) for r in both] for n in ("K", "d", "delta")}
        out[f"ratio_{inp}"] = _shape(ratios, params, options.tol)
        out[f"ratio_{inp}"]["count"] = len(both)
        out[f"rank_correlation_{inp}"] = _spearman([r["level"] for r in both],
                                                   [r[f"peak_{inp}"] for r in both])
    ach = [r for r in measured if math.isfinite(r["ratio_achilli"])]
    out["achilli"] = {"count": len(ach),
                      "ratios": [r["ratio_achilli"] for r in ach],
                      "missing": sum(1 for r in measured if not math.isfinite(r["achilli"])),
                      "spurious": sum(1 for r in rows.values() if math.isfinite(r["achilli"])
                                      and not math.isfinite(r["level"]))}
    out["biroli_predicted"] = sum(1 for r in rows.values() if math.isfinite(r["biroli"]))
    ode = [r["ratio_ode"] for r in measured if math.isfinite(r["ratio_ode"])]
    out["ode_ratio"] = {"min": min(ode), "max": max(ode)} if ode else {}
    zs = [r["step_z"] for r in measured if math.isfinite(r["step_z"])]
    out["step_z_max"] = max(zs) if zs else math.nan
    out["step_checked"] = len(zs)
    return out


def evaluate_claims(options: SpeciationOptions, analysis: dict[str, Any]) -> list[Claim]:
    tol = options.tol
    claims = []
    for inp in molrg.INPUTS:
        a = analysis[f"ratio_{inp}"]
        if "min" not in a:
            continue
        worst = a["max"] if a["max"] * a["min"] >= 1 else a["min"]
        claims.append(Claim(
            f"speciation-is-{inp}-peak", bool(a["min"] >= 1 / tol and a["max"] <= tol), worst,
            f"sigma_S / sigma*_{inp} within x{tol:g} in every setting",
            f"{a['count']} settings: ratio {a['min']:.3g}..{a['max']:.3g}, {a['verdict']}; "
            f"rank correlation of the levels "
            f"{analysis[f'rank_correlation_{inp}']:+.2f}"))
    ach = analysis["achilli"]
    if ach["count"]:
        lo, hi = min(ach["ratios"]), max(ach["ratios"])
        ok = lo >= 1 / tol and hi <= tol and ach["missing"] == 0 and ach["spurious"] == 0
        claims.append(Claim(
            "achilli-criterion", bool(ok), hi if hi * lo >= 1 else lo,
            f"measured / predicted within x{tol:g}; a level predicted iff one is measured",
            f"{ach['count']} settings: ratio {lo:.3g}..{hi:.3g} ({(lo - 1):+.0%}..{(hi - 1):+.0%});"
            f" measured but not predicted: {ach['missing']}; predicted but not measured: "
            f"{ach['spurious']}"))
    claims.append(Claim(
        "biroli-spectral-criterion", analysis["biroli_predicted"] >= analysis["measured"],
        float(analysis["biroli_predicted"]),
        "a level predicted wherever one is measured",
        f"predicts {analysis['biroli_predicted']} levels; {analysis['measured']} measured "
        "(Lambda = (1+(K-1) delta^2)/K < 1: the mixture's covariance does not see the classes)"))
    claims.append(Claim(
        "step-size-converged", bool(analysis["step_z_max"] <= options.z), analysis["step_z_max"],
        f"|level(2 steps) - level(steps)| <= {options.z:g} combined errors",
        f"{analysis['step_checked']} settings, largest {analysis['step_z_max']:.2f} errors"))
    return claims


QUICK = {"K": "2,3", "d": "5", "delta": "0.2", "samples": 80, "steps": 10, "num_sigma": 6}
"""What ``--quick`` changes (only options left at their defaults; command-line values)."""


def render(result: SpeciationResult, *, table: bool = True) -> list[Any]:
    o = result.options
    a = result.analysis
    out: list[Any] = [
        f"[bold]Speciation (U-turns, {o.sampler}, {o.steps} steps, {o.samples} per level)[/bold]: "
        f"{len(o.settings())} settings ({result.elapsed_s:.1f} s)"]
    if table:
        rows = [(k, r["level"], r["level_stderr"], r["fine_level"], r["peak_noisy"],
                 r["peak_clean"], r["ratio_noisy"], r["ratio_clean"], r["achilli"],
                 r["ode_exact"]) for k, r in a["settings"].items()]
        out.append(report.table(
            ["setting", "sigma_S", "+-", "2x steps", "peak noisy", "peak clean",
             "S/noisy", "S/clean", "Achilli", "ODE (exact)"], rows, title="levels"))
    for inp in molrg.INPUTS:
        s = a[f"ratio_{inp}"]
        out.append(f"ratio to the {inp} peak: {s.get('min', math.nan):.3g}..{s.get('max', math.nan):.3g}"
                   f" over {s.get('count', 0)} settings -> {s['verdict']}")
    if a["no_level"]:
        out.append(f"no level inside the grid: {', '.join(a['no_level'])}")
    return out + result.render_claims()


def plot(result: SpeciationResult, path: str) -> None:
    a = result.analysis["settings"]
    fig, (ax1, ax2) = report.new_figure(2, width=11, height=4.5)
    for i, inp in enumerate(molrg.INPUTS):
        x = [r[f"peak_{inp}"] for r in a.values()]
        y = [r["level"] for r in a.values()]
        e = [r["level_stderr"] for r in a.values()]
        ax1.errorbar(x, y, yerr=e, fmt="o", ms=4, color=f"C{i}", label=f"vs {inp} SNR peak")
    ach = [(r["achilli"], r["level"]) for r in a.values()]
    ax1.plot(*zip(*ach, strict=True), "k^", ms=4, mfc="none", label="vs Achilli et al.")
    values = [v for r in a.values() for v in (r["level"], r["peak_noisy"], r["peak_clean"],
                                              r["achilli"]) if v is not None and math.isfinite(v)]
    lim = [min(values) / 1.3, max(values) * 1.3] if values else [0.03, 10]
    ax1.plot(lim, lim, "k:", lw=1, label="equal")
    ax1.set_xlim(lim)
    ax1.set_ylim(lim)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("predicted level (SNR peak / theory)")
    ax1.set_ylabel("speciation level sigma_S (U-turn)")
    ax1.legend(fontsize=8)
    for j, K in enumerate(result.options.K):
        rows = [r for r in a.values() if r["K"] == K]
        ax2.plot([r["delta"] for r in rows], [r["ratio_noisy"] for r in rows], "o",
                 color=f"C{j}", label=f"K={K} noisy")
        ax2.plot([r["delta"] for r in rows], [r["ratio_clean"] for r in rows], "s",
                 color=f"C{j}", mfc="none", label=f"K={K} clean")
    ax2.axhline(1.0, color="k", lw=1, ls=":")
    ax2.set_yscale("log")
    ax2.set_xlabel("delta")
    ax2.set_ylabel("sigma_S / SNR peak")
    ax2.legend(fontsize=7, ncol=2)
    fig.suptitle(f"speciation vs SNR peak -> {result.verdict}")
    report.save_figure(fig, path)


class Speciation(Command[SpeciationOptions]):
    """``python -m verify speciation``."""

    name = "speciation"
    help = "U-turn speciation level vs the SNR peak and the speciation theories (issue 23)"
    Options = SpeciationOptions
    scheduler = "auto"
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {"seed": ("--quick", {
        "action": "store_true", "help": "a 2-setting box with few samples (for tests)"})}

    def options(self, args: argparse.Namespace) -> SpeciationOptions:
        if args.quick:
            set_unchanged(args, SpeciationOptions, QUICK)
        return super().options(args)

    def run(self, options: SpeciationOptions, context: Context) -> SpeciationResult:
        return run(options, context)
