"""``python -m verify ensemble``: feature ensembling across noise levels under label noise.

The paper's Appendix B.4 (CIFAR, U-Nets): a linear probe on the features of several
timesteps, soft-voting, is more robust to label noise than the probe at the best
timestep.  Here, where the data law and the optimal denoiser are known
(``molrg.ensemble_accuracy``): linear probes (standardised logistic regression) on the
denoiser output ``xhat`` at the best single noise level ``sigma*`` (the argmax of the
clean-label probe accuracy on a scan) against the soft-voting ensemble over
``sigma* sqrt(2)^j``, ``j = -2..2`` (two finer, two coarser, as the paper), with 0, 20,
40, 60 and 80% of the training labels corrupted (replaced by a uniformly random class).

Settings (OUR CHOICES for the second): ``fig3`` -- the paper's Fig. 3 MoLRG (``K=3, d=5,
n=50, delta=0.2``; zero-mean classes, so a *linear* probe is weak there by construction);
``separated`` -- ``molrg.LowRankMixture.separated(3, 5, 50, mean_scale, delta=0.2)``
(class means, where a linear probe is the natural classifier).  Denoisers: the optimal
one in both, and the memorising (empirical) denoiser of ``--N`` samples at ``fig3``.

Claims, per (setting, denoiser), at ``--z`` errors (errors over ``--repeats`` independent
repetitions, paired):

1. ``not-worse``: at every label-noise level the ensemble is not significantly less
   accurate than the single probe (``ensemble - single > -z se``).
2. ``more-robust``: the ensemble loses less accuracy from 0% to 80% label noise than the
   single probe: ``(ens - single)(80%) - (ens - single)(0%) > z se``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

import molrg
from molrg import ParameterError
from molrg.validation import check_int, check_real

from . import parallel, report
from .claims import Claim, ClaimsResult, parse_floats
from .command import Command, Context, option

SETTINGS = ("fig3", "separated")
DESIGN = "design"
QUICK: dict[str, Any] = {"train_samples": 60, "test_samples": 150, "repeats": 2, "scan_repeats": 2,
         "scan_points": 3}
"""What ``--quick`` sets (after the options given are validated)."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())
SCAN = np.geomspace(0.05, 3.0, 9)
"""Noise levels scanned (clean labels) for the best single probe."""


@dataclass(frozen=True)
class EnsembleOptions:
    """Options of ``ensemble`` (defaults: both settings, the paper's label-noise levels)."""

    settings: tuple[str, ...] = option(SETTINGS, "comma-separated subset of fig3,separated "
                                       "(default: both)", group=DESIGN,
                                       text=",".join(SETTINGS), parse=_names)
    label_noise: tuple[float, ...] = option(
        molrg.LABEL_NOISE, "fractions of corrupted training labels (default: "
        "0,0.2,0.4,0.6,0.8)", group=DESIGN, text=",".join(f"{v:g}" for v in molrg.LABEL_NOISE),
        parse=functools.partial(parse_floats, name="label-noise"))
    N: int = option(300, "training points of the memorising denoiser at fig3 (default: 300)",
                    group=DESIGN)
    mean_scale: float = option(0.3, "class-mean scale of the separated setting (default: "
                               "0.3)", group=DESIGN)
    train_samples: int = option(600, "probe training samples per repetition (default: 600)",
                                group=DESIGN)
    test_samples: int = option(6000, "test samples per repetition (default: 6000)",
                               group=DESIGN)
    repeats: int = option(10, "independent repetitions (default: 10)", group=DESIGN)
    scan_repeats: int = 3
    scan_points: int = 9
    seed: int = option(0, "seed (default: 0)", group=DESIGN)
    z: float = option(3.0, "error threshold (default: 3)", group=DESIGN)

    def __post_init__(self) -> None:
        sets = tuple(self.settings)
        if not sets or any(s not in SETTINGS for s in sets):
            raise ParameterError(f"settings={list(sets)}; valid: a non-empty subset of "
                                 f"{list(SETTINGS)}")
        object.__setattr__(self, "settings", sets)
        noise = tuple(float(v) for v in self.label_noise)
        if len(noise) < 2 or any(not 0 <= v <= 1 for v in noise) or noise != tuple(sorted(noise)):
            raise ParameterError(f"label_noise={list(noise)}; valid: >= 2 increasing fractions "
                                 "in [0, 1]")
        object.__setattr__(self, "label_noise", noise)
        object.__setattr__(self, "N", check_int("N", self.N, low=1, high=10**6))
        object.__setattr__(self, "mean_scale", check_real("mean_scale", self.mean_scale,
                                                          low=0.0, open_low=True))
        object.__setattr__(self, "train_samples", check_int("train_samples", self.train_samples,
                                                            low=6, high=10**7))
        object.__setattr__(self, "test_samples", check_int("test_samples", self.test_samples,
                                                           low=3, high=10**8))
        object.__setattr__(self, "repeats", check_int("repeats", self.repeats, low=2,
                                                      high=10**4))
        object.__setattr__(self, "scan_repeats", check_int("scan_repeats", self.scan_repeats,
                                                           low=2, high=10**4))
        object.__setattr__(self, "scan_points", check_int("scan_points", self.scan_points,
                                                          low=1, high=len(SCAN)))
        object.__setattr__(self, "seed", check_int("seed", self.seed, low=0))
        object.__setattr__(self, "z", check_real("z", self.z, low=0.0, open_low=True))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def tasks(self) -> list[tuple[str, str]]:
        out = []
        for s in self.settings:
            out.append((s, "optimal"))
            if s == "fig3":
                out.append((s, f"empirical N={self.N}"))
        return out


def _model(setting: str, p: dict[str, Any]) -> Any:
    if setting == "fig3":
        return molrg.MoLRG(3, 5, 50, 0.2, seed=p["seed"])
    return molrg.LowRankMixture.separated(3, 5, 50, p["mean_scale"], delta=0.2, seed=p["seed"])


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: scan for the best single level, then single vs ensemble per label noise."""
    p = task.params
    model = _model(p["setting"], p)
    denoiser = None
    if p["denoiser"] != "optimal":
        points, _ = model.sample(p["N"], task.seed)
        denoiser = molrg.EmpiricalDenoiser(points, basis=model.basis)
    start = time.perf_counter()
    seed = int(np.random.SeedSequence(task.seed).generate_state(1)[0])
    grid = SCAN[np.unique(np.linspace(0, SCAN.size - 1, p.get("scan_points", SCAN.size)
                                      ).round().astype(int))]
    scan = molrg.ensemble_accuracy(model, grid, denoiser=denoiser, label_noise=(0.0,),
                                   design=molrg.EnsembleDesign(p["train_samples"], p["test_samples"],
                                                         repeats=p["scan_repeats"]),
                                   seed=seed)
    best = float(grid[int(np.argmax(scan.per_sigma[0]))])
    res = molrg.ensemble_accuracy(model, molrg.ensemble_sigmas(best), denoiser=denoiser,
                                  label_noise=p["label_noise"],
                                  design=molrg.EnsembleDesign(p["train_samples"], p["test_samples"],
                                                        repeats=p["repeats"]),
                                  seed=seed + 1)
    return {"setting": p["setting"], "denoiser": p["denoiser"], "scan_sigma": grid.tolist(),
            "scan_accuracy": scan.per_sigma[0].tolist(),
            "scan_stderr": scan.per_sigma_stderr[0].tolist(), "best_sigma": best,
            "result": res.to_json(), "elapsed_s": time.perf_counter() - start}


@dataclass(frozen=True)
class EnsembleCommandResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``ensemble``."""


def run(options: EnsembleOptions | None = None, context: Context | None = None) -> EnsembleCommandResult:
    context = context or Context()
    options = options or EnsembleOptions()
    pairs = options.tasks()
    seeds = parallel.spawn_seeds(options.seed, len(pairs))
    base = {"seed": options.seed, "N": options.N, "mean_scale": options.mean_scale,
            "train_samples": options.train_samples, "test_samples": options.test_samples,
            "repeats": options.repeats, "scan_repeats": options.scan_repeats,
            "label_noise": list(options.label_noise), "scan_points": options.scan_points}
    tasks = [parallel.Task(f"{s}/{d}", {**base, "setting": s, "denoiser": d}, seed)
             for (s, d), seed in zip(pairs, seeds, strict=True)]
    start = time.perf_counter()
    result = context.map(_task, tasks, "ensemble")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return EnsembleCommandResult(options, result.results, result.failures, analysis, claims,
                                 time.perf_counter() - start)


def analyse(options: EnsembleOptions, runs: dict[str, Any]) -> dict[str, Any]:
    """Per task: the paired robustness gain ``(ens - single)(last) - (ens - single)(first)``."""
    out: dict[str, Any] = {}
    for key, r in runs.items():
        res = r["result"]
        rd = np.asarray(res["repeat_difference"])
        gain = rd[:, -1] - rd[:, 0]
        out[key] = {"best_sigma": r["best_sigma"], "gain": float(gain.mean()),
                    "gain_stderr": float(gain.std(ddof=1) / math.sqrt(gain.size)),
                    "difference": res["difference"],
                    "difference_stderr": res["difference_stderr"],
                    "single": res["single"], "ensemble": res["ensemble"]}
    return out


def evaluate_claims(options: EnsembleOptions, analysis: dict[str, Any]) -> list[Claim]:
    z = options.z
    claims = []
    noise = options.label_noise
    for key, a in analysis.items():
        d, e = np.asarray(a["difference"]), np.asarray(a["difference_stderr"])
        zs = np.divide(d, e, out=np.where(d >= 0, np.inf, -np.inf), where=e > 0)
        worst = int(np.argmin(zs))
        claims.append(Claim(
            f"not-worse ({key})", bool(np.all(zs > -z)), float(zs[worst]),
            f"ensemble - single > -{z:g} errors at every label noise",
            "ensemble - single: " + ", ".join(f"{p:.0%}: {v:+.4f}+-{s:.4f}"
                                              for p, v, s in zip(noise, d, e, strict=True))
            + f" (sigma* = {a['best_sigma']:.3g})"))
        g, ge = a["gain"], a["gain_stderr"]
        claims.append(Claim(
            f"more-robust ({key})", bool(g > z * ge), g / ge if ge > 0 else math.inf,
            f"(ens - single) at {noise[-1]:.0%} minus at {noise[0]:.0%} > {z:g} errors",
            f"gain {g:+.4f} +- {ge:.4f}; single {a['single'][0]:.4f} -> {a['single'][-1]:.4f}, "
            f"ensemble {a['ensemble'][0]:.4f} -> {a['ensemble'][-1]:.4f}"))
    return claims


def render(result: EnsembleCommandResult, *, table: bool = True) -> list[Any]:
    o = result.options
    out: list[Any] = [f"[bold]Feature ensembling under label noise (B.4)[/bold]: "
                      f"{o.repeats} repetitions, {o.train_samples} training / "
                      f"{o.test_samples} test samples ({result.elapsed_s:.1f} s)"]
    rows = []
    for key, r in result.runs.items():
        res = r["result"]
        for i, p in enumerate(res["label_noise"]):
            rows.append((key, f"{p:.0%}", r["best_sigma"], res["single"][i],
                         res["single_stderr"][i], res["ensemble"][i], res["ensemble_stderr"][i],
                         res["difference"][i], res["difference_stderr"][i]))
    out.append(report.table(["setting/denoiser", "label noise", "sigma*", "single", "+-",
                             "ensemble", "+-", "ens - single", "+-"], rows,
                            title="linear-probe accuracy"))
    return out + result.render_claims()


def plot(result: EnsembleCommandResult, path: str) -> None:
    keys = list(result.runs)
    fig, axes = report.new_figure(len(keys), width=4.2, height=3.6)
    for ax, key in zip(np.atleast_1d(axes), keys, strict=False):
        res = result.runs[key]["result"]
        p = np.asarray(res["label_noise"]) * 100
        for name, col in (("single", "C0"), ("ensemble", "C3")):
            y, e = np.asarray(res[name]), np.asarray(res[f"{name}_stderr"])
            ax.errorbar(p, y, yerr=2 * e, fmt="o-", color=col, capsize=3, label=name)
        ax.set_xlabel("label noise (%)")
        ax.set_ylabel("test accuracy")
        ax.set_title(key, fontsize=9)
        ax.legend(fontsize=8)
    report.save_figure(fig, path)


class Ensemble(Command[EnsembleOptions]):
    """``python -m verify ensemble``."""

    name = "ensemble"
    help = "B.4: soft-voting probes over five noise levels vs the best one, under label noise"
    Options = EnsembleOptions
    scheduler = "serial"
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {"z": ("--quick", {
        "action": "store_true",
        "help": "small design for tests (2 repeats, 60/150 samples, 3-point scan)"})}

    def options(self, args: argparse.Namespace) -> EnsembleOptions:
        options = super().options(args)  # validated even with --quick
        return dataclasses.replace(options, **QUICK) if args.quick else options

    def run(self, options: EnsembleOptions, context: Context) -> EnsembleCommandResult:
        return run(options, context)
