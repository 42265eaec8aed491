"""``python -m verify theorem1``: Theorem 1 of the paper against the Monte Carlo truth.

For each input mode the simulated SNR of the optimal denoiser (with standard errors) is
put next to Theorem 1's approximation (derived by the symbolic layer), and four claims
are checked, each with its measured value and tolerance:

1. ``simulated-unimodal``: the simulated curve is unimodal -- its worst dip before the
   argmax or rise after it is at most ``--unimodal-z`` combined standard errors (default
   4, the 99.9% point of the statistic for a flat curve with independent errors), and
   its argmax is inside the grid.
2. ``theory-unimodal``: the approximation has exactly one interior local maximum (the
   theorem's intermediate peak).
3. ``peak-location``: the simulated peak (refined below the grid, with a standard error)
   over the theory peak lies within ``1 +- --peak-tol`` (its 3-SE interval overlaps).
4. ``approx-near-peak``: the approximation's relative error on the grid points within a
   factor 2 of the simulated peak is at most ``--approx-tol`` (3 SE of slack per point).

The verdict is ``holds`` when every claim holds, else ``deviates``.  Exit status: 0 when
every verdict holds, 1 when any deviates, 2 on bad input.  Everything printed is also in
``--json``; ``--plot`` draws both curves, the error band and both peaks.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import molrg
from molrg._validation import check_choice, check_int, check_real
from molrg.analysis import PeakEstimate, simulated_peak, unimodality
from molrg.montecarlo import ESTIMANDS

from . import report

NAME = "theorem1"
HELP = "check Theorem 1 (unimodal SNR, its peak, the approximation) against simulation"

DEFAULTS: dict[str, Any] = {
    "K": 3, "d": 5, "n": 50, "delta": 0.2, "samples": 200_000, "seed": 0, "num_sigma": 40,
    "peak_tol": 0.15, "approx_tol": 0.25, "unimodal_z": 4.0, "replicates": 8,
}
# unimodal_z: calibrated on the worst null case, a flat curve with independent errors:
# on a 40-point grid its statistic exceeds 3.31 / 3.66 / 4.08 with probability 5% / 1% /
# 0.1% (3000 draws; tests/test_analysis.py).  Common-random-number curves are far
# below (the 150-case survey's largest value is about 0).
GRID_HALF_WIDTH = 30.0
"""Default grid: ``[c / 30, 30 c]`` around the theory peaks' geometric mean ``c``."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: its measured value, the tolerance it is held to, and the outcome."""

    name: str
    holds: bool
    measured: float
    tolerance: str
    detail: str = ""


@dataclass(frozen=True)
class ModeResult:
    """Theorem-1 check for one input mode."""

    input: str
    sigma: np.ndarray
    snr_simulated: np.ndarray
    snr_stderr: np.ndarray
    snr_theory: np.ndarray
    peak_sigma_simulated: float
    peak_sigma_simulated_stderr: float
    peak_snr_simulated: float
    peak_sigma_theory: float
    peak_snr_theory: float
    limits_theory: tuple[float, float]
    claims: list[Claim]

    @property
    def verdict(self) -> str:
        return "holds" if all(c.holds for c in self.claims) else "deviates"

    @property
    def peak_ratio(self) -> float:
        if self.peak_sigma_theory > 0:
            return self.peak_sigma_simulated / self.peak_sigma_theory
        return math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "sigma": self.sigma,
            "snr_simulated": self.snr_simulated,
            "snr_stderr": self.snr_stderr,
            "snr_theory": self.snr_theory,
            "peak_sigma_simulated": self.peak_sigma_simulated,
            "peak_sigma_simulated_stderr": self.peak_sigma_simulated_stderr,
            "peak_snr_simulated": self.peak_snr_simulated,
            "peak_sigma_theory": self.peak_sigma_theory,
            "peak_snr_theory": self.peak_snr_theory,
            "peak_ratio": self.peak_ratio,
            "limits_theory": {"sigma_to_0": self.limits_theory[0],
                              "sigma_to_inf": self.limits_theory[1]},
            "claims": [asdict(c) for c in self.claims],
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Theorem1Result:
    """Result of :func:`run`: the parameters and one :class:`ModeResult` per mode."""

    params: dict[str, Any]
    modes: dict[str, ModeResult]
    elapsed_s: float = field(default=0.0)

    @property
    def holds(self) -> bool:
        return all(m.verdict == "holds" for m in self.modes.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "command": NAME,
            "params": self.params,
            "modes": {k: m.to_json() for k, m in self.modes.items()},
            "elapsed_s": self.elapsed_s,
        }


# ---------------------------------------------------------------------------------------
# Claims (pure: crafted curves can be fed in)
# ---------------------------------------------------------------------------------------
def evaluate_claims(
    sigma: Any,
    simulated: Any,
    stderr: Any,
    theory: Any,
    *,
    peak_simulated: PeakEstimate,
    peak_theory: molrg.Peak,
    peak_tol: float = DEFAULTS["peak_tol"],
    approx_tol: float = DEFAULTS["approx_tol"],
    unimodal_z: float = DEFAULTS["unimodal_z"],
) -> list[Claim]:
    """The four claims of Theorem 1 for one mode, from curves on the grid ``sigma``."""
    sigma, simulated, stderr, theory = (np.asarray(a, dtype=float)
                                        for a in (sigma, simulated, stderr, theory))
    claims = []

    uni = unimodality(simulated, stderr)
    interior = 0 < uni.argmax < sigma.size - 1
    claims.append(Claim(
        "simulated-unimodal", bool(uni.z <= unimodal_z and interior), uni.z,
        f"<= {unimodal_z:g} SE, argmax inside the grid",
        (f"worst violation between sigma={sigma[uni.where[0]]:.4g} and "
         f"sigma={sigma[uni.where[1]]:.4g}; " if uni.z > 0 else "no violation; ")
        + f"argmax at sigma={sigma[uni.argmax]:.4g}"
        + ("" if interior else " (on the grid edge)"),
    ))

    claims.append(Claim(
        "theory-unimodal", bool(peak_theory.interior and peak_theory.n_local_max == 1),
        float(peak_theory.n_local_max), "exactly 1 interior local maximum",
        "interior peak" if peak_theory.interior else
        "the approximation decreases from sigma -> 0: no interior peak",
    ))

    if peak_theory.interior and peak_simulated.interior:
        ratio = peak_simulated.sigma / peak_theory.sigma
        se = peak_simulated.stderr / peak_theory.sigma
        slack = 3 * se if math.isfinite(se) else 0.0
        holds = abs(ratio - 1) - slack <= peak_tol
        detail = f"simulated {peak_simulated.sigma:.4g} +- {peak_simulated.stderr:.2g}, " \
                 f"theory {peak_theory.sigma:.4g}"
    else:
        ratio, holds = math.nan, not peak_theory.interior and not peak_simulated.interior
        detail = "no interior peak in " + ", ".join(
            name for name, p in (("theory", peak_theory.interior),
                                 ("simulation", peak_simulated.interior)) if not p)
    claims.append(Claim("peak-location", bool(holds), ratio, f"|ratio - 1| <= {peak_tol:g}",
                        detail))

    centre = peak_simulated.sigma
    window = (sigma >= centre / 2) & (sigma <= centre * 2)
    if not window.any():
        window = np.zeros_like(sigma, dtype=bool)
        window[int(np.argmax(simulated))] = True
    rel = np.abs(theory[window] / simulated[window] - 1)
    excess = np.abs(theory[window] - simulated[window]) - 3 * stderr[window]
    holds_approx = bool(np.all(excess <= approx_tol * simulated[window]))
    j = int(np.argmax(rel))
    claims.append(Claim(
        "approx-near-peak", holds_approx, float(rel[j]), f"<= {approx_tol:g} relative",
        f"worst at sigma={sigma[window][j]:.4g}: theory {theory[window][j]:.4g} vs "
        f"simulated {simulated[window][j]:.4g}",
    ))
    return claims


# ---------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------
def default_grid(K: int, d: int, delta: float, inputs: Sequence[str]) -> tuple[float, float]:
    """``(sigma_min, sigma_max)`` bracketing the theory peaks comfortably."""
    peaks = [molrg.peak(K, d, delta, mode).sigma for mode in inputs]
    interior = [p for p in peaks if p > 0] or [delta]
    centre = math.exp(float(np.mean(np.log(interior))))
    return centre / GRID_HALF_WIDTH, centre * GRID_HALF_WIDTH


def run(
    *,
    K: int = DEFAULTS["K"],
    d: int = DEFAULTS["d"],
    n: int = DEFAULTS["n"],
    delta: float = DEFAULTS["delta"],
    inputs: Sequence[str] = ("noisy", "clean"),
    estimand: str = "ratio-of-means",
    samples: int = DEFAULTS["samples"],
    seed: int = DEFAULTS["seed"],
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    num_sigma: int = DEFAULTS["num_sigma"],
    backend: str = "numpy",
    method: str = "auto",
    dtype: str = "float64",
    peak_tol: float = DEFAULTS["peak_tol"],
    approx_tol: float = DEFAULTS["approx_tol"],
    unimodal_z: float = DEFAULTS["unimodal_z"],
    replicates: int = DEFAULTS["replicates"],
    progress: bool = False,
) -> Theorem1Result:
    """Run the Theorem-1 check; see the module docstring for the claims."""
    start = time.perf_counter()
    if not inputs:
        raise ValueError("inputs is empty; valid: a non-empty subset of 'noisy', 'clean'")
    for mode in inputs:
        check_choice("input", mode, molrg.theory.INPUTS)
    model = molrg.MoLRG(K, d, n, delta, seed=seed)
    sigma = _grid(model, inputs, sigma_min, sigma_max, num_sigma)
    options: dict[str, Any] = {"backend": backend, "method": method, "dtype": dtype}
    modes = {}
    for mode in inputs:
        sim = molrg.snr(model, sigma, input=mode, estimand=estimand, samples=samples, seed=seed,
                        progress=report.Progress(f"{mode}: grid", enabled=progress), **options)
        theory = np.asarray(molrg.approx_snr(sigma, K, d, delta, mode))
        peak_theory = molrg.peak(K, d, delta, mode)
        peak_sim = simulated_peak(
            model, sigma, sim.estimate, input=mode, estimand=estimand, samples=samples,
            seed=seed + 1, replicates=replicates,
            progress=report.Progress(f"{mode}: refine peak", enabled=progress), **options)
        resolved_method = sim.options["method"]
        claims = evaluate_claims(sigma, sim.estimate, sim.stderr, theory,
                                 peak_simulated=peak_sim, peak_theory=peak_theory,
                                 peak_tol=peak_tol, approx_tol=approx_tol, unimodal_z=unimodal_z)
        modes[mode] = ModeResult(
            input=mode, sigma=sigma, snr_simulated=sim.estimate, snr_stderr=sim.stderr,
            snr_theory=theory, peak_sigma_simulated=peak_sim.sigma,
            peak_sigma_simulated_stderr=peak_sim.stderr, peak_snr_simulated=peak_sim.snr,
            peak_sigma_theory=peak_theory.sigma, peak_snr_theory=peak_theory.snr,
            limits_theory=molrg.limits(K, d, delta, mode), claims=claims,
        )
    params = {"K": K, "d": d, "n": n, "delta": delta, "samples": samples, "seed": seed,
              "backend": backend, "estimand": estimand, "method": resolved_method,
              "dtype": dtype, "sigma_min": float(sigma[0]), "sigma_max": float(sigma[-1]),
              "num_sigma": int(sigma.size), "peak_tol": peak_tol, "approx_tol": approx_tol,
              "unimodal_z": unimodal_z, "replicates": replicates}
    return Theorem1Result(params, modes, time.perf_counter() - start)


def _grid(model: molrg.MoLRG, inputs: Sequence[str], sigma_min: float | None,
          sigma_max: float | None, num: int) -> np.ndarray:
    lo, hi = default_grid(model.K, model.d, model.delta, inputs)
    lo = lo if sigma_min is None else check_real("sigma_min", sigma_min, low=0.0)
    hi = hi if sigma_max is None else check_real("sigma_max", sigma_max, low=0.0)
    if hi <= lo:
        raise ValueError(f"sigma_max={hi!r} must exceed sigma_min={lo!r}")
    num = check_int("num_sigma", num, low=5)
    return np.exp(np.linspace(math.log(lo), math.log(hi), num))


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``theorem1``'s options."""
    m = parser.add_argument_group("model (defaults: the paper's Fig. 3 setting)")
    m.add_argument("--K", type=int, default=DEFAULTS["K"], help="number of classes (>= 2)")
    m.add_argument("--d", type=int, default=DEFAULTS["d"], help="subspace dimension (>= 1)")
    m.add_argument("--n", type=int, default=DEFAULTS["n"], help="ambient dimension (>= K*d)")
    m.add_argument("--delta", type=float, default=DEFAULTS["delta"],
                   help="detail-noise level in (0, 1)")
    s = parser.add_argument_group("simulation")
    s.add_argument("--input", choices=("noisy", "clean", "both"), default="both",
                   help="denoiser input: x_t (noisy), x0 (clean), or both (default)")
    s.add_argument("--estimand", choices=ESTIMANDS,
                   default="ratio-of-means", help="SNR estimand (default: ratio-of-means)")
    s.add_argument("--samples", type=int, default=DEFAULTS["samples"],
                   help="Monte Carlo samples per sigma (default: %(default)s)")
    s.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed")
    s.add_argument("--sigma-min", type=float, default=None,
                   help="smallest sigma of the log grid (default: theory peak / 30)")
    s.add_argument("--sigma-max", type=float, default=None,
                   help="largest sigma of the log grid (default: theory peak * 30)")
    s.add_argument("--num-sigma", type=int, default=DEFAULTS["num_sigma"],
                   help="grid points (default: %(default)s)")
    s.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    s.add_argument("--method", choices=("auto", "ambient", "reduced"), default="auto",
                   help="simulator: reduced (exact, fast) or ambient (full R^n)")
    s.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    s.add_argument("--replicates", type=int, default=DEFAULTS["replicates"],
                   help="independent replicate curves for the peak's standard error")
    c = parser.add_argument_group("claims")
    c.add_argument("--peak-tol", type=float, default=DEFAULTS["peak_tol"],
                   help="allowed |sigma*_sim / sigma*_theory - 1| (default: %(default)s)")
    c.add_argument("--approx-tol", type=float, default=DEFAULTS["approx_tol"],
                   help="allowed relative error of the approximation near the peak")
    c.add_argument("--unimodal-z", type=float, default=DEFAULTS["unimodal_z"],
                   help="allowed unimodality violation in standard errors")
    o = parser.add_argument_group("output")
    o.add_argument("--json", metavar="PATH", help="write the results as JSON")
    o.add_argument("--plot", metavar="PATH", help="save a PNG figure")
    o.add_argument("--quiet", action="store_true",
                   help="no progress bar and no per-sigma table (claims and summary only)")


def main(args: argparse.Namespace) -> int:
    """CLI glue: run, print, write JSON and plot; exit 0 if every verdict holds, else 1."""
    inputs = ("noisy", "clean") if args.input == "both" else (args.input,)
    for name in ("peak_tol", "approx_tol", "unimodal_z"):
        check_real(name.replace("_", "-"), getattr(args, name), low=0.0)
    result = run(K=args.K, d=args.d, n=args.n, delta=args.delta, inputs=inputs,
                 estimand=args.estimand, samples=args.samples, seed=args.seed,
                 sigma_min=args.sigma_min, sigma_max=args.sigma_max, num_sigma=args.num_sigma,
                 backend=args.backend, method=args.method, dtype=args.dtype,
                 peak_tol=args.peak_tol, approx_tol=args.approx_tol,
                 unimodal_z=args.unimodal_z, replicates=args.replicates,
                 progress=not args.quiet)
    print(render(result, table=not args.quiet))
    if args.json:
        report.write_json(args.json, result.to_json())
    if args.plot:
        plot(result, args.plot)
    return 0 if result.holds else 1


def render(result: Theorem1Result, *, table: bool = True) -> str:
    """Human-readable report: per-sigma table (optional), claims, one summary line per mode."""
    p = result.params
    out = [f"Theorem 1 check: K={p['K']} d={p['d']} n={p['n']} delta={p['delta']:g}  "
           f"estimand={p['estimand']} method={p['method']} samples={p['samples']} "
           f"seed={p['seed']} ({result.elapsed_s:.1f} s)"]
    for mode, r in result.modes.items():
        out.append(f"\n== input: {mode} ==")
        if table:
            rows = [(s, y, e, t, t / y) for s, y, e, t in
                    zip(r.sigma, r.snr_simulated, r.snr_stderr, r.snr_theory, strict=True)]
            out.append(report.format_table(
                ["sigma", "SNR simulated", "stderr", "SNR theory", "theory/sim"], rows))
            out.append("")
        out.append(report.format_table(
            ["claim", "holds", "measured", "tolerance", "detail"],
            [(c.name, c.holds, c.measured, c.tolerance, c.detail) for c in r.claims]))
        out.append(
            f"{mode}: verdict {r.verdict.upper()} | peak sigma simulated "
            f"{r.peak_sigma_simulated:.4g} +- {r.peak_sigma_simulated_stderr:.2g}, theory "
            f"{r.peak_sigma_theory:.4g} (ratio {r.peak_ratio:.3f}) | peak SNR simulated "
            f"{r.peak_snr_simulated:.4g}, theory {r.peak_snr_theory:.4g}")
    return "\n".join(out)


def plot(result: Theorem1Result, path: str) -> None:
    """One panel per mode: simulated SNR with a 2-SE band, theory curve, both peaks."""
    fig, axes = report.new_figure(len(result.modes))
    p = result.params
    for ax, (mode, r) in zip(axes, result.modes.items(), strict=True):
        dense = np.exp(np.linspace(np.log(r.sigma[0]), np.log(r.sigma[-1]), 400))
        theory = np.asarray(molrg.approx_snr(dense, p["K"], p["d"], p["delta"], mode))
        ax.fill_between(r.sigma, r.snr_simulated - 2 * r.snr_stderr,
                        r.snr_simulated + 2 * r.snr_stderr, color="C0", alpha=0.3,
                        label="simulated +- 2 SE")
        ax.plot(r.sigma, r.snr_simulated, "o-", color="C0", ms=3, label="simulated (optimal denoiser)")
        ax.plot(dense, theory, "-", color="C3", label="Theorem 1 approximation")
        ax.axvline(r.peak_sigma_simulated, color="C0", ls="--",
                   label=f"simulated peak {r.peak_sigma_simulated:.3g}")
        if r.peak_sigma_theory > 0:
            ax.axvline(r.peak_sigma_theory, color="C3", ls=":",
                       label=f"theory peak {r.peak_sigma_theory:.3g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        report.plain_log_ticks(ax.yaxis)
        ax.set_xlabel("noise level sigma")
        ax.set_ylabel(f"SNR ({p['estimand']})")
        ax.set_title(f"{mode} input: K={p['K']} d={p['d']} n={p['n']} delta={p['delta']:g} "
                     f"-> {r.verdict}")
        ax.legend(fontsize=8)
    report.save_figure(fig, path)
