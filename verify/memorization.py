"""``python -m verify memorization``: SNR curves of a memorising denoiser against the optimum.

OUR CONSTRUCTION, not a reproduction: the paper's memorisation experiment (Section 4)
trains U-Nets on CIFAR10 subsets and has no MoLRG counterpart.  Here the memorising
denoiser is the exact optimal denoiser of the EMPIRICAL distribution of ``N`` clean
training samples (``molrg.EmpiricalDenoiser``: ``xhat = sum_i softmax_i(-||x - p_i||^2 /
2 sigma^2) p_i``, the minimiser of the denoising loss on the training set), for
``N = 30, 300, 3000, 30000`` by default, beside the population optimum ``E[x0 | x_t]``.
Default model: the paper's Fig. 3 setting ``K=3, d=5, n=50, delta=0.2`` (the MoLRG
setting of its representation experiments, whose optimal SNR peak is known).

The training points lie in ``span(U)`` (``K d`` dimensions), so the softmax depends on
``x`` only through ``U^T x``: the denoiser is evaluated exactly in those coordinates
(``molrg.EmpiricalDenoiser(points, basis=...)``), which is also why the curves cannot
depend on ``n``.  The SNR is
the ambient Monte Carlo estimate of ``molrg.snr`` (common random numbers across sigma,
the same evaluation draws for every ``N``).

Claims (``--z`` errors; curve shapes as in ``molrg.curve_shape``):

1. ``small-N-monotone``: the smallest ``N`` gives a decreasing curve (no significant rise
   from the small-sigma end).
2. ``large-N-unimodal``: the largest ``N`` gives a unimodal curve (interior peak, a
   significant rise and fall).
3. ``approaches-optimum``: near the optimum's peak (``[sigma*/2, 2 sigma*]``) the largest
   relative gap to the optimum shrinks as ``N`` grows, and the largest ``N``'s peak lies
   within a factor ``--peak-tol`` of the optimum's.

The report names the transition: the largest ``N`` with a decreasing curve and the
smallest with a unimodal one, also as ``N / (K d)`` and ``N / K`` (``N / n`` is given for
completeness; ``n`` does not enter).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import molrg
from molrg.validation import check_int

from . import parallel, report
from .claims import UNIMODAL_Z, Claim, ClaimsResult, ModelGrid, check_sizes, parse_sizes, validate_run
from .command import Command, Context, option
from .paper import empirical_denoiser

MODEL = "model (defaults: the paper's Fig. 3 setting)"
SNR = "SNR"
CLAIMS = "claims"


@dataclass(frozen=True)
class MemorizationOptions(ModelGrid):
    """Options of ``memorization`` (defaults: Fig. 3's model, N = 30 ... 30000)."""

    VERDICT_SAMPLES = ("samples", "optimal_samples")
    """Monte Carlo sample counts a verdict rests on (each >= molrg.MIN_VERDICT_SAMPLES)."""

    K: int = option(3, "classes (default: 3)", group=MODEL)
    d: int = option(5, "subspace dimension (default: 5)", group=MODEL)
    n: int = option(50, "ambient dimension (default: 50)", group=MODEL)
    delta: float = option(0.2, "detail noise (default: 0.2)", group=MODEL)
    N: tuple[int, ...] = option((30, 300, 3000, 30000), "training-set sizes, "
                                "comma-separated, each 1 to 1e6 (default: "
                                "30,300,3000,30000)", group=MODEL, text="30,300,3000,30000",
                                parse=parse_sizes)
    input: str = option("noisy", "default: noisy", group=SNR, choices=molrg.INPUTS)
    denominator: str = option("others", "default: others", group=SNR,
                              choices=molrg.DENOMINATORS)
    samples: int = option(3000, "Monte Carlo samples per sigma for the empirical "
                          "denoisers", group=SNR)
    optimal_samples: int = option(100_000, "Monte Carlo samples per sigma for the optimum",
                                  group=SNR)
    seed: int = option(0, "seed (default: 0)", group=SNR)
    num_sigma: int = option(20, "grid points (default: 20)", group=SNR)
    sigma_min: float = option(0.01, "default: 0.01", group=SNR)
    sigma_max: float = option(5.0, "default: 5", group=SNR)
    z: float = option(UNIMODAL_Z, "error threshold (default: 4)", group=CLAIMS)
    peak_tol: float = option(math.sqrt(2.0), "allowed factor between the largest N's and "
                             "the optimum's peak", group=CLAIMS)
    replicates: int = option(50, "independent replicates per curve, for the paired errors "
                             "of its shape (default: 50)", group=CLAIMS)
    doublings: int = option(5, "adaptive: double the samples up to this many times while "
                            "a shape is undetermined (default: 5)", group=CLAIMS)

    def max_samples(self, samples: int) -> int:
        """The adaptive budget: ``samples`` doubled at most ``doublings`` times."""
        return samples * 2**self.doublings

    def __post_init__(self) -> None:
        self.check_model()
        object.__setattr__(self, "N", check_sizes(self.N))
        validate_run(self, {"samples": 2 * self.K, "optimal_samples": 2 * self.K})
        # shapes: replicates for paired (common-random-number) errors, adaptive doubling
        object.__setattr__(self, "replicates", check_int(
            "replicates", self.replicates, low=2,
            high=max(2, min(self.samples, self.optimal_samples) // (2 * self.K))))
        object.__setattr__(self, "doublings", check_int("doublings", self.doublings, low=0,
                                                        high=10))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["N"] = list(self.N)
        return out


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: one SNR curve (a training-set size, or the optimum)."""
    p = task.params
    model = molrg.MoLRG(p["K"], p["d"], p["n"], p["delta"], seed=p["seed"])
    sigma = np.array(p["sigma"])
    start = time.perf_counter()
    if p["N"] is None:
        denoiser, samples = None, p["optimal_samples"]
    else:
        denoiser, samples = empirical_denoiser(model, p["N"], task.seed), p["samples"]
    R = p.get("replicates", 50)

    def curve(m: int) -> molrg.SNRResult:  # R replicates: paired errors across sigma
        return molrg.snr(model, sigma, input=p["input"], denominator=p["denominator"],
                         denoiser=denoiser, replicates=R,
                         method=molrg.MonteCarlo(simulator="ambient", samples=m, seed=p["seed"]))

    # adaptive: double the samples while the shape is undetermined (up to the budget)
    ad = molrg.adaptive_shape(curve, samples, samples * 2 ** p.get("doublings", 5), p["z"])
    res = ad.result
    return {"N": p["N"], "sigma": sigma.tolist(), "snr": res.estimate.tolist(),
            "stderr": res.stderr.tolist(), "samples": res.n_samples,
            "untrustworthy": res.untrustworthy.tolist(),
            "replicates": res.replicates.tolist(), "shape_history": list(ad.history),
            "elapsed_s": time.perf_counter() - start}


@dataclass(frozen=True)
class MemorizationResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``memorization``."""


def _key(N: int | None) -> str:
    return "optimal" if N is None else f"N={N}"


def run(options: MemorizationOptions | None = None,
        context: Context | None = None) -> MemorizationResult:
    """Run the optimum and every ``N`` (tasks), then analyse."""
    context = context or Context()
    options = options or MemorizationOptions()
    sizes: list[int | None] = [None, *options.N]
    seeds = parallel.spawn_seeds(options.seed, len(sizes))
    base = {"K": options.K, "d": options.d, "n": options.n, "delta": options.delta,
            "seed": options.seed, "input": options.input, "denominator": options.denominator,
            "samples": options.samples, "optimal_samples": options.optimal_samples,
            "sigma": options.sigma().tolist(), "replicates": options.replicates,
            "doublings": options.doublings, "z": options.z}
    tasks = [parallel.Task(_key(N), {**base, "N": N}, s)
             for N, s in zip(sizes, seeds, strict=True)]
    start = time.perf_counter()
    result = context.map(_task, tasks, "memorization")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return MemorizationResult(options, result.results, result.failures, analysis, claims,
                              time.perf_counter() - start)


def analyse(options: MemorizationOptions, runs: dict[str, Any]) -> dict[str, Any]:
    """Per curve: shape, peak, gap to the optimum near its peak; and the transition."""
    out: dict[str, Any] = {"curves": {}}
    opt = runs.get("optimal")
    sigma = options.sigma()
    window = None
    opt_peak = math.nan
    if opt is not None:
        opt_peak = molrg.grid_peak(sigma, opt["snr"])
        window = (sigma >= opt_peak / 2) & (sigma <= opt_peak * 2)
    for key, r in runs.items():
        y, e = np.asarray(r["snr"]), np.asarray(r["stderr"])
        reps = np.asarray(r.get("replicates", []))
        shape = molrg.curve_shape(y, e, options.z, cov=molrg.crn_covariance(reps),
                                  dof=reps.shape[0] - 1, samples=r["samples"]) \
            if reps.ndim == 2 and reps.shape[0] >= 2 else molrg.curve_shape(y, e, options.z)
        entry = {"N": r["N"], "shape": shape.to_json(), "peak_sigma": molrg.grid_peak(sigma, y),
                 "peak_snr": float(np.max(y)), "snr_at_sigma_min": float(y[0]),
                 "rise_relative": float(np.max(y) / y[0] - 1.0), "elapsed_s": r["elapsed_s"],
                 "samples": r["samples"], "shape_history": r.get("shape_history", [])}
        if opt is not None and window is not None and window.any():
            yo = np.asarray(opt["snr"])
            gap = np.abs(np.log(y[window] / yo[window]))
            j = int(np.argmax(gap))
            entry["gap_near_optimum_peak"] = float(np.expm1(gap[j]))
            entry["gap_where"] = float(sigma[window][j])
            entry["ratio_at_sigma_min"] = float(y[0] / yo[0])
        if r["N"] is not None:
            K, d = options.K, options.d
            entry.update({"N_over_Kd": r["N"] / (K * d), "N_over_K": r["N"] / K,
                          "N_over_n": r["N"] / options.n})
        out["curves"][key] = entry
    out["optimal_peak_sigma"] = opt_peak
    shapes = [(N, out["curves"][_key(N)]["shape"]["shape"]) for N in options.N
              if _key(N) in out["curves"]]
    mono = [N for N, s in shapes if s == "decreasing"]
    uni = [N for N, s in shapes if s == "unimodal"]
    out["transition"] = {
        "largest_monotone_N": max(mono) if mono else None,
        "smallest_unimodal_N": min(uni) if uni else None,
        "shapes": {str(N): s for N, s in shapes},
    }
    out["undetermined_N"] = [N for N, s in shapes if s == "undetermined"]
    out["shape_samples"] = {str(N): out["curves"][_key(N)]["samples"] for N, _ in shapes}
    return out


def evaluate_claims(options: MemorizationOptions, analysis: dict[str, Any]) -> list[Claim]:
    curves = analysis["curves"]
    z = options.z
    claims = []
    small, large = _key(options.N[0]), _key(options.N[-1])
    if small in curves:
        sh = curves[small]["shape"]
        claims.append(Claim(
            "small-N-monotone", sh["shape"] == "decreasing", sh["rise_z"],
            f"shape 'decreasing': no rise from the small-sigma end beyond {z:g} errors",
            f"{small}: shape {sh['shape']}, rise {sh['rise_z']:.3g} errors "
            f"({curves[small]['rise_relative']:+.1%}), argmax at sigma="
            f"{curves[small]['peak_sigma']:.4g}; {curves[small]['samples']} samples"))
    if large in curves:
        sh = curves[large]["shape"]
        claims.append(Claim(
            "large-N-unimodal", sh["shape"] == "unimodal", sh["rise_z"],
            f"shape 'unimodal': interior peak, rise and fall beyond {z:g} errors",
            f"{large}: shape {sh['shape']}, rise {sh['rise_z']:.3g} errors "
            f"({curves[large]['rise_relative']:+.1%}), fall {sh['drop_z']:.3g}, peak sigma "
            f"{curves[large]['peak_sigma']:.4g}; {curves[large]['samples']} samples"))
    gaps = [(N, curves[_key(N)].get("gap_near_optimum_peak")) for N in options.N
            if _key(N) in curves]
    gaps = [(N, g) for N, g in gaps if g is not None]
    if len(gaps) >= 2 and "optimal" in curves and large in curves:
        shrinking = all(b < a for (_, a), (_, b) in itertools.pairwise(gaps))
        ratio = curves[large]["peak_sigma"] / analysis["optimal_peak_sigma"]
        ok_peak = abs(math.log(ratio)) <= math.log(options.peak_tol)
        claims.append(Claim(
            "approaches-optimum", bool(shrinking and ok_peak), gaps[-1][1],
            f"gap near the optimum's peak shrinks with N; peak within x{options.peak_tol:.3g}",
            "gap " + ", ".join(f"N={N}: {g:.1%}" for N, g in gaps)
            + f"; peak sigma {curves[large]['peak_sigma']:.4g} vs optimum "
            f"{analysis['optimal_peak_sigma']:.4g} (ratio {ratio:.3f}); at sigma_min the "
            f"largest N gives {curves[large].get('ratio_at_sigma_min', math.nan):.3f} x the "
            "optimum"))
    return claims


def render(result: MemorizationResult, *, table: bool = True) -> list[Any]:
    o = result.options
    out: list[Any] = [
        f"[bold]Memorisation (our MoLRG construction)[/bold]: K={o.K} d={o.d} n={o.n} "
        f"delta={o.delta:g}, input {o.input}, denominator {o.denominator} "
        f"({result.elapsed_s:.1f} s)"]
    keys = ["optimal", *(_key(N) for N in o.N)]
    keys = [k for k in keys if k in result.runs]
    if table:
        sigma = o.sigma()
        rows = [(s, *(result.runs[k]["snr"][i] for k in keys),
                 *(result.runs[k]["stderr"][i] for k in keys[:1]))
                for i, s in enumerate(sigma)]
        out.append(report.table(["sigma", *keys, "optimal +-"], rows,
                                title="SNR per training-set size"))
    curves = result.analysis["curves"]
    out.append(report.table(
        ["curve", "shape", "samples", "rise (errors)", "rise", "peak sigma", "peak SNR",
         "gap near opt. peak", "N/(K d)", "N/K", "time (s)"],
        [(k, curves[k]["shape"]["shape"], curves[k].get("samples", 0), curves[k]["shape"]["rise_z"],
          f"{curves[k]['rise_relative']:+.1%}", curves[k]["peak_sigma"], curves[k]["peak_snr"],
          curves[k].get("gap_near_optimum_peak", math.nan), curves[k].get("N_over_Kd", math.nan),
          curves[k].get("N_over_K", math.nan), curves[k]["elapsed_s"]) for k in keys],
        title="shapes"))
    t = result.analysis["transition"]
    out.append(f"transition: largest decreasing N = {t['largest_monotone_N']}, smallest unimodal "
               f"N = {t['smallest_unimodal_N']}, undetermined {result.analysis.get('undetermined_N', [])} "
               f"(K d = {o.K * o.d}; n = {o.n} does not enter; shapes with paired errors of "
               f"{o.replicates} replicates, samples doubled up to {o.doublings} times)")
    return out + result.render_claims()


def plot(result: MemorizationResult, path: str) -> None:
    o = result.options
    fig, (ax,) = report.new_figure(1, width=6.5, height=4.5)
    sigma = o.sigma()
    for i, key in enumerate(["optimal", *(_key(N) for N in o.N)]):
        if key not in result.runs:
            continue
        y = np.asarray(result.runs[key]["snr"])
        e = np.asarray(result.runs[key]["stderr"])
        style = dict(color="k", lw=2.2) if key == "optimal" else dict(color=f"C{i}", lw=1.3)
        ax.plot(sigma, y, "o-", ms=3, label=key, **style)
        ax.fill_between(sigma, y - 2 * e, y + 2 * e, alpha=0.2, color=style["color"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    report.plain_log_ticks(ax.yaxis)
    ax.set_xlabel(report.SIGMA_LABEL)
    ax.set_ylabel(f"SNR ({o.denominator}, {o.input} input)")
    ax.set_title(f"memorising denoiser, $K$={o.K} $d$={o.d} $\\delta$={o.delta:g} -> "
                 f"{result.verdict}")
    ax.legend(fontsize=8)
    report.save_figure(fig, path)


class Memorization(Command[MemorizationOptions]):
    """``python -m verify memorization``."""

    name = "memorization"
    help = "SNR of the memorising (empirical) denoiser for several N vs the optimum (our construction)"
    Options = MemorizationOptions
    scheduler = "serial"

    def run(self, options: MemorizationOptions, context: Context) -> MemorizationResult:
        return run(options, context)
