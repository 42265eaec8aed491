"""``python -m verify learning``: learning dynamics at a fixed small training set (issue 22, item 3).

Trains the sigma-conditioned MLP (``molrg.train_denoiser(architecture="mlp", data=P)``,
PyTorch) on ``N`` fixed samples ``P`` of the model and keeps log-spaced checkpoints
(``molrg.log_checkpoints``; one epoch is ``ceil(N / batch)`` Adam steps).  Per checkpoint
(``molrg.checkpoint_curves``, the same evaluation draws for every checkpoint): the SNR
curve and its shape (paired errors, ``--z``), the linear-probe curve, the generalisation
score ``g = A/(A+B)`` per sigma on fresh samples, and the distance to the optimum
``D = exp(mean log A)`` (the paper's FID analogue).

Claims (the paper's Section 4 / B.1, read on the MoLRG):

1. ``early-unimodal``: the checkpoint nearest the optimum (least ``D``) has a unimodal SNR
   curve.
2. ``late-monotone``: the last checkpoint's SNR curve is monotone (decreasing or
   increasing).  The report gives how far it memorises: ``g`` at the smallest sigma and
   the largest ``g`` over sigma.
3. ``probe-anticorrelates``: Spearman's rho between the peak linear-probe accuracy and
   ``D`` over checkpoints is negative with one-sided permutation p < ``--alpha``
   (undetermined when neither direction is significant).
4. ``probe-selects-optimum`` (early stopping): the checkpoint with the best peak probe
   accuracy has the least ``D``, or a ``D`` within ``--z`` errors of the least.

A claim resting on an SNR estimate flagged untrustworthy, or on an undetermined shape, is
undetermined.
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

from .claims import MAX_N, UNIMODAL_Z, Claim, ClaimsResult, ModelGrid, verdict_of
from .command import Command, Context, option, quick_or_given

GROUP = "model and training (default: Fig. 3's model, N = 300)"


def _option(default: Any, text: str) -> Any:
    """An option of the one group, its default in its help."""
    return option(default, f"{text} (default: {default})", group=GROUP)


@dataclass(frozen=True)
class LearningOptions(ModelGrid):
    """Options of ``learning`` (defaults: Fig. 3's model, N = 300; ``quick()`` for tests)."""

    K: int = _option(3, "classes")
    d: int = _option(5, "subspace dimension")
    n: int = _option(50, "ambient dim.")
    delta: float = _option(0.2, "detail noise")
    N: int = _option(300, "training-set size")
    epochs: int = _option(30_000, "epochs (one epoch = ceil(N / batch) steps)")
    checkpoints: int = _option(9, "log-spaced checkpoints")
    first_checkpoint: int = _option(5, "first checkpoint epoch")
    width: int = _option(256, "MLP width")
    depth: int = _option(3, "MLP hidden layers")
    lr: float = _option(1e-3, "Adam learning rate")
    lr_schedule: str = option("constant", "default: constant", group=GROUP,
                              choices=("constant", "cosine"))
    batch_size: int = _option(128, "batch size")
    num_sigma: int = _option(9, "sigma grid points")
    sigma_min: float = _option(0.02, "smallest sigma")
    sigma_max: float = _option(3.0, "largest sigma")
    snr_samples: int = _option(10_000, "SNR Monte Carlo samples per checkpoint")
    replicates: int = _option(50, "SNR replicates (paired errors)")
    probe_samples: int = _option(2_000, "linear-probe samples per sigma")
    score_samples: int = _option(2_000, "fresh samples of the generalisation score")
    denominator: str = option("others", "SNR denominator (default: others)", group=GROUP,
                              choices=molrg.DENOMINATORS)
    seed: int = _option(0, "seed")
    z: float = _option(UNIMODAL_Z, "error threshold")
    alpha: float = _option(0.05, "permutation-test level")

    def __post_init__(self) -> None:
        molrg.MoLRG(self.K, self.d, self.n, self.delta)  # validates the model
        for name, low, high in (("N", 1, MAX_N), ("epochs", 1, 10**7), ("checkpoints", 3, 50),
                                ("first_checkpoint", 1, 10**7), ("width", 1, 10**5),
                                ("depth", 1, 100), ("batch_size", 1, 10**6),
                                ("num_sigma", 3, 1000), ("snr_samples", 40, 10**8),
                                ("replicates", 2, 10**4), ("probe_samples", 40, 10**7),
                                ("score_samples", 2, 10**7), ("seed", 0, 2**31 - 1)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low=low,
                                                     high=high))
        if self.first_checkpoint > self.epochs:
            raise molrg.ParameterError(f"first_checkpoint={self.first_checkpoint} must not "
                                       f"exceed epochs={self.epochs}")
        molrg.TrainOptions(lr=self.lr, lr_schedule=self.lr_schedule)
        lo = check_real("sigma_min", self.sigma_min, low=1e-4, high=1e3)
        hi = check_real("sigma_max", self.sigma_max, low=1e-4, high=1e3)
        if hi <= lo:
            raise molrg.ParameterError(f"sigma_max={hi!r} must exceed sigma_min={lo!r}")
        object.__setattr__(self, "z", check_real("z", self.z, low=0.0))
        object.__setattr__(self, "alpha", check_real("alpha", self.alpha, low=0.0, high=1.0))

    @classmethod
    def quick(cls, **changes: Any) -> LearningOptions:
        """A seconds-long run (tests; numbers are not meaningful)."""
        base: dict[str, Any] = dict(K=2, d=2, n=8, N=20, epochs=20, checkpoints=3, width=16,
                                    depth=1, num_sigma=4, snr_samples=400, replicates=4,
                                    probe_samples=100, score_samples=100)
        base.update(changes)
        return cls(**base)

    def steps(self) -> tuple[int, ...]:
        return molrg.log_checkpoints(self.first_checkpoint, self.epochs, self.checkpoints)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LearningResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``learning``: claims judged one by one."""

    @property
    def untrustworthy(self) -> list[str]:
        return [c.name + ": rests on untrustworthy or undecided estimates"
                for c in self.claims if c.undetermined]

    @property
    def verdict(self) -> str:
        return "deviates" if self.failures else verdict_of(self.claims)


def run(options: LearningOptions | None = None,
        context: Context | None = None) -> LearningResult:
    """Train once with checkpoints, evaluate every checkpoint, judge."""
    o = options or LearningOptions()
    require_torch("python -m verify learning")
    start = time.perf_counter()
    model = o.model()
    points, _labels = model.sample(o.N, o.seed + 1)
    topts = molrg.TrainOptions(width=o.width, depth=o.depth, lr=o.lr, lr_schedule=o.lr_schedule,
                               batch_size=o.batch_size, device="cpu", threads=1)
    steps = o.steps()
    den = molrg.train_denoiser(model, architecture="mlp", data=points, epochs=o.epochs,
                               seed=o.seed, options=topts,
                               monitor=molrg.train.TrainMonitor(checkpoints=steps))
    train_s = time.perf_counter() - start
    curves = molrg.checkpoint_curves(model, den.checkpoints, points, o.sigma(),
                                     evaluation=molrg.StudyOptions(
                                         samples=o.snr_samples, replicates=o.replicates,
                                         probe_samples=o.probe_samples,
                                         score_samples=o.score_samples,
                                         denominator=o.denominator, z=o.z), seed=o.seed + 2)
    optimal = molrg.snr(model, o.sigma(), denominator=o.denominator)
    optimal_probe = molrg.probe_accuracy(model, o.sigma(), probe="linear",
                                         method=molrg.Auto(molrg.MonteCarlo(
                                             samples=o.probe_samples, seed=o.seed + 3)))
    runs = {"checkpoints": {**curves.to_json(), "train_s": train_s,
                            "steps_per_epoch": math.ceil(o.N / o.batch_size),
                            "loss_history": den.loss_history.tolist(),
                            "eval_s": time.perf_counter() - start - train_s},
            "optimal": {"snr": optimal.estimate.tolist(),
                        "probe": optimal_probe.estimate.tolist()}}
    analysis = analyse(o, curves)
    claims = evaluate_claims(o, analysis)
    return LearningResult(o, runs, {}, analysis, claims, time.perf_counter() - start)


def analyse(o: LearningOptions, c: molrg.CheckpointCurves) -> dict[str, Any]:
    D, De = c.distance, c.distance_stderr
    peak = c.peak_probe
    best_d = int(np.argmin(D))
    best_p = int(np.argmax(peak))
    corr = molrg.rank_correlation(peak, D, seed=o.seed)
    shapes = [s["shape"] for s in c.shapes]
    flagged = [bool(np.any(f)) for f in c.untrustworthy]
    return {
        "steps": list(c.steps), "shapes": shapes, "flagged": flagged,
        "distance": D.tolist(), "distance_stderr": De.tolist(), "peak_probe": peak.tolist(),
        "peak_probe_sigma": [float(c.sigma[i]) for i in np.argmax(c.probe, axis=1)],
        "least_distance_index": best_d, "best_probe_index": best_p,
        "distance_regret": float(D[best_p] / D[best_d] - 1.0),
        "distance_regret_z": float((D[best_p] - D[best_d]) / math.hypot(De[best_p], De[best_d]))
        if best_p != best_d else 0.0,
        "correlation": corr.to_json(),
        "g_smallest_sigma_last": float(c.score[-1, 0]),
        "g_max_last": float(np.nanmax(c.score[-1])),
        "g_max_sigma_last": float(c.sigma[int(np.nanargmax(c.score[-1]))]),
    }


def _shape_claim(name: str, a: dict[str, Any], i: int, want: tuple[str, ...],
                 tol: str, extra: str) -> Claim:
    shape, flag = a["shapes"][i], a["flagged"][i]
    undetermined = flag or shape == "undetermined"
    return Claim(name, shape in want and not undetermined, float(a["steps"][i]), tol,
                 f"step {a['steps'][i]}: shape {shape}" + (" (flagged estimates)" if flag else "")
                 + f"; {extra}", undetermined=undetermined)


def evaluate_claims(o: LearningOptions, a: dict[str, Any]) -> list[Claim]:
    i = a["least_distance_index"]
    shapes = ", ".join(f"{s}:{sh}" for s, sh in zip(a["steps"], a["shapes"], strict=True))
    claims = [
        _shape_claim("early-unimodal", a, i, ("unimodal",),
                     "unimodal at the least-D checkpoint", f"all: {shapes}"),
        _shape_claim("late-monotone", a, -1, ("decreasing", "increasing"),
                     "monotone at the last checkpoint",
                     f"last checkpoint g = {a['g_smallest_sigma_last']:.3f} at the smallest "
                     f"sigma, max g = {a['g_max_last']:.3f} at sigma "
                     f"{a['g_max_sigma_last']:.3g}"),
    ]
    r = a["correlation"]
    rho = r["rho"]
    p_pos = 1.0 - r["p_negative"]  # one-sided p for rho >= observed (ties aside)
    neg = rho < 0 and r["p_negative"] < o.alpha
    pos = rho > 0 and p_pos < o.alpha
    claims.append(Claim("probe-anticorrelates", neg, rho, f"rho < 0, one-sided p < {o.alpha:g}",
                        f"Spearman rho(peak probe, D) = {rho:+.3f} over {r['size']} checkpoints, "
                        f"p(rho <= obs) = {r['p_negative']:.4f}, two-sided p = {r['p']:.4f}"
                        f"{' (exact)' if r['exact'] else ''}",
                        undetermined=not (neg or pos)))
    bp, bd = a["best_probe_index"], a["least_distance_index"]
    ok = bp == bd or a["distance_regret_z"] <= o.z
    claims.append(Claim("probe-selects-optimum", ok, a["distance_regret"],
                        f"best-probe checkpoint = least-D one (or within {o.z:g} errors)",
                        f"best probe at step {a['steps'][bp]} (peak {a['peak_probe'][bp]:.3f}), "
                        f"least D at step {a['steps'][bd]} (D {a['distance'][bd]:.4g}); D there "
                        f"{a['distance_regret']:+.1%} ({a['distance_regret_z']:.1f} errors)"))
    return claims


# ---------------------------------------------------------------------------------------
def render(result: LearningResult, *, table: bool = True) -> list[Any]:
    from . import report

    o, a = result.options, result.analysis
    ck = result.runs["checkpoints"]
    out: list[Any] = [f"[bold]Learning dynamics[/bold]: MLP {o.width}x{o.depth} on N={o.N} "
                      f"samples of K={o.K} d={o.d} n={o.n} delta={o.delta:g}, {o.epochs} epochs "
                      f"x {ck['steps_per_epoch']} steps (train {ck['train_s']:.0f} s, evaluation "
                      f"{ck['eval_s']:.0f} s)"]
    rows = [(s, sh, fl, D, De, p, ps, g[0], max(g))
            for s, sh, fl, D, De, p, ps, g in zip(
                a["steps"], a["shapes"], a["flagged"], a["distance"], a["distance_stderr"],
                a["peak_probe"], a["peak_probe_sigma"], ck["score"], strict=True)]
    out.append(report.table(["epoch", "SNR shape", "flagged", "D (to optimum)", "+-",
                             "peak probe", "at sigma", "g (smallest sigma)", "max g"], rows,
                            title="per checkpoint"))
    if table:
        sig = ck["sigma"]
        out.append(report.table(["sigma", "optimum", *(f"ep {s}" for s in a["steps"])],
                                [(s, result.runs["optimal"]["snr"][i],
                                  *(c[i] for c in ck["snr"])) for i, s in enumerate(sig)],
                                title="SNR per checkpoint"))
        out.append(report.table(["sigma", *(f"ep {s}" for s in a["steps"])],
                                [(s, *(c[i] for c in ck["score"])) for i, s in enumerate(sig)],
                                title="generalisation score g per checkpoint"))
    return out + result.render_claims()


def plot(result: LearningResult, path: str) -> None:
    from . import report

    a, ck = result.analysis, result.runs["checkpoints"]
    sig = np.asarray(ck["sigma"])
    fig, axes = report.new_figure(2, 2, width=4.6, height=3.6)
    cmap = __import__("matplotlib").colormaps["viridis"]
    steps = a["steps"]
    colors = [cmap(i / max(1, len(steps) - 1)) for i in range(len(steps))]
    for j, (name, key) in enumerate((("SNR", "snr"), ("linear probe", "probe"),
                                     ("generalisation score g", "score"))):
        ax = axes[j]
        for i, s in enumerate(steps):
            ax.plot(sig, ck[key][i], "o-", ms=2, color=colors[i], label=f"epoch {s}")
        if key in ("snr", "probe"):
            ax.plot(sig, result.runs["optimal"][key], "k--", lw=1.5, label="optimum")
        ax.set_xscale("log")
        if key == "snr":
            ax.set_yscale("log")
        ax.set_xlabel(report.SIGMA_LABEL)
        ax.set_title(name)
    axes[0].legend(fontsize=6)
    ax = axes[3]
    ax.errorbar(a["distance"], a["peak_probe"], xerr=2 * np.asarray(a["distance_stderr"]),
                fmt="none", ecolor="0.6")
    ax.scatter(a["distance"], a["peak_probe"], c=colors, zorder=3)
    for s, x, y in zip(steps, a["distance"], a["peak_probe"], strict=True):
        ax.annotate(str(s), (x, y), fontsize=6)
    ax.set_xlabel("D = geometric-mean distance to the optimum")
    ax.set_ylabel("peak linear-probe accuracy")
    ax.set_title(f"rho = {a['correlation']['rho']:+.2f} -> {result.verdict}")
    report.save_figure(fig, path)


class Learning(Command[LearningOptions]):
    """``python -m verify learning``."""

    name = "learning"
    help = "learning dynamics of a trained MLP at a fixed small N: curves per checkpoint"
    Options = LearningOptions
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {"alpha": ("--quick", {
        "action": "store_true", "help": "tiny sizes (tests; not meaningful)"})}

    def options(self, args: argparse.Namespace) -> LearningOptions:
        options = quick_or_given(LearningOptions, args)
        require_torch("python -m verify learning")
        return options

    def run(self, options: LearningOptions, context: Context) -> LearningResult:
        return run(options, context)
