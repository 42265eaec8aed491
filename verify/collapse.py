"""``python -m verify collapse``: does memorisation erase the unimodal curve when the
collapse level passes the SNR peak?

For each setting (default: ``K=3, d=5, delta=0.2``, the paper's Fig. 3 model, and
``K=2, d=3, delta=0.1``, a pronounced peak at small ``K d``) and each training-set size
``N`` (default 10 ... 3000, six values), the memorising denoiser is the exact optimal
denoiser of ``N`` clean samples (``molrg.EmpiricalDenoiser``, evaluated in the
coordinates of the model's basis: exact).
Per ``N``:

* **collapse level** ``sigma_C``: U-turns (``molrg.collapse_curve``, reverse SDE) from a
  training point ``p_i``; ``P_own(sigma)`` that the end point is ``p_i`` again crosses 1/2
  (bootstrap error bar; the step-size check reruns it with twice the steps);
* **Biroli et al.'s prediction** (arXiv 2402.18491): the level where the excess entropy of
  ``p_sigma`` over one point's Gaussian kernel equals ``log N``,
  ``d/2 log(1+1/s^2) + (K-1) d/2 log(1+delta^2/s^2) + I(s) = log N`` (``I`` the class
  information, Monte Carlo; also without ``I``, their large-dimension form);
* the **SNR curve** of the memorising denoiser (ambient Monte Carlo, as ``verify
  memorization``) and its shape (``molrg.curve_shape``: unimodal, decreasing, ...).

Per setting: the optimum's exact SNR peak ``sigma*`` (quadrature), its U-turn speciation
level (for the figure), and the predicted transition ``N_pred = exp(s_exc(sigma*))`` (the
``N`` whose predicted collapse level is the peak).

Claims (``--tol``, ``--n-tol`` factors; ``--z`` errors):

1. ``joining``: for every ``N``, the curve is unimodal exactly when ``sigma_C < sigma*``;
2. ``biroli-collapse-level``: measured/predicted collapse level within ``--tol``;
3. ``transition-N``: the measured transition (geometric mean of the largest ``N`` without
   and the smallest with a unimodal curve) within ``--n-tol`` of ``N_pred``;
4. ``step-size-converged``: every collapse level moves by at most ``--z`` errors when the
   step is halved.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

import molrg
from molrg import ParameterError, neighbours
from molrg.validation import check_int, check_real

from . import parallel, report
from .claims import UNIMODAL_Z, Claim, ClaimsResult, SigmaGrid, parse_floats
from .command import Command, Context, option, set_unchanged

SETTINGS = "settings"
UTURNS = "U-turns and SNR"
CLAIMS = "claims"


def _settings(text: str) -> tuple[tuple[int, int, float], ...]:
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        try:
            K, d, dl = int(parts[0]), int(parts[1]), float(parts[2])
        except (ValueError, IndexError):
            raise ParameterError(f"settings={text!r} must be K:d:delta items, "
                                 "comma-separated") from None
        out.append((K, d, dl))
    return tuple(out)


def _sizes(text: str) -> tuple[int, ...]:
    Ns = parse_floats(text, "N")
    if any(not v.is_integer() for v in Ns):
        raise ParameterError(f"N={text!r} must be comma-separated integers")
    return tuple(int(v) for v in Ns)


@dataclass(frozen=True)
class CollapseOptions(SigmaGrid):
    """Options of ``collapse``."""

    settings: tuple[tuple[int, int, float], ...] = option(
        ((3, 5, 0.2), (2, 3, 0.1)), "K:d:delta, comma-separated (default: "
        "3:5:0.2,2:3:0.1)", group=SETTINGS, text="3:5:0.2,2:3:0.1", parse=_settings)
    N: tuple[int, ...] = option((10, 30, 100, 300, 1000, 3000), "training-set sizes "
                                "(default: 10,30,100,300,1000,3000)", group=SETTINGS,
                                text="10,30,100,300,1000,3000", parse=_sizes)
    samples: int = option(200, "U-turns per level (200)", group=UTURNS)
    steps: int = option(48, "SDE steps (48; check 2x)", group=UTURNS)
    sigma_end: float = 1e-3
    num_sigma: int = option(12, "start levels (12)", group=UTURNS)
    sigma_min: float = 0.01
    sigma_max: float = 3.0
    snr_samples: int = option(3000, "Monte Carlo samples per sigma of the SNR curves (3000)",
                              group=UTURNS)
    snr_num_sigma: int = 16
    seed: int = option(0, "seed (default: 0)", group=UTURNS)
    tol: float = option(1.25, "collapse level factor (1.25)", group=CLAIMS)
    n_tol: float = option(2.0, "transition N factor (2)", group=CLAIMS)
    z: float = option(3.0, "step-size check, errors (3)", group=CLAIMS)

    def __post_init__(self) -> None:
        sets = tuple((check_int("K", K, low=2, high=100), check_int("d", d, low=1, high=100),
                      molrg.Setting(2, 1, dl).delta) for K, d, dl in self.settings)
        if not sets:
            raise ParameterError("settings is empty")
        object.__setattr__(self, "settings", sets)
        Ns = tuple(sorted(check_int("N", v, low=2, high=10**6) for v in self.N))
        if len(Ns) < 2 or len(set(Ns)) != len(Ns):
            raise ParameterError(f"N={list(self.N)}; valid: at least two distinct sizes >= 2")
        object.__setattr__(self, "N", Ns)
        for name, low in (("samples", 10), ("steps", 1), ("num_sigma", 3), ("snr_samples", 20),
                          ("snr_num_sigma", 5), ("seed", 0)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low=low,
                                                     high=10**7))
        molrg.Sampler("sde", self.steps, self.sigma_end)
        lo = check_real("sigma_min", self.sigma_min, low=self.sigma_end, high=1e3)
        object.__setattr__(self, "sigma_min", lo)
        object.__setattr__(self, "sigma_max", check_real("sigma_max", self.sigma_max, low=lo,
                                                         high=1e3, open_high=False))
        for name in ("tol", "n_tol"):
            object.__setattr__(self, name, check_real(name, getattr(self, name), low=1.0))
        object.__setattr__(self, "z", check_real("z", self.z, low=0.0))

    def snr_sigma(self) -> np.ndarray:
        return np.geomspace(0.01, 5.0, self.snr_num_sigma)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["settings"] = [list(s) for s in self.settings]
        return out


def _key(K: int, d: int, delta: float, N: int | None) -> str:
    return f"K={K},d={d},delta={delta:g}," + ("optimal" if N is None else f"N={N}")


def _task(task: parallel.Task) -> dict[str, Any]:
    """Worker: the optimum of a setting (N is None) or one training-set size."""
    p = task.params
    K, d, delta, N = p["K"], p["d"], p["delta"], p["N"]
    start = time.perf_counter()
    model = molrg.MoLRG(K, d, K * d, delta, kind="canonical")
    sigma = np.array(p["sigma"])
    snr_sigma = np.array(p["snr_sigma"])
    seed = task.seed % (2**63)
    out: dict[str, Any] = {"K": K, "d": d, "delta": delta, "N": N}
    if N is None:
        pk = molrg.snr_peak(model.setting)
        out["peak"] = pk.sigma if pk.interior else math.nan
        out["snr"] = molrg.snr(model.setting, snr_sigma).estimate.tolist()
        spec = molrg.speciation_curve(model, np.geomspace(0.03, 10, 12),
                                      sampler=molrg.Sampler("sde", p["steps"], p["sigma_end"]),
                                      samples=p["samples"], seed=seed)
        out["speciation"] = spec.level.to_json()
        out["excess_at_peak"] = float(neighbours.excess_entropy(K, d, delta, out["peak"])[0]) \
            if math.isfinite(out["peak"]) else math.nan
        out["N_pred"] = math.exp(out["excess_at_peak"])
    else:
        points, _ = model.sample(N, np.random.default_rng(seed))
        for label, steps in (("coarse", p["steps"]), ("fine", 2 * p["steps"])):
            curve = molrg.collapse_curve(points, sigma,
                                         sampler=molrg.Sampler("sde", steps, p["sigma_end"]),
                                         samples=p["samples"], seed=seed + 1, basis=model.basis)
            out[label] = curve.to_json()
        den = molrg.EmpiricalDenoiser(points, basis=model.basis)
        res = molrg.snr(model, snr_sigma, denoiser=den,
                        method=molrg.MonteCarlo(simulator="ambient", samples=p["snr_samples"],
                                                seed=seed + 2))
        shape = molrg.curve_shape(res.estimate, res.stderr, UNIMODAL_Z)
        out["snr"] = res.estimate.tolist()
        out["snr_stderr"] = res.stderr.tolist()
        out["shape"] = shape.shape
        out["predicted"] = neighbours.biroli_collapse_level(K, d, delta, N)
        out["predicted_no_info"] = neighbours.biroli_collapse_level(K, d, delta, N,
                                                               information=False)
    out["elapsed_s"] = time.perf_counter() - start
    return out


@dataclass(frozen=True)
class CollapseResult(ClaimsResult):
    """:class:`~verify.claims.ClaimsResult` of ``collapse``."""


def run(options: CollapseOptions | None = None, context: Context | None = None) -> CollapseResult:
    context = context or Context()
    options = options or CollapseOptions()
    base = {"samples": options.samples, "steps": options.steps,
            "sigma_end": options.sigma_end, "sigma": options.sigma().tolist(),
            "snr_samples": options.snr_samples, "snr_sigma": options.snr_sigma().tolist()}
    jobs = [(K, d, dl, N) for K, d, dl in options.settings for N in (None, *options.N)]
    seeds = parallel.spawn_seeds(options.seed, len(jobs))
    # the largest N first: the longest tasks start early on the workers
    order = sorted(range(len(jobs)), key=lambda i: -(jobs[i][3] or 0))
    tasks = [parallel.Task(_key(*jobs[i]), {**base, "K": jobs[i][0], "d": jobs[i][1],
                                            "delta": jobs[i][2], "N": jobs[i][3]}, seeds[i])
             for i in order]
    start = time.perf_counter()
    result = context.map(_task, tasks, "collapse")
    analysis = analyse(options, result.results)
    claims = evaluate_claims(options, analysis)
    return CollapseResult(options, result.results, result.failures, analysis, claims,
                          time.perf_counter() - start)


def analyse(options: CollapseOptions, runs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"settings": {}}
    for K, d, dl in options.settings:
        opt = runs.get(_key(K, d, dl, None))
        if opt is None:
            continue
        peak = opt["peak"]
        sizes: dict[str, Any] = {}
        for N in options.N:
            r = runs.get(_key(K, d, dl, N))
            if r is None:
                continue
            lvl, fine = r["coarse"]["level"], r["fine"]["level"]
            se = math.hypot(lvl["stderr"], fine["stderr"])
            z = abs(fine["sigma"] - lvl["sigma"]) / se if se > 0 else math.nan
            level = lvl["sigma"]
            # below the grid: P_own < 1/2 already at sigma_min -> sigma_C < sigma_min
            below = level if math.isfinite(level) else (
                options.sigma_min if lvl["position"] == "below grid" else options.sigma_max)
            unimodal = r["shape"] == "unimodal"
            sizes[str(N)] = {
                "level": level, "stderr": lvl["stderr"], "position": lvl["position"],
                "fine_level": fine["sigma"], "step_z": z, "predicted": r["predicted"],
                "predicted_no_info": r["predicted_no_info"],
                "ratio": level / r["predicted"] if math.isfinite(level) else math.nan,
                "shape": r["shape"], "below_peak": bool(below < peak),
                "agrees": bool(unimodal == (below < peak)),
                "p_own_min_sigma": r["coarse"]["p_own"][0],
                "p_any_min_sigma": r["coarse"]["p_any"][0]}
        uni = [int(N) for N, s in sizes.items() if s["shape"] == "unimodal"]
        non = [int(N) for N, s in sizes.items() if s["shape"] != "unimodal"]
        smallest_uni = min(uni) if uni else None
        below_uni = [N for N in non if smallest_uni is None or smallest_uni > N]
        largest_non = max(below_uni) if below_uni else None
        measured = (math.sqrt(largest_non * smallest_uni)
                    if largest_non is not None and smallest_uni is not None else math.nan)
        out["settings"][f"K={K},d={d},delta={dl:g}"] = {
            "K": K, "d": d, "delta": dl, "peak": peak, "speciation": opt["speciation"]["sigma"],
            "N_pred": opt["N_pred"], "N_measured": measured, "largest_non_unimodal": largest_non,
            "smallest_unimodal": smallest_uni, "sizes": sizes,
            "N_ratio": opt["N_pred"] / measured if math.isfinite(measured) else math.nan}
    return out


def evaluate_claims(options: CollapseOptions, analysis: dict[str, Any]) -> list[Claim]:
    sets = analysis["settings"]
    cases = [(k, N, s) for k, v in sets.items() for N, s in v["sizes"].items()]
    claims = []
    if cases:
        bad = [f"{k} N={N} ({s['shape']}, sigma_C {'<' if s['below_peak'] else '>='} peak)"
               for k, N, s in cases if not s["agrees"]]
        claims.append(Claim(
            "joining", not bad, float(len(bad)),
            "unimodal exactly when the collapse level is below the optimum's SNR peak",
            f"{len(cases) - len(bad)} of {len(cases)} cases agree"
            + ("; contradicted: " + "; ".join(bad) if bad else "")))
    ratios = [s["ratio"] for _, _, s in cases if math.isfinite(s["ratio"])]
    if ratios:
        lo, hi = min(ratios), max(ratios)
        claims.append(Claim(
            "biroli-collapse-level", bool(lo >= 1 / options.tol and hi <= options.tol),
            hi if hi * lo >= 1 else lo,
            f"measured / predicted collapse level within x{options.tol:g}",
            f"{len(ratios)} levels: ratio {lo:.3g}..{hi:.3g} ({lo - 1:+.0%}..{hi - 1:+.0%})"))
    nr = [(k, v["N_ratio"], v["N_pred"], v["N_measured"]) for k, v in sets.items()]
    finite = [x for x in nr if math.isfinite(x[1])]
    ok = bool(finite) and len(finite) == len(nr) and all(
        1 / options.n_tol <= r <= options.n_tol for _, r, _, _ in finite)
    claims.append(Claim(
        "transition-N", ok, max((r for _, r, _, _ in finite), default=math.nan),
        f"predicted transition N within x{options.n_tol:g} of the measured one",
        "; ".join(f"{k}: predicted {p:.3g}, measured {m:.3g}" for k, _, p, m in nr)))
    zs = [s["step_z"] for _, _, s in cases if math.isfinite(s["step_z"])]
    claims.append(Claim(
        "step-size-converged", bool(zs) and max(zs) <= options.z, max(zs, default=math.nan),
        f"|level(2 steps) - level(steps)| <= {options.z:g} combined errors",
        f"{len(zs)} levels, largest {max(zs, default=math.nan):.2f} errors"))
    return claims


QUICK = {"settings": "2:3:0.3", "N": "10,100", "samples": 40, "steps": 8, "num_sigma": 5,
         "snr_samples": 200}
"""What ``--quick`` changes (only options left at their defaults; command-line values)."""


def render(result: CollapseResult, *, table: bool = True) -> list[Any]:
    out: list[Any] = [f"[bold]Collapse (U-turns of the memorising denoiser)[/bold] "
                      f"({result.elapsed_s:.1f} s)"]
    for key, v in result.analysis["settings"].items():
        out.append(f"{key}: SNR peak {v['peak']:.4g}, speciation level {v['speciation']:.4g}; "
                   f"transition N predicted {v['N_pred']:.4g}, measured {v['N_measured']:.4g} "
                   f"(largest non-unimodal {v['largest_non_unimodal']}, smallest unimodal "
                   f"{v['smallest_unimodal']})")
        if table:
            rows = [(N, s["level"], s["stderr"], s["fine_level"], s["predicted"],
                     s["predicted_no_info"], s["ratio"], s["shape"],
                     "yes" if s["below_peak"] else "no", "yes" if s["agrees"] else "NO")
                    for N, s in v["sizes"].items()]
            out.append(report.table(
                ["N", "sigma_C", "+-", "2x steps", "Biroli", "Biroli (no I)", "ratio",
                 "SNR shape", "sigma_C < peak", "agrees"], rows, title=key))
    return out + result.render_claims()


def plot(result: CollapseResult, path: str) -> None:
    """One panel per setting: the SNR curves, the peak, the speciation and collapse levels."""
    o = result.options
    sets = result.analysis["settings"]
    fig, axes = report.new_figure(max(1, len(sets)), width=6.0 * max(1, len(sets)), height=4.8)
    snr_sigma = o.snr_sigma()
    for ax, (key, v) in zip(axes, sets.items(), strict=False):
        K, d, dl = v["K"], v["d"], v["delta"]
        opt = result.runs[_key(K, d, dl, None)]
        ax.plot(snr_sigma, opt["snr"], "k-", lw=2.2, label="optimal (exact)")
        ax.axvline(v["peak"], color="k", lw=1.2, label=f"SNR peak {v['peak']:.3g}")
        if math.isfinite(v["speciation"]):
            ax.axvline(v["speciation"], color="m", lw=1.2, ls="-.",
                       label=f"speciation {v['speciation']:.3g}")
        for i, (N, s) in enumerate(v["sizes"].items()):
            r = result.runs[_key(K, d, dl, int(N))]
            c = f"C{i}"
            ax.plot(snr_sigma, r["snr"], "o-", ms=2.5, lw=1, color=c, label=f"N={N} ({s['shape']})")
            if math.isfinite(s["level"]):
                ax.axvline(s["level"], color=c, ls="--", lw=1)
            if math.isfinite(s["predicted"]):
                ax.axvline(s["predicted"], color=c, ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sigma (dashed: measured collapse level, dotted: Biroli et al.)")
        ax.set_ylabel("SNR (noisy input)")
        ax.set_title(key, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"collapse vs SNR peak -> {result.verdict}")
    report.save_figure(fig, path)


class Collapse(Command[CollapseOptions]):
    """``python -m verify collapse``."""

    name = "collapse"
    help = "U-turn collapse level of the memorising denoiser vs the SNR peak (issue 23)"
    Options = CollapseOptions
    scheduler = "auto"
    flags: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {"seed": ("--quick", {
        "action": "store_true", "help": "one small setting (for tests)"})}

    def options(self, args: argparse.Namespace) -> CollapseOptions:
        if args.quick:
            set_unchanged(args, CollapseOptions, QUICK)
        return super().options(args)

    def run(self, options: CollapseOptions, context: Context) -> CollapseResult:
        return run(options, context)
