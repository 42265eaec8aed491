"""``python -m verify generalization``: trained networks across training-set sizes.

Issue 22, item 2; OUR CONSTRUCTION on the MoLRG (the paper's Section 4 experiment trains
U-Nets on CIFAR10 subsets).  For each ``N`` (default ``2^6 ... 2^14``) the capacity
network (``molrg.train_denoiser(architecture="mlp")``: a sigma-conditioned MLP, width x
depth, EDM preconditioning; PyTorch, the ``train`` extra) is trained on ``N`` points of
the model for about ``--steps`` optimiser steps whatever ``N``
(``molrg.training_epochs``), then measured on fresh samples (``molrg.size_study``):

* its SNR curve (ambient Monte Carlo, paired replicates; samples doubled while the shape
  is undetermined or an estimate untrustworthy) and its linear-probe accuracy curve,
  with their shapes (``molrg.curve_shape`` at ``--z``);
* the SNR curve of the exact empirical denoiser of the *same* ``N`` points (what the
  network would be if it memorised perfectly; ``verify memorization``'s construction);
* the generalisation score ``g(sigma) = A / (A + B)`` (``molrg.generalization_score``:
  ``A`` the distance to the optimal denoiser, ``B`` to the empirical denoiser of the
  training set) and the memorisation coefficient ``t(sigma)`` (the projection on the
  segment ``f* -> f_P``); ``molrg.memorization_regime`` calls the network memorising
  (``t > 1/2`` at ``z`` errors somewhere), generalising or undetermined.

Claims (the paper: "the curve is unimodal when the network generalises and monotone when
it memorises"):

1. ``small-N-memorises``: the smallest ``N``'s network memorises (the sweep reaches the
   memorising regime at all).
2. ``memorising-monotone``: every memorising network's SNR curve is decreasing.
3. ``generalising-unimodal``: every generalising network's SNR curve is unimodal.
4. ``transition-matches-empirical``: the smallest ``N`` from which every trained curve is
   unimodal lies within a factor ``--transition-tol`` of the same ``N`` for the exact
   empirical denoisers of the same training sets.

A claim resting on an undetermined shape or regime, or on an SNR estimate flagged
untrustworthy, is undetermined (exit 4), never holding.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

import molrg
from molrg.train import require_torch
from molrg.validation import check_int, check_real

from . import parallel, report
from .claims import (
    UNIMODAL_Z,
    Claim,
    ClaimsResult,
    ModelGrid,
    check_sizes,
    parse_sizes,
    validate_run,
    verdict_of,
)
from .command import Command, Context, option, quick_or_given

MODEL = "model (defaults: the paper's Fig. 3 setting)"
TRAINING = "training (the MLP of molrg.train)"
EVALUATION = "evaluation (fresh samples)"
CLAIMS = "claims"
SIZES = tuple(2**k for k in range(6, 15))


@dataclass(frozen=True)
class GeneralizationOptions(ModelGrid):
    """Options of ``generalization`` (defaults: Fig. 3's model; ``quick()`` for tests)."""

    VERDICT_SAMPLES = ("samples",)

    K: int = option(3, "classes (default: 3)", group=MODEL)
    d: int = option(5, "subspace dimension (default: 5)", group=MODEL)
    n: int = option(50, "ambient dimension (default: 50)", group=MODEL)
    delta: float = option(0.2, "detail noise (default: 0.2)", group=MODEL)
    N: tuple[int, ...] = option(SIZES, "training-set sizes, comma-separated (default: 2^6 "
                                "... 2^14)", group=MODEL, text=",".join(map(str, SIZES)),
                                parse=parse_sizes)
    steps: int = option(8000, "optimiser steps per training, whatever N (default: 8000)",
                        group=TRAINING)
    width: int = option(256, "hidden width (default: 256)", group=TRAINING)
    depth: int = option(3, "hidden layers (default: 3)", group=TRAINING)
    lr: float = option(3e-3, "peak Adam learning rate, cosine schedule (default: 0.003)",
                       group=TRAINING)
    batch_size: int = option(128, "default: 128", group=TRAINING)
    input: str = option("noisy", "default: noisy", group=EVALUATION, choices=molrg.INPUTS)
    denominator: str = option("others", "default: others", group=EVALUATION,
                              choices=molrg.DENOMINATORS)
    samples: int = option(3000, "Monte Carlo samples per sigma of each SNR curve (default: "
                          "3000)", group=EVALUATION)
    doublings: int = option(3, "double the SNR samples up to this many times while a shape "
                            "is undetermined or an estimate untrustworthy (default: 3)",
                            group=EVALUATION)
    replicates: int = option(50, "paired replicate groups per SNR curve (default: 50)",
                             group=EVALUATION)
    probe_samples: int = option(4000, "linear-probe samples per sigma (default: 4000)",
                                group=EVALUATION)
    score_samples: int = option(4000, "generalisation-score samples (default: 4000)",
                                group=EVALUATION)
    seed: int = option(0, "seed (default: 0)", group=EVALUATION)
    num_sigma: int = option(14, "grid points (default: 14)", group=EVALUATION)
    sigma_min: float = option(0.01, "default: 0.01", group=EVALUATION)
    sigma_max: float = option(5.0, "default: 5", group=EVALUATION)
    z: float = option(UNIMODAL_Z, "error threshold (default: 4)", group=CLAIMS)
    transition_tol: float = option(2.0, "allowed factor between the trained and the "
                                   "empirical transition N (default: 2, one step of the "
                                   "default grid)", group=CLAIMS)
    regime_window: float = option(2.0, "memorisation is read at sigma <= this x the "
                                  "optimum's SNR peak (default: 2; at large sigma the "
                                  "empirical denoiser is the set's mean)", group=CLAIMS)

    def __post_init__(self) -> None:
        self.check_model()
        object.__setattr__(self, "N", check_sizes(self.N))
        validate_run(self, {"samples": 2 * self.K}, peak_tol=False)
        for name, low, high in (("steps", 1, 10**7), ("width", 1, 8192), ("depth", 1, 64),
                                ("batch_size", 1, 10**6), ("doublings", 0, 10),
                                ("probe_samples", 40, 10**8), ("score_samples", 2, 10**8)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low=low,
                                                     high=high))
        object.__setattr__(self, "replicates", check_int(
            "replicates", self.replicates, low=2, high=max(2, self.samples // (2 * self.K))))
        object.__setattr__(self, "lr", check_real("lr", self.lr, low=0.0, high=10.0,
                                                  open_low=True))
        object.__setattr__(self, "transition_tol", check_real(
            "transition_tol", self.transition_tol, low=1.0))
        object.__setattr__(self, "regime_window", check_real(
            "regime_window", self.regime_window, low=0.0, open_low=True))

    @classmethod
    def quick(cls, **changes: Any) -> GeneralizationOptions:
        """A seconds-long run (tests; numbers are not meaningful, verdict undetermined)."""
        base: dict[str, Any] = dict(N=(8, 32), steps=20, width=16, depth=1, samples=300,
                                    doublings=0, replicates=5, probe_samples=100,
                                    score_samples=100, num_sigma=5)
        base.update(changes)
        return cls(**base)

    def optimal_peak(self) -> float:
        """The exact optimum's SNR peak (quadrature on a fine grid)."""
        grid = np.geomspace(1e-3, 1e2, 241)
        exact = molrg.snr(self.model(), grid, input=self.input, denominator=self.denominator)
        return molrg.grid_peak(grid, exact.estimate)

    def regime_sigma_max(self) -> float:
        """Memorisation is read at ``sigma <= regime_window x`` the optimum's peak."""
        return self.regime_window * self.optimal_peak()

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["N"] = list(self.N)
        return out


def _key(N: int | None) -> str:
    return "optimal" if N is None else f"N={N}"


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: one training-set size (train and measure), or the optimum."""
    p = task.params
    model = molrg.MoLRG(p["K"], p["d"], p["n"], p["delta"], seed=p["seed"])
    sigma = np.asarray(p["sigma"])
    start = time.perf_counter()
    if p["N"] is None:  # the optimum: exact SNR (quadrature), its linear probe
        exact = molrg.snr(model, sigma, input=p["input"], denominator=p["denominator"])
        probe = molrg.probe_accuracy(model, sigma, probe="linear", input=p["input"],
                                     method=molrg.Auto(molrg.MonteCarlo(
                                         samples=p["probe_samples"], seed=task.seed)))
        return {"N": None, "snr": {"estimate": exact.estimate.tolist(),
                                   "stderr": exact.stderr.tolist()},
                "snr_shape": molrg.curve_shape(exact.estimate, exact.stderr, p["z"]).to_json(),
                "probe": {"estimate": probe.estimate.tolist(), "stderr": probe.stderr.tolist()},
                "elapsed_s": time.perf_counter() - start}
    options = molrg.TrainOptions(width=p["width"], depth=p["depth"], lr=p["lr"],
                                 batch_size=p["batch_size"], device="cpu", threads=1)
    evaluation = molrg.StudyOptions(
        samples=p["samples"], max_samples=p["samples"] * 2 ** p["doublings"],
        replicates=p["replicates"], probe_samples=p["probe_samples"],
        score_samples=p["score_samples"], z=p["z"], input=p["input"],
        denominator=p["denominator"], regime_sigma_max=p["regime_sigma_max"])
    study = molrg.size_study(model, p["N"], sigma, steps=p["steps"], options=options,
                             seed=p["seed"], evaluation=evaluation)
    return {**study.to_json(), "elapsed_s": time.perf_counter() - start}


@dataclass(frozen=True)
class GeneralizationResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``generalization``: claims carry their own
    ``undetermined`` (an undetermined shape or regime, or a flagged estimate)."""

    @property
    def untrustworthy(self) -> list[str]:
        reasons = []
        for name in self.options.VERDICT_SAMPLES:
            value = getattr(self.options, name)
            if value < molrg.MIN_VERDICT_SAMPLES:
                reasons.append(f"{name}={value} < {molrg.MIN_VERDICT_SAMPLES} Monte Carlo "
                               "samples")
        return reasons

    @property
    def verdict(self) -> str:
        if self.failures:
            return "deviates"
        if self.untrustworthy:
            return "undetermined"
        return verdict_of(self.claims)


def tasks(options: GeneralizationOptions) -> list[parallel.Task]:
    o = options
    seeds = parallel.spawn_seeds(o.seed, len(o.N) + 1)
    base = {"K": o.K, "d": o.d, "n": o.n, "delta": o.delta, "seed": o.seed,
            "input": o.input, "denominator": o.denominator, "sigma": o.sigma().tolist(),
            "steps": o.steps, "width": o.width, "depth": o.depth, "lr": o.lr,
            "batch_size": o.batch_size, "samples": o.samples, "doublings": o.doublings,
            "replicates": o.replicates, "probe_samples": o.probe_samples,
            "score_samples": o.score_samples, "z": o.z,
            "regime_sigma_max": o.regime_sigma_max()}
    # the largest N first: its evaluation is the longest (load balance over workers)
    out = [parallel.Task(_key(N), {**base, "N": N}, seeds[i + 1])
           for i, N in sorted(enumerate(o.N), key=lambda t: -t[1])]
    out.append(parallel.Task("optimal", {**base, "N": None}, seeds[0]))
    return out


def run(options: GeneralizationOptions | None = None, context: Context | None = None) -> GeneralizationResult:
    """Train and measure every ``N`` (tasks), then analyse and judge."""
    context = context or Context()
    options = options or GeneralizationOptions()
    require_torch("python -m verify generalization")
    start = time.perf_counter()
    result = context.map(_task, tasks(options), "trainings")
    runs = {k: result.results[k] for k in ["optimal", *(_key(N) for N in options.N)]
            if k in result.results}
    analysis = analyse(options, runs)
    claims = evaluate_claims(options, analysis)
    return GeneralizationResult(options, runs, result.failures, analysis, claims,
                                time.perf_counter() - start)


# ---------------------------------------------------------------------------------------
# Analysis and claims
# ---------------------------------------------------------------------------------------
def onset(shapes: dict[int, str]) -> int | None:
    """The smallest ``N`` from which every larger ``N`` is ``unimodal`` (``None``: the
    largest is not)."""
    out = None
    for N in sorted(shapes, reverse=True):
        if shapes[N] != "unimodal":
            break
        out = N
    return out


def analyse(options: GeneralizationOptions, runs: dict[str, Any]) -> dict[str, Any]:
    sigma = options.sigma()
    out: dict[str, Any] = {"sizes": {}}
    opt = runs.get("optimal")
    if opt is not None:
        out["optimal_peak_sigma"] = molrg.grid_peak(sigma, opt["snr"]["estimate"])
        out["optimal_shape"] = opt["snr_shape"]["shape"]
    for N in options.N:
        r = runs.get(_key(N))
        if r is None:
            continue
        y = np.asarray(r["snr"]["estimate"])
        ye = np.asarray(r["empirical_snr"]["estimate"])
        g = np.asarray(r["score"]["score"])
        out["sizes"][str(N)] = {
            "N": N, "N_over_Kd": N / (options.K * options.d),
            "epochs": r["epochs"], "steps": r["steps"], "train_s": r["train_s"],
            "final_loss": r["final_loss"],
            "shape": r["snr_shape"]["shape"], "shape_samples": r["snr"]["samples"],
            "rise_z": r["snr_shape"]["rise_z"], "drop_z": r["snr_shape"]["drop_z"],
            "flagged": bool(np.any(r["snr"]["untrustworthy"])),
            "peak_sigma": molrg.grid_peak(sigma, y), "peak_snr": float(np.max(y)),
            "empirical_shape": r["empirical_shape"]["shape"],
            "empirical_flagged": bool(np.any(r["empirical_snr"]["untrustworthy"])),
            "empirical_peak_sigma": molrg.grid_peak(sigma, ye),
            "probe_shape": r["probe_shape"]["shape"],
            "probe_peak_sigma": molrg.grid_peak(sigma, r["probe"]["estimate"]),
            "probe_max": float(np.max(r["probe"]["estimate"])),
            "regime": r["regime"]["regime"], "memorization": r["regime"]["coefficient"],
            "memorization_sigma": r["regime"]["where"],
            "memorization_lower": r["regime"]["lower"],
            "score_max": float(np.nanmax(g)) if np.isfinite(g).any() else math.nan,
            "score_at": {f"{s:.3g}": float(v) for s, v in zip(sigma, g, strict=True)},
        }
    sizes = {int(k): v for k, v in out["sizes"].items()}
    out["transition"] = {
        "trained_unimodal_from": onset({N: v["shape"] for N, v in sizes.items()}),
        "empirical_unimodal_from": onset({N: v["empirical_shape"] for N, v in sizes.items()}),
        "largest_memorising_N": max((N for N, v in sizes.items() if v["regime"] == "memorises"),
                                    default=None),
        "smallest_generalising_N": min((N for N, v in sizes.items()
                                        if v["regime"] == "generalises"), default=None),
        "trained_shapes": {str(N): v["shape"] for N, v in sizes.items()},
        "empirical_shapes": {str(N): v["empirical_shape"] for N, v in sizes.items()},
        "regimes": {str(N): v["regime"] for N, v in sizes.items()},
    }
    return out


def evaluate_claims(options: GeneralizationOptions, analysis: dict[str, Any]) -> list[Claim]:
    sizes = {int(k): v for k, v in analysis["sizes"].items()}
    claims: list[Claim] = []
    if not sizes:
        return claims
    small = sizes[min(sizes)]
    claims.append(Claim(
        "small-N-memorises", small["regime"] == "memorises", small["memorization_lower"],
        f"t - {options.z:g} errors > 1/2 at some sigma",
        f"N={small['N']}: regime {small['regime']}, memorisation coefficient up to "
        f"{small['memorization']:.3g} (sigma {small['memorization_sigma']:.3g}); score g up "
        f"to {small['score_max']:.3g}", undetermined=small["regime"] == "undetermined"))

    def shape_claim(name: str, regime: str, want: str) -> None:
        who = {"memorises": "memorising", "generalises": "generalising"}[regime]
        group = {N: v for N, v in sizes.items() if v["regime"] == regime}
        if not group:
            claims.append(Claim(name, False, math.nan, f"every {who} N: {want}",
                                f"no N {regime} (regimes: "
                                + ", ".join(f"{N}: {v['regime']}" for N, v in sizes.items())
                                + ")", undetermined=True))
            return
        bad = [N for N, v in group.items() if v["shape"] != want]
        unsure = [N for N in bad if group[N]["shape"] == "undetermined" or group[N]["flagged"]]
        flagged = [N for N, v in group.items() if v["flagged"]]
        claims.append(Claim(
            name, not bad, float(len(group) - len(bad)), f"every {who} N: {want}",
            ", ".join(f"N={N}: {v['shape']} (peak sigma {v['peak_sigma']:.3g})"
                      for N, v in group.items())
            + (f"; flagged untrustworthy: {flagged}" if flagged else ""),
            undetermined=bool(flagged) or (bool(unsure) and len(unsure) == len(bad))))

    shape_claim("memorising-monotone", "memorises", "decreasing")
    shape_claim("generalising-unimodal", "generalises", "unimodal")
    t = analysis["transition"]
    a, b = t["trained_unimodal_from"], t["empirical_unimodal_from"]
    if a is not None and b is not None:
        ratio = a / b
        ok = abs(math.log(ratio)) <= math.log(options.transition_tol) + 1e-12
    else:
        ratio, ok = math.nan, a is None and b is None
    undetermined = any(v["shape"] == "undetermined" or v["empirical_shape"] == "undetermined"
                       or v["flagged"] or v["empirical_flagged"] for v in sizes.values())
    claims.append(Claim(
        "transition-matches-empirical", bool(ok), ratio,
        f"within x{options.transition_tol:g}",
        f"unimodal from N={a} (trained) vs N={b} (exact empirical denoiser, same points); "
        "trained " + ", ".join(f"{N}: {v['shape']}" for N, v in sizes.items())
        + "; empirical " + ", ".join(f"{N}: {v['empirical_shape']}" for N, v in sizes.items()),
        undetermined=undetermined and not ok))
    return claims


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------
def render(result: GeneralizationResult, *, table: bool = True) -> list[Any]:
    o = result.options
    a = result.analysis
    out: list[Any] = [
        f"[bold]Trained networks across training-set sizes (our MoLRG construction)[/bold]: "
        f"K={o.K} d={o.d} n={o.n} delta={o.delta:g}; MLP {o.width}x{o.depth}, {o.steps} "
        f"steps, lr {o.lr:g}, batch {o.batch_size}; {o.input} input, {o.denominator} "
        f"denominator ({result.elapsed_s:.0f} s)"]
    keys = [k for k in ["optimal", *(_key(N) for N in o.N)] if k in result.runs]
    sigma = o.sigma()
    if table:
        out.append(report.table(
            ["sigma", *keys],
            [(s, *(result.runs[k]["snr"]["estimate"][i] for k in keys))
             for i, s in enumerate(sigma)], title="SNR of the trained networks"))
        nk = [k for k in keys if k != "optimal"]
        out.append(report.table(
            ["sigma", *nk],
            [(s, *(f"{result.runs[k]['score']['score'][i]:.3f}"
                   f"+-{result.runs[k]['score']['stderr'][i]:.3f}" for k in nk))
             for i, s in enumerate(sigma)],
            title="generalisation score g (0: optimum, 1: empirical denoiser of its set)"))
        out.append(report.table(
            ["sigma", *nk],
            [(s, *(f"{result.runs[k]['score']['toward_empirical'][i]:.3f}"
                   f"+-{result.runs[k]['score']['toward_empirical_stderr'][i]:.3f}"
                   for k in nk)) for i, s in enumerate(sigma)],
            title="memorisation coefficient t (projection on the segment optimum -> "
                  "empirical)"))
    rows = [(f"N={N}", v["N_over_Kd"], v["epochs"], v["final_loss"], v["regime"],
             v["memorization"], v["shape"], v["shape_samples"], v["peak_sigma"],
             v["empirical_shape"], v["empirical_peak_sigma"], v["probe_shape"],
             v["probe_peak_sigma"], v["train_s"])
            for N, v in ((int(k), v) for k, v in a["sizes"].items())]
    out.append(report.table(
        ["run", "N/(K d)", "epochs", "loss", "regime", "max t", "SNR shape", "samples",
         "peak sigma", "empirical shape", "emp. peak", "probe shape", "probe peak",
         "train (s)"], rows, title="per training-set size"))
    out.append(f"memorisation read at sigma <= {o.regime_window:g} x the optimum's peak")
    if "optimal_peak_sigma" in a:
        out.append(f"optimum: {a['optimal_shape']}, peak sigma {a['optimal_peak_sigma']:.3g}")
    t = a["transition"]
    out.append(f"transition: trained curves unimodal from N={t['trained_unimodal_from']}, "
               f"exact empirical denoisers from N={t['empirical_unimodal_from']}; largest "
               f"memorising N={t['largest_memorising_N']}, smallest generalising "
               f"N={t['smallest_generalising_N']}")
    return out + result.render_claims()


def plot(result: GeneralizationResult, path: str) -> None:
    o = result.options
    fig, axes = report.new_figure(2, 2, width=5.2, height=3.9)
    sigma = o.sigma()
    Ns = [N for N in o.N if _key(N) in result.runs]
    cmap = __import__("matplotlib").colormaps["viridis"]
    color = {N: cmap(i / max(1, len(Ns) - 1)) for i, N in enumerate(Ns)}
    opt = result.runs.get("optimal")
    ax = axes[0]
    for N in Ns:
        r = result.runs[_key(N)]
        ax.plot(sigma, r["snr"]["estimate"], "o-", ms=2.5, color=color[N], label=f"N={N}")
    if opt is not None:
        ax.plot(sigma, opt["snr"]["estimate"], "k-", lw=2, label="optimum")
    ax.set_title("trained network: SNR")
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    for N in Ns:
        ax.plot(sigma, result.runs[_key(N)]["empirical_snr"]["estimate"], "--", color=color[N])
    if opt is not None:
        ax.plot(sigma, opt["snr"]["estimate"], "k-", lw=2)
    ax.set_title("exact empirical denoiser of the same points: SNR")
    for ax in axes[:2]:
        ax.set_yscale("log")
        report.plain_log_ticks(ax.yaxis)
    ax = axes[2]
    for N in Ns:
        sc = result.runs[_key(N)]["score"]
        ax.errorbar(sigma, sc["score"], yerr=2 * np.asarray(sc["stderr"]), fmt="o-", ms=2.5,
                    color=color[N])
        ax.plot(sigma, sc["toward_empirical"], ":", color=color[N])
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.set_ylim(-0.1, 1.1)
    ax.set_title("score g (solid), memorisation t (dotted)")
    ax = axes[3]
    for N in Ns:
        ax.plot(sigma, result.runs[_key(N)]["probe"]["estimate"], "o-", ms=2.5, color=color[N])
    if opt is not None:
        ax.plot(sigma, opt["probe"]["estimate"], "k-", lw=2)
    ax.axhline(1 / o.K, color="grey", lw=0.8)
    ax.set_title("linear probe accuracy")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(report.SIGMA_LABEL)
    fig.suptitle(f"$K$={o.K} $d$={o.d} $n$={o.n} $\\delta$={o.delta:g}: {result.verdict}")
    report.save_figure(fig, path)


class Generalization(Command[GeneralizationOptions]):
    """``python -m verify generalization``."""

    name = "generalization"
    help = ("trained networks (PyTorch) on N = 2^6..2^14 points: SNR, probe, generalisation "
            "score; memorising vs generalising (our construction)")
    Options = GeneralizationOptions
    scheduler = "local"
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {"batch_size": ("--quick", {
        "action": "store_true", "help": "tiny sizes (seconds; for tests, numbers not "
        "meaningful)"})}

    def options(self, args: argparse.Namespace) -> GeneralizationOptions:
        options = quick_or_given(GeneralizationOptions, args)
        parallel.check_scheduler(args.scheduler, args.workers)
        require_torch("python -m verify generalization")
        return options

    def run(self, options: GeneralizationOptions, context: Context) -> GeneralizationResult:
        return run(options, context)
